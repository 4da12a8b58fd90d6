"""Keep secrets out of everything spola shows or stores.

A `Redactor` knows a set of secret values — secret by their role (`spola.model.roles`): ``--auth``
values, inputs the document declares secret or uses as credentials, tokens spola fetched, a request's
own `HttpRequest.secrets` — and replaces every occurrence of them, and of their URL-encoded,
JSON-escaped and base64 (basic-auth) forms, with `REDACTED`. Credential headers (`is_credential_header`)
are withheld whatever their value; URL userinfo passwords too. Nothing is withheld for what it is
*called*: an ``idempotency_token`` stays readable.

Secrets shorter than `MIN_SECRET_LENGTH` characters are not searched for inside longer text (that
would shred it), but a text or value exactly equal to one is still redacted.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from msgspec import Struct
from msgspec.structs import force_setattr

from spola.structs import ComparedOn

__all__ = [
    "ALWAYS_REDACTED_HEADERS",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "Redactor",
    "is_credential_header",
    "secret_values",
]

REDACTED = "***"
"""The marker that replaces a secret: ASCII and safe unencoded in URLs, headers and JSON."""

MIN_SECRET_LENGTH = 4
"""Secrets shorter than this are only redacted where a whole value equals them."""

ALWAYS_REDACTED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    }
)
"""Header names (lower case) whose values are always withheld."""

_AUTH_SCHEMES = ("bearer ", "basic ", "token ", "digest ")

# API-key headers by their well-known shape: a header's role is its name (X-API-Key, X-Auth-Token,
# Private-Token carry a credential wherever they are sent). Compared lower case without separators.
_KEY_HEADER_ENDINGS = ("token", "apikey", "secret", "password", "accesskey", "authkey", "sessionid")
_SEPARATORS = re.compile(r"[-_.\s]")


@functools.lru_cache(maxsize=4096)
def is_credential_header(name: str) -> bool:
    """Whether a header of this name carries a credential: Authorization, Proxy-Authorization,
    Cookie, Set-Cookie, or an API-key header (``X-API-Key``, ``Api-Key``, ``X-Auth-Token``, …).
    Cached: the same header names come back with every response."""
    lowered = name.lower()
    if lowered in ALWAYS_REDACTED_HEADERS:
        return True
    return _SEPARATORS.sub("", lowered).endswith(_KEY_HEADER_ENDINGS)


def secret_values(inputs: Mapping[str, Any], names: Iterable[str]) -> set[str]:
    """The string forms of the values of the named inputs (deeply), to feed a `Redactor`."""
    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                collect(item)
        elif isinstance(value, list | tuple):
            for item in value:
                collect(item)
        elif isinstance(value, str):
            found.add(value)
        elif value is not None and not isinstance(value, bool):
            found.add(str(value))

    for name in names:
        if name in inputs:
            collect(inputs[name])
    return found


def _expand(secret: str) -> set[str]:
    """The secret plus its parts that are secret alone: ``user:pass`` → pass, ``Bearer x`` → x."""
    out = {secret}
    lowered = secret.lower()
    for scheme in _AUTH_SCHEMES:
        if lowered.startswith(scheme):
            out.add(secret[len(scheme) :].strip())
    if ":" in secret:
        out.add(secret.split(":", 1)[1])
    return {value for value in out if value}


def _base64_fragments(secret: str) -> set[str]:
    """Base64 text that appears wherever ``secret`` is base64-encoded inside longer text, at any alignment."""
    raw = secret.encode()
    out = {base64.b64encode(raw).decode()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        start = 4 * ((shift + 2) // 3)  # skip the characters that mix in the padding prefix
        end = 4 * ((shift + len(raw)) // 3)  # keep only characters made of whole input triples
        fragment = encoded[start:end]
        if len(fragment) >= 8:
            out.add(fragment)
    return out


def _forms(secret: str) -> set[str]:
    """Every textual form in which a secret may show up in a request, a URL or a body."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1]}
    forms |= _base64_fragments(secret)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor(ComparedOn, Struct, frozen=True, eq=False, gc=False):
    """Replaces known secret values, and values under credential-like names, with `REDACTED`.

    Build it with `Redactor.of`; it is immutable and safe to share between threads.
    """

    secrets: frozenset[str] = frozenset()
    _text: re.Pattern[str] | None = None  # set by __post_init__, never passed
    _bytes: re.Pattern[bytes] | None = None  # set by __post_init__, never passed

    # equal and hashed by ``secrets`` alone (the patterns follow from them)
    _COMPARED = ("secrets",)

    def __post_init__(self) -> None:
        forms: set[str] = set()
        for secret in self.secrets:
            forms |= _forms(secret)
        text: re.Pattern[str] | None = None
        data: re.Pattern[bytes] | None = None
        if forms:
            ordered = sorted(forms, key=lambda form: (-len(form), form))
            text = re.compile("|".join(re.escape(form) for form in ordered))
            data = re.compile(b"|".join(re.escape(form.encode()) for form in ordered))
        force_setattr(self, "_text", text)
        force_setattr(self, "_bytes", data)

    def __repr__(self) -> str:  # the secret values never appear in a repr
        return f"Redactor(<{len(self.secrets)} secrets>)"

    @classmethod
    def of(cls, *groups: Iterable[str]) -> Redactor:
        """A redactor for these secret values (``user:pass`` and ``Bearer x`` also protect their parts)."""
        secrets: set[str] = set()
        for group in groups:
            for secret in group:
                if secret:
                    secrets |= _expand(secret)
        if not secrets and cls is Redactor:
            return _NO_SECRETS  # the common case, shared (a run with no secrets makes no redactor)
        return cls(frozenset(secrets))

    def with_secrets(self, *groups: Iterable[str]) -> Redactor:
        """A redactor knowing these secrets too (e.g. a request's own `HttpRequest.secrets`)."""
        if len(groups) == 1 and not groups[0]:  # a request with no secrets of its own: the common case
            return self
        extra = [secret for group in groups for secret in group if secret]
        if not extra or set(extra) <= self.secrets:
            return self
        return Redactor.of(self.secrets, extra)

    def redact_text(self, text: str) -> str:
        """``text`` with every occurrence of every secret (in any known encoding) replaced."""
        if text in self.secrets:
            return REDACTED
        if self._text is None:
            return text
        return self._text.sub(REDACTED, text)

    def redact_bytes(self, data: bytes) -> bytes:
        """Like `redact_text`, on raw bytes (a UTF-8 body)."""
        if self._bytes is None:
            return data
        return self._bytes.sub(REDACTED.encode(), data)

    def __hash__(self) -> int:  # ComparedOn's, without a tuple: URLs are redacted through a cache
        return hash(self.secrets)

    def redact_value(self, value: Any) -> Any:
        """A deep copy of a JSON-like value with every known secret replaced."""
        kind = type(value)  # JSON's own types first, by exact type (an ABC check costs more)
        if kind is dict:
            return {key: self.redact_value(item) for key, item in value.items()}
        if kind is str:
            return self.redact_text(value)
        if value is None or kind is bool:
            return value
        if (kind is int or kind is float) and not self.secrets:
            return value
        if kind is list:
            return [self.redact_value(item) for item in value]
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {key: self.redact_value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.redact_value(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.redact_value(item) for item in value)
        if isinstance(value, int | float) and not isinstance(value, bool) and str(value) in self.secrets:
            return REDACTED
        return value

    def redact_headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Headers with credential headers withheld and secrets removed from the others."""
        out: list[tuple[str, str]] = []
        for name, value in pairs:
            if is_credential_header(name):
                out.append((name, REDACTED))
            else:
                out.append((name, self.redact_text(value)))
        return out

    def redact_url(self, url: str) -> str:
        """A URL with its userinfo password and any secret value withheld."""
        return _redact_url(self, url)

    def _redact_url(self, url: str) -> str:
        head, hash_mark, fragment = url.partition("#")
        base, question, query = head.partition("?")
        scheme, sep, rest = base.partition("://")
        if sep:
            authority, slash, path = rest.partition("/")
            base = f"{scheme}://{_redact_userinfo(authority)}{slash}"
            base += "/".join(self._redact_component(segment) for segment in path.split("/"))
        if question:
            parts = []
            for part in query.split("&"):
                name, equals, value = part.partition("=")
                if equals:
                    parts.append(f"{name}={self._redact_component(value)}")
                else:
                    parts.append(part)
            query = "&".join(parts)
        return self.redact_text(base + question + query + hash_mark + fragment)

    def _redact_component(self, raw: str) -> str:
        """A URL path segment or query value, withheld whole if its decoded form holds a secret."""
        decoded = unquote_plus(raw)
        return REDACTED if decoded != raw and self.redact_text(decoded) != decoded else raw

    def redact_inputs(self, inputs: Mapping[str, Any], secret_names: Iterable[str]) -> dict[str, Any]:
        """Workflow inputs with the named ones withheld and secrets removed from the rest."""
        withheld = set(secret_names)
        return {
            name: REDACTED if name in withheld else self.redact_value(value) for name, value in inputs.items()
        }


_NO_SECRETS = Redactor()
"""The redactor of no secrets, shared by every run that has none."""


@functools.lru_cache(maxsize=4096)
def _redact_url(redactor: Redactor, url: str) -> str:
    """Cached: a poll loop shows the same URL over and over."""
    return redactor._redact_url(url)


def _redact_userinfo(authority: str) -> str:
    """``user:pass@host`` → ``user:***@host``."""
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return authority
    return f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}"
