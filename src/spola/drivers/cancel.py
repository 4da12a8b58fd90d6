"""Stopping a run on purpose, and cancelling its remote work with the workflow's ``x-spola-cancel``.

``drive_cancellable`` is ``drive`` plus a ``CancelSignal``: when the signal is set (Ctrl-C, SIGTERM,
``spola cancel`` seen in the store, an MCP client's cancel), when the task is cancelled, or when the
run exceeds ``--timeout``, the run is stopped and the document's cancel workflow (if it names one) runs
against the same APIs, bounded in time, shown to the same observer (one level deeper) and journalled in
the same run (exchanges ``cancel>…``, events ``cancel-started`` / ``cancel-finished``). The result carries
both outcomes: the run's (``cancelled``, ``interrupted`` or ``failed``) and the cancel workflow's
(``RunResult.cancel``). ``watch_cancel_requests`` is how a driving process sees a ``spola cancel`` asked
through the store (it sits here, below ``spola.durable`` that runs it and ``spola.cancel`` that asks).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import msgspec.structs

from spola.core.report import CancelReport, RunError, RunResult
from spola.drivers.aio import RunInterrupted, drive, send
from spola.errors import SpolaError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    import aiohttp

    from spola.core.actions import SendRequest
    from spola.core.engine import Run
    from spola.core.events import Event, Observer
    from spola.exchange import HttpResponse
    from spola.store import Journal as Store

CANCEL_SEQ_OFFSET = 1_000_000_000
"""The cancel workflow's exchanges are journalled in the run's own record with seq above this."""
CANCEL_PATH_PREFIX = "cancel>"
"""...and a step path starting with this (replay skips them)."""
GRACE_S = 1.0
"""How much longer than its ``timeout`` a cancel workflow may take before spola abandons it."""


class CancelSignal:
    """Asks a run driven by ``drive_cancellable`` to stop.

    ``set(reason)`` is an explicit cancel (the run ends ``cancelled``); ``set(reason, explicit=False)``
    an interrupt like Ctrl-C (the run ends ``cancelled`` when its remote work was cancelled, else
    ``interrupted``, resumable). The first call wins. Use it from the loop the run is driven on.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.reason: str | None = None
        self.explicit = True

    def set(self, reason: str, *, explicit: bool = True) -> None:
        """Stop the run for ``reason`` (later calls are ignored)."""
        if self.reason is None:
            self.reason, self.explicit = reason, explicit
            self._event.set()

    def is_set(self) -> bool:
        """Whether the run was asked to stop."""
        return self.reason is not None

    async def wait(self) -> str:
        """Return the reason once the signal is set."""
        await self._event.wait()
        assert self.reason is not None
        return self.reason


def check_cancel(run: Run) -> None:
    """Raise DocumentError when the run's workflow has an invalid ``x-spola-cancel`` (nothing sent)."""
    from spola.model.cancel import cancel_spec

    cancel_spec(run.document, run.root.workflow)


async def drive_cancellable(
    run: Run,
    session: aiohttp.ClientSession,
    *,
    observer: Observer | None = None,
    store: Store | None = None,
    cancel: CancelSignal | None = None,
    clock: Callable[[], float] = time.time,
    initial: Sequence[SendRequest] = (),
    sender: Callable[[aiohttp.ClientSession, SendRequest], Any] | None = None,
) -> RunResult:
    """Drive ``run`` like ``drive``; on a cancel, an interrupt or ``--timeout`` cancel its remote work.

    ``store`` journals the run (and the cancel workflow) in the run store. Returns the result when the
    run ended or ``cancel`` was set; raises ``RunInterrupted`` (with the result, cancel report
    included) when the task itself was cancelled, like ``drive``.
    """
    from spola.observe import active_tracer, combine

    check_cancel(run)
    tracer = active_tracer()
    if tracer is None:
        return await _drive(run, session, observer, store, cancel, clock, initial, sender)
    traced = tracer.start(run)
    status: str = "interrupted"
    error: str | None = "interrupted"
    try:
        result = await _drive(
            run, session, combine(observer, traced.observe), store, cancel, clock, initial,
            traced.wrap(sender or send),
        )  # fmt: skip
        status, error = result.status, result.error.message if result.error else None
        return result
    except RunInterrupted as stop:
        status = stop.result.status
        error = stop.result.error.message if stop.result.error else status
        raise
    finally:
        traced.end(status, error)


