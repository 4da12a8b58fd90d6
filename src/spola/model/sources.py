"""Reading source descriptions: local paths, ``file:`` URLs, and http(s) only when remote is allowed.

One ``Fetcher`` serves one load: every file is read and parsed once, whoever asks for it (the
Arazzo document, its sources, the files their ``$ref``s name).
"""

from __future__ import annotations

import os
import socket
import stat
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from msgspec import Struct

from spola.hosts import HostPolicy, HostRefused
from spola.limits import DEFAULT_LOAD_LIMITS, LoadLimits
from spola.model.reader import Parsed, parse_text
from spola.model.refs import RefError

if TYPE_CHECKING:
    import urllib.request

    from spola.model.openapi import OpenApiDescription
    from spola.model.source_description import SourceDescription

REMOTE_TIMEOUT = 30.0


class SourceError(Exception):
    """A document cannot be read; ``hint`` says what to try."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Source(Struct, frozen=True):
    """What was loaded for a source description.

    ``type`` is the declared type, or the one detected from the content; ``location`` the absolute URI
    it was read from; ``file`` the same for people (a path for local files). ``openapi`` is set for
    OpenAPI sources; ``raw`` holds the parsed tree (for AsyncAPI sources, which spola does not run yet).
    """

    description: SourceDescription
    type: str
    location: str
    file: str
    openapi: OpenApiDescription | None = None
    raw: Any = None


def path_to_uri(path: str | Path) -> str:
    """An absolute ``file:`` URI for a local path."""
    return Path(path).resolve().as_uri()


def file_path(uri: str) -> Path:
    """The local path of a ``file:`` URI: ``urllib.request.url2pathname`` of its path, which on POSIX
    is ``unquote`` (``urllib.request`` itself imports http.client, email and ssl: ~20 ms of start-up
    that only remote sources need)."""
    if os.name == "nt":  # pragma: no cover - what url2pathname is on Windows
        from nturl2path import url2pathname

        return Path(url2pathname(urlsplit(uri).path))
    return Path(unquote(urlsplit(uri).path))


def uri_to_display(uri: str) -> str:
    """A path for ``file:`` URIs (relative to the working directory when shorter), else the URI itself."""
    if not uri.startswith("file:"):
        return uri
    path = file_path(uri)
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative)


def detect_type(tree: Any) -> str | None:
    """``openapi`` / ``swagger`` / ``asyncapi`` / ``arazzo`` from a document's root, or None."""
    if isinstance(tree, dict):
        for key in ("arazzo", "openapi", "asyncapi", "swagger"):
            if key in tree:
                return key
    return None


