"""HTTP request and response as plain data: the core's only HTTP vocabulary."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field


def first_header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    """The first value of a header (names compared case-insensitively), or None."""
    lower = name.lower()
    for key, value in headers:
        if key.lower() == lower:
            return value
    return None


class TokenGrant(Struct, frozen=True):
    """An OAuth2 client-credentials grant the driver exchanges for a bearer token at send time.

    The engine stays deterministic and never sees the token: the driver fetches (and caches) it
    and adds ``Authorization: Bearer <token>`` to the request.
    """

    token_url: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # the secret never in a repr
        return (
            f"TokenGrant(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"client_secret=<redacted>, scopes={self.scopes!r})"
        )


class HttpRequest(Struct, frozen=True, gc=False):
    """A fully built request: what a driver sends, byte for byte.

    ``headers`` is a list of (name, value) pairs in order; ``body`` is the encoded body or None.
    ``path_params`` and ``query_params`` keep the evaluated parameter values so `$request.*`
    expressions can read them; ``body_value`` keeps the body before encoding (for
    `$request.body#/ptr`). ``secrets`` lists values that must be redacted wherever this request
    is shown or stored. ``grants`` are OAuth2 tokens the driver must fetch and add.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    path_params: dict[str, Any] = field(default_factory=dict)
    query_params: dict[str, Any] = field(default_factory=dict)
    body_value: Any = None
    secrets: frozenset[str] = frozenset()
    grants: tuple[TokenGrant, ...] = ()

    def header(self, name: str) -> str | None:
        """The first header with this name (case-insensitive), or None."""
        return first_header(self.headers, name)


class HttpResponse(Struct, frozen=True, gc=False):
    """A response as received: status, headers (name, value) pairs, raw body bytes.

    ``error`` is set instead of a status when the transport failed (refused, reset, timeout):
    then ``status`` is None and the step sees ``$statusCode`` as null.
    ``elapsed`` is the time the exchange took, in seconds, measured by the driver.
    ``error`` with a status means the response was received but not whole (larger than the
    response size limit: ``body`` is its truncated start), and the step fails.
    """

    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    error: str | None = None
    elapsed: float = 0.0
    secrets: tuple[str, ...] = ()
    """Secret values the driver added while sending (an OAuth2 access token it fetched): the run
    redacts them from then on. Never serialized (journal, Temporal history)."""

    def header(self, name: str) -> str | None:
        """The first header with this name (case-insensitive), or None."""
        return first_header(self.headers, name)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' when absent)."""
        value = first_header(self.headers, "content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    @property
    def unsent(self) -> bool:
        """A transport failure before any byte of the request left (cannot connect, no token).

        Judged from the error text, which the journal keeps, so a replay decides the same.
        """
        return self.status is None and self.error is not None and self.error.startswith(UNSENT_PREFIXES)

    @property
    def refused(self) -> bool:
        """spola itself refused to send the request (a host limit): never worth a retry."""
        return self.status is None and self.error is not None and self.error.startswith(REFUSED_PREFIX)


REFUSED_PREFIX = "refused before sending: "
"""How the error of a request spola would not send begins (``--allow-host``, metadata addresses)."""

UNSENT_PREFIXES = ("cannot connect to ", "the OAuth2 token ", REFUSED_PREFIX)
"""How the errors of exchanges that failed before any request byte was sent begin."""
