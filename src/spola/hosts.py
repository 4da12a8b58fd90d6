"""Where spola may send a request or fetch a document: ``--allow-host`` and metadata addresses.

A leaf module (no spola imports besides ``errors``), used by the model's fetcher and the drivers.

- Only ``http`` and ``https`` are ever requested.
- With no ``--allow-host``, any host is allowed except link-local and cloud metadata addresses
  (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, ``metadata.google.internal``, …),
  by name or by what a name resolves to.
- With ``--allow-host PATTERN`` (repeatable; shell-style ``*`` wildcards, an optional ``:port``),
  only matching hosts are allowed. A metadata address is allowed only when a pattern *names* it
  (no wildcard).
"""

from __future__ import annotations

import ipaddress
from fnmatch import fnmatchcase
from functools import lru_cache
from urllib.parse import urlsplit

from msgspec import Struct

from spola.errors import UsageError

SCHEMES = frozenset({"http", "https"})

METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
"""Host names of cloud instance-metadata services."""

_METADATA_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # IPv4 link-local: AWS, GCP, Azure, OpenStack metadata at .169.254
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS IMDS over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
    )
)


class HostRefused(UsageError):
    """A request or fetch would go to a host the policy does not allow (exit 2)."""


def is_metadata_address(host: str) -> bool:
    """Whether a host name or IP literal is link-local or a known cloud metadata service."""
    name = host.strip("[]").rstrip(".").lower()
    if name in METADATA_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _METADATA_NETWORKS)


class HostPolicy(Struct, frozen=True):
    """The ``--allow-host`` patterns of a run (empty: any host but metadata addresses)."""

    patterns: tuple[str, ...] = ()

    def check_url(self, url: str) -> None:
        """Raise ``HostRefused`` unless ``url`` may be requested.

        Raises:
            HostRefused: not http(s), a host no pattern allows, or a metadata address not named.
        """
        last = _last_allowed  # (one read: the pair is replaced whole, never changed)
        if last[0] is self.patterns and last[1] == url:
            return  # the URL allowed last, by the same patterns (a poll's, and its first hop)
        scheme, sep, rest = url.partition("://")
        netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0] if sep else ""
        refusal = _url_verdict(self.patterns, scheme.lower() if sep else url[:16], netloc)
        if refusal is not None:
            raise HostRefused(refusal)
        _remember_allowed((self.patterns, url))

    def check_host(self, host: str, port: int | None = None) -> None:
        """Raise ``HostRefused`` unless ``host`` (a name or IP, as written) may be requested."""
        refusal = _verdict(self.patterns, host.lower(), port)
        if refusal is not None:
            raise HostRefused(refusal)

    def check_address(self, name: str, address: str, port: int | None = None) -> None:
        """Raise ``HostRefused`` when ``name`` resolved to a metadata address nobody named."""
        if is_metadata_address(address) and not (
            self._named(name.lower(), port) or self._named(address.lower(), port)
        ):
            raise HostRefused(
                f"{name} resolves to {address}, a link-local or cloud metadata address; spola never "
                "sends to one unless it is named with --allow-host"
            )

    def allows(self, host: str, port: int | None = None) -> bool:
        """Whether some pattern matches ``host`` (and its port, when the pattern has one)."""
        return any(_match(pattern, host, port) for pattern in self.patterns)

    def _named(self, host: str, port: int | None) -> bool:
        return any("*" not in p and "?" not in p and _match(p, host, port) for p in self.patterns)


_last_allowed: tuple[tuple[str, ...] | None, str] = (None, "")
"""The URL `HostPolicy.check_url` allowed last and the patterns that allowed it."""


def _remember_allowed(pair: tuple[tuple[str, ...], str]) -> None:
    global _last_allowed  # noqa: PLW0603 - one reference, swapped whole (threads read it once)
    _last_allowed = pair


@lru_cache(maxsize=1024)
def _url_verdict(patterns: tuple[str, ...], scheme: str, netloc: str) -> str | None:
    """Why a URL with this scheme and authority may not be requested, or None (cached)."""
    url = f"{scheme}://{netloc}/"
    if scheme not in SCHEMES:
        return f"'{_safe(url) if netloc else scheme}' is not an http(s) URL; spola requests nothing else"
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return f"'{_safe(url)}' has an invalid port"
    return _verdict(patterns, (parts.hostname or "").lower(), port)


@lru_cache(maxsize=1024)
def _verdict(patterns: tuple[str, ...], host: str, port: int | None) -> str | None:
    """Why ``host`` may not be requested under ``patterns``, or None (cached: the hot path)."""
    host = host.strip("[]").rstrip(".")
    if not host:
        return "a URL without a host"
    policy = HostPolicy(patterns)
    if is_metadata_address(host):
        if not policy._named(host, port):
            return (
                f"{host} is a link-local or cloud metadata address; spola never sends to one "
                "unless it is named with --allow-host"
            )
        return None
    if patterns and not policy.allows(host, port):
        return f"{host} is not allowed by --allow-host ({', '.join(patterns)})"
    return None


def _match(pattern: str, host: str, port: int | None) -> bool:
    pattern = pattern.strip().lower()
    pattern_port: str | None = None
    if pattern.startswith("["):
        inner, _, rest = pattern[1:].partition("]")
        pattern, pattern_port = inner, rest[1:] or None
    elif pattern.count(":") == 1:
        pattern, pattern_port = pattern.split(":")
    if pattern_port is not None and (port is None or pattern_port != str(port)):
        return False
    return fnmatchcase(host, pattern)


def _safe(url: str) -> str:
    """The URL without userinfo (it may hold a password)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl()


def parse_patterns(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate ``--allow-host`` values.

    Raises:
        UsageError: an empty pattern or one with a scheme or path.
    """
    out: list[str] = []
    for value in values:
        text = value.strip()
        if not text or "/" in text or "@" in text:
            raise UsageError(
                f"--allow-host '{value}' is not a host pattern",
                hint="Give a host name or IP, with optional * wildcards and :port, e.g. *.example.com:443.",
            )
        out.append(text)
    return tuple(out)