class Fetcher:
    """Reads and parses documents by URI, once each; refuses the network unless allowed."""

    def __init__(
        self,
        *,
        allow_remote: bool = False,
        limits: LoadLimits = DEFAULT_LOAD_LIMITS,
        hosts: HostPolicy | None = None,
    ) -> None:
        self.allow_remote = allow_remote
        self.limits = limits
        self.hosts = hosts or HostPolicy()
        self._texts: dict[str, str] = {}
        self._parsed: dict[tuple[str, bool], Parsed] = {}

    def text(self, uri: str) -> str:
        """The text of a document.

        Raises:
            SourceError: unreadable, not UTF-8, remote while remote is not allowed, or an unknown scheme.
        """
        if uri in self._texts:
            return self._texts[uri]
        scheme = urlsplit(uri).scheme.lower()
        if scheme == "file":
            text = self._read_file(file_path(uri))
        elif scheme in ("http", "https"):
            text = self._read_remote(uri)
        else:
            raise SourceError(f"cannot read '{uri}': unsupported URL scheme '{scheme or '(none)'}'")
        self._texts[uri] = text
        return text

    def parsed(self, uri: str, *, positions: bool = False) -> Parsed:
        """The parsed document (findings inside for syntax errors).

        Raises:
            SourceError: the document cannot be read at all.
        """
        key = (uri, positions)
        if key not in self._parsed:
            text, display = self.text(uri), uri_to_display(uri)
            if positions:
                self._parsed[key] = parse_text(text, display, positions=True, limits=self.limits)
            else:
                self._parsed[key] = _parse_cached(text, display, self.limits)
        return self._parsed[key]

    def tree(self, uri: str) -> Any:
        """The parsed tree, for ``$ref`` resolution.

        Raises:
            RefError: the document cannot be read or parsed.
        """
        try:
            parsed = self.parsed(uri)
        except SourceError as exc:
            raise RefError(exc.message) from exc
        if not parsed.ok:
            raise RefError(f"{uri_to_display(uri)} is not valid YAML/JSON: {parsed.findings[0].message}")
        return parsed.data

    def _read_file(self, path: Path) -> str:
        limit = self.limits.max_bytes
        try:
            if path.exists() and not path.is_dir() and not stat.S_ISREG(path.stat().st_mode):
                raise SourceError(f"{path} is not a regular file; spola reads documents only from files")
            with path.open("rb") as handle:
                info = os_fstat(handle)
                if not stat.S_ISREG(info.st_mode):
                    raise SourceError(f"{path} is not a regular file; spola reads documents only from files")
                if info.st_size > limit:
                    raise SourceError(_too_big(str(path), info.st_size, limit))
                data = handle.read(limit + 1)
        except FileNotFoundError as exc:
            raise SourceError(f"file not found: {path}") from exc
        except IsADirectoryError as exc:
            raise SourceError(f"is a directory, not a file: {path}") from exc
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if len(data) > limit:
            raise SourceError(_too_big(str(path), None, limit))
        return _decode(data, str(path))

    def _read_remote(self, uri: str) -> str:
        if not self.allow_remote:
            raise SourceError(
                f"'{uri}' is remote and remote sources are not allowed",
                hint="pass --allow-remote to fetch it, or download it and point the url at the file",
            )
        import urllib.request  # only here: remote sources (start-up)

        limit = self.limits.max_bytes
        accept = {"Accept": "application/yaml, application/json, */*"}
        request = urllib.request.Request(uri, headers=accept)  # noqa: S310 - the scheme is http(s) here
        try:
            _check_remote(self.hosts, uri)
            with _open(request, self.hosts) as response:
                data = response.read(limit + 1)
        except HostRefused as exc:
            raise SourceError(f"will not fetch '{uri}': {exc.message}") from exc
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None)
            if isinstance(reason, HostRefused):
                raise SourceError(f"will not fetch '{uri}': {reason.message}") from exc
            raise SourceError(f"cannot fetch '{uri}': {exc}") from exc
        if len(data) > limit:
            raise SourceError(_too_big(f"'{uri}'", None, limit))
        return _decode(data, uri)


def _open(request: urllib.request.Request, hosts: HostPolicy) -> Any:
    """Open a remote document, following only redirects the host policy allows."""
    import urllib.request

    class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
        """Follows a redirect only to a URL the host policy allows."""

        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            _check_remote(hosts, newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(_CheckedRedirects())
    return opener.open(request, timeout=REMOTE_TIMEOUT)


def os_fstat(handle: Any) -> Any:
    """``os.fstat`` of an open file (a function so the check reads the file actually opened)."""
    return os.fstat(handle.fileno())


def _too_big(what: str, size: int | None, limit: int) -> str:
    told = f" ({size:,} bytes)" if size is not None else ""
    return f"{what} is larger than {limit:,} bytes{told}; raise --max-document-bytes to read it"


def _check_remote(hosts: HostPolicy, uri: str) -> None:
    """The host policy for a fetch: the URL, then every address its host name resolves to."""
    hosts.check_url(uri)
    parts = urlsplit(uri)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or None, proto=socket.IPPROTO_TCP)
    except OSError:
        return  # the fetch itself reports it
    for info in infos:
        hosts.check_address(host, str(info[4][0]), parts.port)


_PARSED: OrderedDict[tuple[str, str, tuple[int, int, int]], Parsed] = OrderedDict()
_PARSED_MAX = 32


def _parse_cached(text: str, display: str, limits: LoadLimits) -> Parsed:
    """Parse, remembering the last few results by content: a process often loads the same big
    OpenAPI files again (tests, several workflows of one API). The trees are shared: never mutate them."""
    key = (display, text, limits.key())
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = parse_text(text, display, positions=False, limits=limits)
        _PARSED[key] = parsed
        if len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    else:
        _PARSED.move_to_end(key)
    return parsed


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{where} is not UTF-8 text (byte {exc.start})") from exc
