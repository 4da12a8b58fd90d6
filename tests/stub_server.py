"""A scripted HTTP server on 127.0.0.1 (a background thread) that records every request it gets."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    delay: float = 0.0
    drop: bool = False


Responder = Callable[[Recorded, int], Reply]


class StubServer:
    """Routes answer from a list of replies (the last one repeats) or a function of the request."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # a server-side context: the stub answers https://
        self.routes: dict[tuple[str, str], list[Reply] | Responder] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.requests: list[Recorded] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def add(self, method: str, path: str, *replies: Reply | Responder) -> StubServer:
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            self.routes[(method.upper(), path)] = replies[0]
        else:
            self.routes[(method.upper(), path)] = list(replies)  # type: ignore[arg-type]
        return self

    def received(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    def reset(self) -> None:
        self.routes.clear()
        self.counts.clear()
        self.requests.clear()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rec = Recorded(
            method=request.method,
            path=request.path,
            query={k: request.query.getall(k) for k in request.query},
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        self.requests.append(rec)
        key = (request.method, request.path)
        route = self.routes.get(key)
        if route is None:
            return web.json_response({"error": f"no route {key}"}, status=404)
        n = self.counts.get(key, 0)
        self.counts[key] = n + 1
        reply = route(rec, n) if callable(route) else route[min(n, len(route) - 1)]
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("dropped on purpose")
        if reply.raw is not None:
            return web.Response(status=reply.status, body=reply.raw, headers=reply.headers)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    def start(self) -> StubServer:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self.tls)
            loop.run_until_complete(site.start())
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self._runner = runner
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
