"""Serving simulators with uvicorn: in a background thread (tests) or in the foreground (the CLI)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from starlette.types import ASGIApp

    from spola.sim.faults import FaultPlan

__all__ = ["ServerHandle", "serve_forever", "serve_in_thread"]

_STARTUP_TIMEOUT = 10.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio then sets NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _config(app: ASGIApp, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http="h11",
        ws="none",
        lifespan="off",
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        date_header=True,
    )


class ServerHandle:
    """A uvicorn server running in a daemon thread; a context manager that stops it on exit."""

    def __init__(
        self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "error"
    ) -> None:
        self.app = app
        self._sock = _bind(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._server = uvicorn.Server(_config(app, log_level))
        self._thread = threading.Thread(target=self._run, name=f"spola-sim-{self.port}", daemon=True)
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """`http://host:port` (no trailing slash)."""
        return f"http://{_url_host(self.host)}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc

    def start(self) -> ServerHandle:
        """Start serving and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"simulator server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("simulator server did not start in time")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to exit and wait for its thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve `app` on a real port (0: any free one) in a background thread; returns the started handle."""
    return ServerHandle(app, host, port).start()


def serve_forever(
    kinds: str | Sequence[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    speed: float = 1.0,
    faults: str | FaultPlan | None = None,
    seed: int | None = None,
    token: str | None = None,
    print_fn: Callable[[str], object] = print,
) -> None:
    """Serve one simulator (`databricks`, `dataiku`, `dbt`) or several/`all` on one port until interrupted.

    Prints each API's base URL (what to put in an OpenAPI `servers` entry), its token and the admin URL.
    Raises `ValueError` for an unknown kind or a bad fault spec, before anything is bound.
    """
    from spola.sim.apps import api_base_urls, build_app

    app, names = build_app(kinds, speed=speed, faults=faults, seed=seed, token=token)
    sock = _bind(host, port)
    root = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    for name, (url, secret) in api_base_urls(names, root, token).items():
        print_fn(f"{name:<10} {url}  (token: {secret})")
    print_fn(f"{'admin':<10} {root}/_sim/requests  (also /_sim/reset, /_sim/advance?seconds=N, /_sim/faults)")
    server = uvicorn.Server(_config(app, "warning"))
    server.run(sockets=[sock])
