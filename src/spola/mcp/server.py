"""The MCP server: the official ``mcp`` SDK's low-level `Server`, over stdio or streamable HTTP.

Only ``spola mcp`` imports this module (it imports the SDK). Every tool call starts a run in the
`RunManager` and waits for it, forwarding progress when the client sent a ``progressToken``. A call the
client cancels (``notifications/cancelled``; on the 2026-07-28 HTTP transport, closing the response
stream — that revision's cancellation) cancels the run; a client that merely goes away leaves it
running, and ``spola_run_status`` finds it again by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mcp_types as types
import uvicorn
from mcp.server.lowlevel import Server
from mcp.types.version import MODERN_PROTOCOL_VERSIONS

from spola import __version__
from spola.errors import SpolaError, UsageError
from spola.mcp.runs import RunManager, result_status, summary
from spola.mcp.tools import CANCEL_TOOL, STATUS_TOOL

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from mcp.server.context import ServerRequestContext

    from spola.core.report import RunResult
    from spola.mcp.runs import LiveRun
    from spola.mcp.tools import ToolSpec

INSTRUCTIONS = (
    "Each tool runs one Arazzo workflow (a multi-step API flow such as 'trigger a job and wait for it') "
    "to the end and returns its outputs. Long runs report progress; every run has a run id, and "
    f"{STATUS_TOOL} returns a run's state or result by id, also after a dropped connection."
)
MAX_WAIT_SECONDS = 3600.0

_STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "runId": {"type": "string", "description": "The run id a workflow tool reported."},
        "waitSeconds": {
            "type": "number",
            "minimum": 0,
            "maximum": MAX_WAIT_SECONDS,
            "description": "Wait up to this long for a running run to finish (progress is reported).",
        },
    },
    "required": ["runId"],
}
_STATUS_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "runId": {"type": "string"},
        "workflowId": {"type": "string"},
        "status": {"type": "string"},
        "outputs": {"type": ["object", "null"]},
        "error": {"type": ["object", "null"]},
    },
    "required": ["runId", "status"],
}
_CANCEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"runId": {"type": "string", "description": "The run to cancel."}},
    "required": ["runId"],
}


class SpolaMCP:
    """The tools, the runs and the SDK server that serves them."""

    def __init__(self, specs: Sequence[ToolSpec], manager: RunManager, log: Any = None) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.manager = manager
        self.log = log or (lambda text: sys.stderr.write(text + "\n"))
        self.stop_http: uvicorn.Server | None = None
        self.served = {(str(Path(s.document_path).resolve()), s.workflow_id) for s in specs}
        self.server: Server[Any] = Server(
            "spola",
            version=__version__,
            title="spola: Arazzo workflows as tools",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    # ------------------------------------------------------------------ tools/list
    def tools(self) -> list[types.Tool]:
        """Every workflow tool, then the run-status and cancel tools."""
        out = [
            types.Tool(
                name=spec.name,
                title=spec.workflow.summary or spec.workflow_id,
                description=spec.description,
                input_schema=spec.input_schema,
                output_schema=spec.output_schema,
                annotations=types.ToolAnnotations(
                    title=spec.workflow.summary or spec.workflow_id,
                    read_only_hint=False,
                    destructive_hint=False,
                    idempotent_hint=False,
                    open_world_hint=True,
                ),
                _meta={"spola/workflowId": spec.workflow_id},
            )
            for spec in self.specs.values()
        ]
        out.append(
            types.Tool(
                name=STATUS_TOOL,
                title="State or result of a workflow run",
                description=(
                    "Returns a workflow run's status, outputs or error by run id (runs are kept in the "
                    "run store, so this works after a dropped connection or a server restart). With "
                    "waitSeconds, waits for a running run to finish and reports its progress."
                ),
                input_schema=_STATUS_SCHEMA,
                output_schema=_STATUS_OUTPUT,
                annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
            )
        )
        out.append(
            types.Tool(
                name=CANCEL_TOOL,
                title="Cancel a workflow run",
                description="Cancels a workflow run this server is driving, by run id.",
                input_schema=_CANCEL_SCHEMA,
                output_schema=_STATUS_OUTPUT,
                annotations=types.ToolAnnotations(destructive_hint=True, open_world_hint=True),
            )
        )
        return out

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.tools())

    # ------------------------------------------------------------------ tools/call
    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        name = params.name
        arguments = dict(params.arguments or {})
        if name == STATUS_TOOL:
            return await self._status_tool(ctx, arguments)
        if name == CANCEL_TOOL:
            return await self._cancel_tool(arguments)
        spec = self.specs.get(name)
        if spec is None:
            return _error(f"no tool named {name!r}; tools/list lists them")
        try:
            live = self.manager.prepare(spec, arguments)
        except SpolaError as exc:
            return _error(f"{spec.name}: {exc}")
        self.manager.start(live)
        self.log(f"spola mcp: run {live.run_id} of {spec.workflow_id} started")
        result = await self._follow(ctx, live)
        if result is None:
            return _error(f"run {live.run_id} did not finish")
        self.log(f"spola mcp: run {live.run_id} of {spec.workflow_id} {result.status}")
        return self._result(result, live)

    async def _follow(
        self, ctx: ServerRequestContext[Any], live: LiveRun, timeout: float | None = None
    ) -> RunResult | None:
        """Wait for the run, sending its progress; a cancelled call cancels the run, a dropped one not."""
        queue = live.listen()
        task = live.task
        assert task is not None
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            if live.last is not None:
                await _progress(ctx, live.last.count, live.last.message)
            while not task.done():
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    return None
                getter = asyncio.ensure_future(queue.get())
                try:
                    done, _ = await asyncio.wait({getter, task}, timeout=left, return_when="FIRST_COMPLETED")
                finally:
                    if not getter.done():
                        getter.cancel()
                if getter in done:
                    progress = getter.result()
                    if progress.count > 0:
                        await _progress(ctx, progress.count, progress.message)
            return task.result()
        except asyncio.CancelledError:
            if self.manager.stopping:
                pass  # the server is stopping: the run is interrupted (resumable), not cancelled
            elif _cancelled_by_client(ctx):
                self.manager.cancel(live.run_id, "the MCP client cancelled the tool call")
                self.log(f"spola mcp: run {live.run_id} cancelled by the client")
            else:
                self.log(f"spola mcp: the client went away; run {live.run_id} goes on")
            raise
        finally:
            live.unlisten(queue)

    def _result(self, result: RunResult, live: LiveRun | None) -> types.CallToolResult:
        text = summary(result)
        meta = {"spola/runId": result.run_id, "spola/status": result.status}
        if result.status == "succeeded":
            return types.CallToolResult(
                content=[types.TextContent(text=text)], structured_content=result.outputs, _meta=meta
            )
        return types.CallToolResult(
            content=[types.TextContent(text=text)],
            structured_content=result_status(result),
            is_error=True,
            _meta=meta,
        )

    async def _status_tool(
        self, ctx: ServerRequestContext[Any], arguments: Mapping[str, Any]
    ) -> types.CallToolResult:
        run_id = arguments.get("runId")
        if not isinstance(run_id, str) or not run_id:
            return _error(f"{STATUS_TOOL}: give runId, the id a workflow tool reported")
        wait = arguments.get("waitSeconds", 0)
        wait = min(float(wait), MAX_WAIT_SECONDS) if isinstance(wait, int | float) else 0.0
        live = self.manager.live.get(run_id)
        if live is not None and wait > 0:
            await self._follow(ctx, live, timeout=wait)
        try:
            data = await self.manager.status(run_id, self.served)
        except SpolaError as exc:
            return _error(f"{STATUS_TOOL}: {exc}")
        text = f"Run {data['runId']} of {data.get('workflowId')}: {data['status']}."
        if data.get("message"):
            text += f" {data['message']}"
        if data.get("error"):
            text += f" {data['error'].get('message')}"
        return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=data)

    async def _cancel_tool(self, arguments: Mapping[str, Any]) -> types.CallToolResult:
        run_id = arguments.get("runId")
        reason = f"cancelled with {CANCEL_TOOL}"
        if not isinstance(run_id, str) or not self.manager.cancel(run_id, reason):
            return _error(f"{CANCEL_TOOL}: run {run_id} is not running in this server")
        live = self.manager.live.get(run_id)
        if live is not None and live.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(live.task)
        data = await self.manager.status(run_id, self.served)
        text = f"Run {run_id}: {data['status']}."
        if data.get("cancel"):
            text += f" The cancel workflow {data['cancel']['workflowId']} {data['cancel']['status']}."
        return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=data)

    # ------------------------------------------------------------------ transports
    async def serve_stdio(self) -> None:
        """Serve one client over stdin/stdout; when it leaves, the runs it started finish first."""
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read, write):
            await self.server.run(read, write, self.server.create_initialization_options())
        if self.manager.live:
            self.log(f"spola mcp: the client left; waiting for {len(self.manager.live)} run(s) to finish")

    async def serve_http(self, host: str, port: int, announce: Any = None) -> None:
        """Serve streamable HTTP at ``http://HOST:PORT/mcp`` until stopped."""
        app = self.server.streamable_http_app(host=host)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise UsageError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})",
                hint="Pick another port, or --port 0 for any free one.",
            ) from exc
        sock.listen(128)
        bound = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=2
        )
        server = _Uvicorn(config)
        self.stop_http = server
        (announce or self.log)(f"spola mcp: serving {len(self.specs)} tools at http://{host}:{bound}/mcp")
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handlers: ``serve`` decides what SIGINT / SIGTERM do to the runs."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _cancelled_by_client(ctx: ServerRequestContext[Any]) -> bool:
    """Whether the call was cancelled by the client, not cut off by a dropped connection.

    JSON-RPC transports (stdio, handshake-era HTTP) set the request's ``cancel_requested`` event when
    ``notifications/cancelled`` arrives. On the 2026-07-28 HTTP transport closing the response stream
    is the cancellation (that revision has no cancel notification over HTTP).
    """
    outbound = getattr(ctx.session, "_request_outbound", None)
    event = getattr(outbound, "cancel_requested", None)
    if event is not None and event.is_set():
        return True
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS and ctx.request is not None


async def _progress(ctx: ServerRequestContext[Any], count: int, message: str) -> None:
    with contextlib.suppress(Exception):
        await ctx.session.report_progress(float(count), None, message)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


async def serve(app: SpolaMCP, transport: str, *, host: str = "127.0.0.1", port: int = 0) -> int:
    """Run the server until the client leaves (stdio) or a signal; returns the exit status."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    stopped = False
    interrupted: list[str] = []

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        interrupted.extend(app.manager.interrupt_all())
        if app.stop_http is not None:
            # open SSE streams outlive uvicorn's graceful wait by design; its complaints are noise now
            logging.getLogger("uvicorn.error").addFilter(lambda record: record.levelno < logging.ERROR)
            app.stop_http.should_exit = True
        else:
            main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        try:
            if transport == "http":
                await app.serve_http(host, port)
            else:
                await app.serve_stdio()
                await app.manager.shutdown(wait=True)
        except asyncio.CancelledError:
            if not stopped:
                raise
        if stopped:
            await app.manager.shutdown(wait=False)
            if interrupted:
                shown = ", ".join(interrupted)
                app.log(f"spola mcp: interrupted run(s) {shown}; spola resume RUN_ID continues them")
            return 130
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await app.manager.shutdown(wait=False)