async def _drive(
    run: Run,
    session: aiohttp.ClientSession,
    observer: Observer | None,
    store: Store | None,
    cancel: CancelSignal | None,
    clock: Callable[[], float],
    initial: Sequence[SendRequest],
    sender: Callable[[aiohttp.ClientSession, SendRequest], Any] | None,
) -> RunResult:
    signal = cancel or CancelSignal()
    hooks = None
    if store is not None:
        from spola.drivers.journal import JournalHooks  # the store's modules: not for an in-memory run

        hooks = JournalHooks(store, run)
    extra: dict[str, Any] = {} if sender is None else {"sender": sender}
    driving = asyncio.ensure_future(
        drive(run, session, observer=observer, journal=hooks, clock=clock, initial=initial, **extra)
    )
    waiter = asyncio.ensure_future(signal.wait())
    task_cancelled = False
    try:
        await asyncio.wait({driving, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task_cancelled = True
        signal.set("the task driving the run was cancelled", explicit=False)
    finally:
        waiter.cancel()
    if driving.done() and not (driving.cancelled() or isinstance(driving.exception(), RunInterrupted)):
        result = driving.result()
        if not _timed_out(run, result, clock):
            return result
        reason = f"the run exceeded its time limit of {run.options.timeout:g} s (--timeout)"
        report = await run_cancel_workflow(
            run, session, reason=reason, observer=observer, store=store, clock=clock, **extra
        )
        return msgspec.structs.replace(result, cancel=report) if report is not None else result
    driving.cancel()
    try:
        result = await driving
    except RunInterrupted as stop:
        result = stop.result
    else:
        if not task_cancelled:  # it ended on its own just as the cancel came
            return result
    reason = signal.reason or "stopped"
    _note(
        store, run.run_id, "cancel-requested" if signal.explicit else "interrupted", {"reason": reason}, clock
    )
    report = await run_cancel_workflow(
        run, session, reason=reason, observer=observer, store=store, clock=clock, **extra
    )
    result = _stopped(result, reason, signal.explicit, report)
    if task_cancelled:
        raise RunInterrupted(result)
    return result


def _timed_out(run: Run, result: RunResult, clock: Callable[[], float]) -> bool:
    return result.status == "failed" and run.deadline is not None and clock() >= run.deadline


def _stopped(result: RunResult, reason: str, explicit: bool, report: CancelReport | None) -> RunResult:
    """The stopped run's result: ``cancelled`` when asked to, or when its remote work was cancelled."""
    step = result.error.step_id if result.error else None
    remote_done = report is not None and report.status in ("succeeded", "skipped")
    if explicit or remote_done:
        message = f"cancelled: {reason}"
        if report is not None and not remote_done:
            message += (
                f"; the cancel workflow {report.workflow_id} {report.status}, the remote work may go on"
            )
        return msgspec.structs.replace(
            result, status="cancelled", error=RunError(step, message), cancel=report
        )
    message = f"interrupted: {reason}"
    if report is not None:
        message += f"; the cancel workflow {report.workflow_id} {report.status}, the remote work may go on"
    return msgspec.structs.replace(result, status="interrupted", error=RunError(step, message), cancel=report)


def _note(
    store: Store | None, run_id: str, kind: str, data: dict[str, Any], clock: Callable[[], float]
) -> None:
    if store is not None:
        from spola.store.records import EventRecord

        store.event(EventRecord(run_id=run_id, kind=kind, at=clock(), data=data))


class _CancelHooks:
    """Journals the cancel workflow's exchanges in the stopped run's record (seq and step path moved)."""

    def __init__(self, store: Store, run: Run) -> None:
        from spola.drivers.journal import JournalHooks

        self.inner = JournalHooks(store, run)

    @staticmethod
    def _moved(action: SendRequest) -> SendRequest:
        return msgspec.structs.replace(
            action,
            call_id=CANCEL_SEQ_OFFSET + action.call_id,
            step_path=CANCEL_PATH_PREFIX + action.step_path,
        )

    def before_send(self, action: SendRequest, now: float) -> Awaitable[None] | None:
        return self.inner.before_send(self._moved(action), now)

    def after_receive(
        self, action: SendRequest, response: HttpResponse, now: float
    ) -> Awaitable[None] | None:
        return self.inner.after_receive(self._moved(action), response, now)


def _deeper(observer: Observer | None) -> Observer | None:
    if observer is None:
        return None

    def observe(event: Event) -> None:
        observer(msgspec.structs.replace(event, depth=event.depth + 1))

    return observe


async def run_cancel_workflow(
    run: Run,
    session: aiohttp.ClientSession,
    *,
    reason: str,
    observer: Observer | None = None,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    sender: Callable[[aiohttp.ClientSession, SendRequest], Any] | None = None,
) -> CancelReport | None:
    """Run the stopped ``run``'s ``x-spola-cancel`` workflow; None when its workflow names none.

    Its inputs are evaluated over the stopped run (``$steps``, ``$inputs``, ``$outputs``); when an input
    the cancel workflow requires was never produced (the job was never started) nothing is sent and
    the report says ``skipped``. The workflow is bounded by the extension's ``timeout``; a second
    cancel of the task abandons it (``abandoned``). Never raises for what the cancel workflow does.
    """
    from spola.core.engine import Run as Engine
    from spola.core.scope import build_scope
    from spola.expr import MISSING
    from spola.model.cancel import cancel_spec
    from spola.model.roles import secret_input_names
    from spola.redact import Redactor

    try:
        spec = cancel_spec(run.document, run.root.workflow)
    except SpolaError as exc:
        return CancelReport("?", "failed", reason, message=run.redactor.redact_text(str(exc)))
    if spec is None:
        return None
    scope = build_scope(run.root, run.workflow_states)
    inputs: dict[str, Any] = {}
    missing: list[str] = []
    for name, value in spec.inputs.items():
        try:
            found = value.evaluate(scope)
        except SpolaError:
            found = MISSING
        if found is MISSING or found is None:
            if name in spec.required:
                missing.append(name)
            continue
        inputs[name] = found
    ref = spec.workflow_ref
    if missing:
        report = CancelReport(
            ref,
            "skipped",
            reason,
            message=f"nothing to cancel: {', '.join(missing)} never became known (the run stopped before "
            "the remote work started)",
        )
        _note(store, run.run_id, "cancel-finished", report.to_dict(), clock)
        return report
    try:
        document, workflow = run.document.resolve_workflow(ref)
        secret_names = set(secret_input_names(document, workflow))
        secret_names |= {n for n, v in inputs.items() if isinstance(v, str) and v in run.secret_values}
        engine = Engine(
            document,
            workflow.workflow_id,
            inputs,
            options=msgspec.structs.replace(run.options, timeout=spec.timeout),
            run_id=run.run_id,
            started_at=clock(),
            secret_inputs=frozenset(secret_names),
        )
    except SpolaError as exc:
        report = CancelReport(ref, "failed", reason, message=run.redactor.redact_text(exc.message))
        _note(store, run.run_id, "cancel-finished", report.to_dict(), clock)
        return report
    engine.secret_values = engine.secret_values | run.secret_values
    engine.redactor = Redactor.of(engine.secret_values)
    ref = workflow.workflow_id
    _note(
        store,
        run.run_id,
        "cancel-started",
        {"workflowId": ref, "reason": reason, "inputs": engine.redactor.redact_value(inputs)},
        clock,
    )
    hooks = _CancelHooks(store, engine) if store is not None else None
    extra: dict[str, Any] = {} if sender is None else {"sender": sender}
    bound = asyncio.timeout(spec.timeout + GRACE_S)
    status: str | None = None
    try:
        async with bound:
            result = await drive(
                engine, session, observer=_deeper(observer), journal=hooks, clock=clock, **extra
            )
    except RunInterrupted as stop:
        result = stop.result
        status = "timed out" if bound.expired() else "abandoned"
    except TimeoutError:
        result = engine.interrupt("abandoned")
        status = "timed out"
    message = result.error.message if result.error else None
    if status is None:
        status = result.status
        if status == "failed" and engine.deadline is not None and clock() >= engine.deadline:
            status = "timed out"
    if status == "timed out":
        message = f"the cancel workflow did not finish within {spec.timeout:g} s (x-spola-cancel timeout)"
    elif status == "abandoned":
        message = "the cancel workflow was abandoned (stopped again while it ran)"
    report = CancelReport(ref, status, reason, dict(result.outputs), message, result.steps)
    _note(store, run.run_id, "cancel-finished", report.to_dict(), clock)
    if store is not None:
        with contextlib.suppress(SpolaError):
            await store.flush()
    return report


REQUEST_KIND = "cancel-requested"
POLL_S = 0.5
"""How often a driving process looks for a cancel request in the store."""


async def watch_cancel_requests(
    journal: Store, run_id: str, signal: CancelSignal, *, interval: float = POLL_S
) -> None:
    """Set ``signal`` when a ``cancel-requested`` event for ``run_id`` appears after now (runs until
    cancelled or the signal is set)."""
    started = time.time()
    while not signal.is_set():
        await asyncio.sleep(interval)
        event = await journal.last_event(run_id, REQUEST_KIND)
        if event is not None and event.at >= started - 1.0:
            by = event.data.get("by") or {}
            who = f" (asked by process {by.get('pid')} on {by.get('host')})" if by else ""
            signal.set(f"{event.data.get('reason') or 'cancelled'}{who}", explicit=True)
