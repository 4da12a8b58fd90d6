"""Runs started by agents: each one a task of its own, journalled, watched, cancellable, found again by id.

A tool call starts a run here and waits for it; the run does not belong to the call. When the client
cancels the call the run is cancelled (its status ``cancelled`` in the store); when the client merely
goes away the run goes on, and ``spola_run_status`` finds it again — live while this server drives it,
from the run store afterwards. The ``mcp`` SDK is not imported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spola.api import make_options, new_run_id
from spola.core.engine import Run
from spola.core.events import StepFinished, StepStarted, Waiting
from spola.core.report import RunError, RunResult
from spola.drivers.aio import RunInterrupted, make_session
from spola.drivers.cancel import CancelSignal, check_cancel, drive_cancellable
from spola.errors import InputError, SpolaError, StoreError
from spola.limits import MAX_RESPONSE_BYTES
from spola.model.roles import secret_input_names

if TYPE_CHECKING:
    from collections.abc import Mapping

    import aiohttp

    from spola.core.events import Event
    from spola.mcp.tools import ToolSpec
    from spola.options import Credential
    from spola.store import Journal

_STATE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Settings:
    """What ``spola mcp`` applies to every call: sources, credentials, polling and limits."""

    servers: Mapping[str, str] = field(default_factory=dict)
    server_vars: Mapping[tuple[str, str], str] = field(default_factory=dict)
    credentials: tuple[Credential, ...] = ()
    poll_interval: float | None = None
    max_steps: int = 10_000
    timeout: float | None = None
    http_timeout: float = 30.0
    insecure: bool = False
    store_path: str | None = None
    allow_hosts: tuple[str, ...] = ()
    max_response_bytes: int = MAX_RESPONSE_BYTES
    retry_attempts: int = 30
    retry_wait: float = 300.0
    max_depth: int = 32


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress report: what the run is doing now (already redacted)."""

    count: int
    message: str
    step_id: str | None = None
    polls: int = 0
    remote_state: Mapping[str, Any] = field(default_factory=dict)
    http_status: int | None = None


@dataclass(eq=False)
class LiveRun:
    """A run this server drives."""

    spec: ToolSpec
    engine: Run
    started_at: float
    task: asyncio.Task[RunResult] | None = None
    listeners: list[asyncio.Queue[Progress]] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)
    last: Progress | None = None
    signal: CancelSignal = field(default_factory=CancelSignal)
    count: int = 0
    secret_inputs: frozenset[str] = frozenset()

    @property
    def run_id(self) -> str:
        """The run's id (also its key in the store)."""
        return self.engine.run_id

    def listen(self) -> asyncio.Queue[Progress]:
        """A queue that receives this run's progress from now on (``unlisten`` it when done)."""
        queue: asyncio.Queue[Progress] = asyncio.Queue()
        self.listeners.append(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[Progress]) -> None:
        """Stop sending progress to ``queue``."""
        with contextlib.suppress(ValueError):
            self.listeners.remove(queue)

    def observe(self, event: Event) -> None:
        """The driver's observer: turn engine events into progress reports."""
        if isinstance(event, StepStarted):
            self.polls[event.step_id] = event.execution
            return
        if isinstance(event, StepFinished):
            # the remote state: the values of the step's outputs that its criteria read (redacted)
            state = dict(event.remote_state)
            shown = ", ".join(f"{k} {_short(v)}" for k, v in state.items())
            status = f"HTTP {event.status_code}" if event.status_code is not None else "no response"
            text = f"{event.step_id} #{event.execution}: {status}"
            if shown:
                text += f", {shown}"
            if event.action is not None:
                text += f"; {event.action.why}"
            elif event.next:
                text += f" → {event.next}"
            self._report(text, event.step_id, event.execution, state, event.status_code)
        elif isinstance(event, Waiting):
            last = self.last
            seen: Mapping[str, Any] = {}
            if last is not None and last.step_id == event.step_id:
                seen = last.remote_state
            polls = self.polls.get(event.step_id, 0)
            self._report(
                f"{event.step_id}: waiting {event.seconds:.3g} s before poll #{polls + 1} ({event.reason})",
                event.step_id,
                polls,
                seen,
                last.http_status if last is not None else None,
            )

    def _report(
        self, text: str, step_id: str, polls: int, state: Mapping[str, Any], status: int | None
    ) -> None:
        self.count += 1
        message = self.engine.redactor.redact_text(f"run {self.run_id}: {text}")
        progress = Progress(self.count, message, step_id, polls, dict(state), status)
        self.last = progress
        for queue in self.listeners:
            queue.put_nowait(progress)

    def snapshot(self) -> dict[str, Any]:
        """Where the run is now, for ``spola_run_status``."""
        last = self.last
        return {
            "runId": self.run_id,
            "workflowId": self.spec.workflow_id,
            "status": "cancelling" if self.signal.is_set() else "running",
            "step": last.step_id if last else None,
            "polls": last.polls if last else 0,
            "remoteState": dict(last.remote_state) if last else {},
            "message": last.message if last else f"run {self.run_id}: starting",
        }


