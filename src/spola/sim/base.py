"""The ASGI shell shared by every simulator: logging, faults, auth, then the vendor's routes.

`SimApp` is a `Starlette` application whose `__call__` first does, for each HTTP request:

1. normalise the path (a trailing slash is optional everywhere, as vendors' clients disagree on it);
2. serve `/_sim/...` admin routes directly (never logged, faulted or authenticated);
3. read the body, find the endpoint key (the matching route's name), number the request;
4. apply the fault plan: latency, then an early status or dropped connection;
5. check credentials, then run the vendor route (a `late` fault replaces its answer afterwards);
6. record the request and its status in the `RequestLog`.

Dropping a connection needs the server's transport: under uvicorn's h11 protocol the `send` callable is a
method of the connection's request cycle, which holds it. The outermost app stores a closer in the scope so
mounted apps can use it; elsewhere a drop falls back to an unfinished response, which also breaks the call.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match

from spola.sim.admin import admin_routes
from spola.sim.faults import FaultDecision, FaultInjector, FaultPlan, FaultRule
from spola.sim.recorder import RecordedRequest, RequestLog, redact_headers

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import Message, Receive, Scope, Send

    from spola.sim.clock import SimClock
    from spola.sim.vendor import Simulator, Vendor

__all__ = ["CLOSER_KEY", "SimApp", "closer_from_send"]

CLOSER_KEY = "spola.sim.close_connection"
_MAX_LOGGED_TEXT = 10_000


def closer_from_send(send: Send) -> Callable[[], None] | None:
    """A function closing the client connection behind `send`, when the server exposes it (uvicorn h11)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    close = getattr(transport, "close", None)
    return close if callable(close) else None


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _logged_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:_MAX_LOGGED_TEXT]


class SimApp(Starlette):
    """A vendor simulator as a Starlette app; `simulator`, `log`, `clock` and `faults` are public."""

    def __init__(
        self, vendor: Vendor, *, clock: SimClock, faults: FaultPlan, seed: int | None = None
    ) -> None:
        self.vendor = vendor
        self.simulator: Simulator = vendor.simulator
        self.clock = clock
        self.log = RequestLog()
        self.faults = FaultInjector(faults, vendor.name, seed)
        self._admin: list[BaseRoute] = [*admin_routes(self), *vendor.admin_routes()]
        self._api: list[BaseRoute] = vendor.routes()
        super().__init__(routes=[*self._admin, *self._api])

    def reset(self, *, state: bool = True) -> None:
        """Clear the request log and fault counters; with `state`, also re-seed the simulator."""
        self.log.clear()
        self.faults.reset()
        if state:
            self.simulator.reset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if CLOSER_KEY not in scope:
            scope[CLOSER_KEY] = closer_from_send(send)
        _strip_trailing_slash(scope)
        extra = self.vendor.extra_headers()
        if extra:
            send = _with_headers(send, extra)
        if _route_path(scope).startswith("/_sim"):
            await super().__call__(scope, receive, send)
            return
        await self._handle(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, disconnected = await _read_body(receive)
        if disconnected:
            return
        method: str = scope["method"]
        key, match = self._match(scope)
        seq, at = self.log.next_seq(), self.clock.now()
        decision = self.faults.decide(key) if match is Match.FULL else FaultDecision()
        entry = RecordedRequest(
            seq=seq,
            at=at,
            vendor=self.vendor.name,
            key=key,
            method=method,
            path=scope["path"],
            query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
            headers=redact_headers(Headers(scope=scope)),
            body=_logged_body(body),
            status=None,
            fault=decision.describe(),
        )
        exchange = _Exchange(self.log, entry)
        try:
            await self._answer(scope, body, send, match=match, decision=decision, exchange=exchange)
        finally:
            exchange.record(None)

    async def _answer(
        self,
        scope: Scope,
        body: bytes,
        send: Send,
        *,
        match: Match,
        decision: FaultDecision,
        exchange: _Exchange,
    ) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.record(message["status"])
            await send(message)

        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.early is not None:
            await self._fail(scope, decision.early, recording_send, exchange)
            return
        refusal = self.vendor.check_auth(Headers(scope=scope))
        if refusal is not None:
            await refusal(scope, _replay(b""), recording_send)
            return
        path = _route_path(scope)
        if match is Match.NONE:
            await self.vendor.not_found(scope["method"], path)(scope, _replay(b""), recording_send)
            return
        if match is Match.PARTIAL:
            await self.vendor.method_not_allowed(scope["method"], path)(scope, _replay(b""), recording_send)
            return
        if decision.late is None:
            await super().__call__(scope, _replay(body), recording_send)
            return

        async def discard(message: Message) -> None:
            return None

        await super().__call__(scope, _replay(body), discard)
        await self._fail(scope, decision.late, recording_send, exchange)

    async def _fail(self, scope: Scope, rule: FaultRule, send: Send, exchange: _Exchange) -> None:
        if rule.kind == "drop":
            exchange.record(None)  # before the client can notice the drop and look at the log
            await _drop(scope, send)
            return
        assert rule.status is not None
        response = self.vendor.error(rule.status)
        if rule.retry_after is not None:
            response.headers["Retry-After"] = f"{rule.retry_after:g}"
        await response(scope, _replay(b""), send)

    def _match(self, scope: Scope) -> tuple[str, Match]:
        partial: str | None = None
        for route in self._api:
            match, _ = route.matches(scope)
            name = getattr(route, "name", None) or "unnamed"
            if match is Match.FULL:
                return name, match
            if match is Match.PARTIAL and partial is None:
                partial = name
        if partial is not None:
            return partial, Match.PARTIAL
        return "unmatched", Match.NONE


class _Exchange:
    """Adds a request's log entry exactly once, as soon as its answer (or its absence) is known."""

    def __init__(self, log: RequestLog, entry: RecordedRequest) -> None:
        self._log = log
        self._entry: RecordedRequest | None = entry

    def record(self, status: int | None) -> None:
        if self._entry is not None:
            self._log.add(replace(self._entry, status=status))
            self._entry = None


def _strip_trailing_slash(scope: Scope) -> None:
    path: str = scope["path"]
    if len(_route_path(scope)) > 1 and path.endswith("/"):
        scope["path"] = path.rstrip("/") or "/"
        raw = scope.get("raw_path")
        if isinstance(raw, bytes) and raw.endswith(b"/"):
            scope["raw_path"] = raw.rstrip(b"/") or b"/"


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *encoded]}
        await send(message)

    return wrapped


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a server: nothing more until the client goes away
        return {"type": "http.disconnect"}

    return receive


async def _drop(scope: Scope, send: Send) -> None:
    close = scope.get(CLOSER_KEY)
    if callable(close):
        close()
        # Let the server notice the closed connection, so it does not try to answer on its own.
        await asyncio.sleep(0.01)
        return
    # No transport at hand: start a response that promises a body and never finish it.
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