def _short(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= _STATE_CHARS else text[: _STATE_CHARS - 1] + "…"


class RunManager:
    """Starts, watches and cancels the runs of one ``spola mcp`` server."""

    def __init__(self, settings: Settings, journal: Journal | None) -> None:
        self.settings = settings
        self.journal = journal
        self.live: dict[str, LiveRun] = {}
        self.stopping = False
        self.finished: dict[str, tuple[LiveRun, RunResult]] = {}
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = make_session(insecure=self.settings.insecure)
        return self._session

    def prepare(self, spec: ToolSpec, arguments: Mapping[str, Any] | None) -> LiveRun:
        """Validate the agent's arguments and build the run; nothing is sent yet.

        Raises:
            InputError: the agent gave an input the server holds, or the inputs do not match the schema.
        """
        given = dict(arguments or {})
        refused = sorted(name for name in given if name in spec.held)
        if refused:
            raise InputError(
                f"input '{refused[0]}' is set on the server side and cannot be given by the caller"
            )
        if spec.missing_secrets:
            names = ", ".join(spec.missing_secrets)
            raise InputError(
                f"workflow {spec.workflow_id} needs the secret input(s) {names}, which only the server may "
                f"hold; start spola mcp with --input {spec.missing_secrets[0]}=env:VAR"
            )
        inputs = {**given, **spec.bound}
        settings = self.settings
        options = make_options(
            servers=settings.servers,
            server_vars=settings.server_vars,
            auth=settings.credentials,
            poll_interval=settings.poll_interval,
            max_steps=settings.max_steps,
            timeout=settings.timeout,
            http_timeout=settings.http_timeout,
            allow_hosts=settings.allow_hosts,
            max_response_bytes=settings.max_response_bytes,
            retry_attempts=settings.retry_attempts,
            retry_wait=settings.retry_wait,
            max_depth=settings.max_depth,
        )
        named = secret_input_names(spec.document, spec.workflow) | spec.secret_inputs
        secrets = frozenset(named & set(inputs))
        engine = Run(
            spec.document,
            spec.workflow_id,
            inputs,
            options=options,
            run_id=new_run_id(),
            started_at=time.time(),
            secret_inputs=secrets,
        )
        return LiveRun(spec, engine, time.time(), secret_inputs=secrets)

    def start(self, live: LiveRun) -> LiveRun:
        """Drive the run in a task of its own (it outlives the call that started it)."""
        self.live[live.run_id] = live
        live.task = asyncio.create_task(self._drive(live), name=f"spola-run-{live.run_id}")
        return live

    async def _drive(self, live: LiveRun) -> RunResult:
        """Drive to the end; a cancel (``cancel``) or a stop (``interrupt_all``) runs the document's
        ``x-spola-cancel`` workflow for the remote work and returns the stopped result."""
        from spola.durable import DurableRun, execute

        engine = live.engine
        try:
            try:
                if self.journal is None:
                    check_cancel(engine)
                    result = await drive_cancellable(
                        engine, self._http(), observer=live.observe, cancel=live.signal
                    )
                else:
                    durable = DurableRun(engine, live.spec.document_path, self.settings.store_path)
                    result = await execute(
                        durable,
                        observer=live.observe,
                        insecure=self.settings.insecure,
                        journal=self.journal,
                        inputs=engine.root.inputs,
                        secret_inputs=live.secret_inputs,
                        cancel=live.signal,
                    )
            except RunInterrupted as stop:  # the task itself was cancelled (a second stop)
                result = stop.result
            except SpolaError as exc:  # e.g. an invalid x-spola-cancel: nothing was sent
                result = RunResult(
                    run_id=engine.run_id,
                    workflow_id=engine.root.workflow.workflow_id,
                    status="failed",
                    outputs={},
                    steps=(),
                    error=RunError(None, str(exc)),
                )
            self.finished[live.run_id] = (live, result)
            return result
        finally:
            self.live.pop(live.run_id, None)
            for queue in list(live.listeners):
                queue.put_nowait(Progress(-1, ""))

    def cancel(self, run_id: str, reason: str) -> bool:
        """Cancel a run this server drives; False when it is not (or no longer) running here."""
        live = self.live.get(run_id)
        if live is None or live.task is None or live.task.done():
            return False
        live.signal.set(reason)
        return True

    async def status(self, run_id: str, served: set[tuple[str, str]]) -> dict[str, Any]:
        """A run's state: live when this server drives it, else as the store has it.

        Raises:
            StoreError: no such run among the served workflows.
        """
        live = self.live.get(run_id)
        if live is not None:
            return live.snapshot()
        if run_id in self.finished:
            return result_status(self.finished[run_id][1])
        if self.journal is None:
            raise StoreError(f"no run {run_id} in this server (it runs with --no-store)")
        record = await self.journal.get_run(run_id)
        header = record.header
        if (header.document, header.workflow_id) not in served:
            raise StoreError(f"no run {run_id} of the workflows this server serves")
        data: dict[str, Any] = {
            "runId": header.run_id,
            "workflowId": header.workflow_id,
            "status": record.status,
            "outputs": dict(record.outputs) if record.outputs is not None else None,
            "error": dict(record.error) if record.error is not None else None,
        }
        return data

    def interrupt_all(self) -> list[str]:
        """Interrupt every live run (the server is stopping), as Ctrl-C does ``spola run``: the remote
        work is cancelled where the document says how, else the run stays resumable; returns their ids."""
        self.stopping = True
        for live in self.live.values():
            live.signal.set("the spola mcp server stopped", explicit=False)
        return list(self.live)

    async def shutdown(self, *, wait: bool) -> None:
        """Let the live runs finish (``wait``) or interrupt them (journalled: ``spola resume`` continues)."""
        self.stopping = True
        tasks = [live.task for live in self.live.values() if live.task is not None]
        if not wait:
            self.interrupt_all()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


def result_status(result: RunResult) -> dict[str, Any]:
    """A finished run as ``spola_run_status`` shows it (with what was done about the remote work)."""
    data: dict[str, Any] = {
        "runId": result.run_id,
        "workflowId": result.workflow_id,
        "status": result.status,
        "outputs": result.outputs,
        "error": result.error.to_dict() if result.error else None,
    }
    if result.cancel is not None:
        data["cancel"] = result.cancel.to_dict()
    return data


def summary(result: RunResult) -> str:
    """The short text an agent reads next to the structured outputs."""
    if result.status == "succeeded":
        names = ", ".join(result.outputs) or "none"
        return f"Workflow {result.workflow_id} succeeded (run {result.run_id}). Outputs: {names}."
    if result.status == "interrupted":
        return (
            f"Workflow {result.workflow_id} was interrupted: the server stopped (run {result.run_id}; "
            f"spola resume {result.run_id} continues it)."
        )
    error = result.error.message if result.error else "no reason given"
    where = f" at step {result.error.step_id}" if result.error and result.error.step_id else ""
    text = f"Workflow {result.workflow_id} {result.status}{where} (run {result.run_id}): {error}"
    report = result.cancel
    if report is not None:
        text += f". Remote work: the cancel workflow {report.workflow_id} {report.status}"
        if report.message:
            text += f" ({report.message})"
    return text


__all__ = [
    "LiveRun",
    "Progress",
    "RunManager",
    "Settings",
    "result_status",
    "summary",
]
