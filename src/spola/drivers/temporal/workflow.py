"""The Temporal workflow: one Arazzo run, the sans-I/O ``Run`` driven inside deterministic workflow code.

The engine is the same object the embedded driver feeds (``spola.core.engine.Run``); only the
driver loop differs:

- every ``SendRequest`` becomes an activity (``spola.http``) that returns the response as plain data;
  a safe repeat of a step polled more often than once a second runs as a *local* activity (one marker
  event instead of a task-queue round trip); a request that is not safe to re-send is a regular
  activity with a single attempt, so a lost worker can never send it twice;
- every ``Wait`` (poll intervals, ``retryAfter``, ``Retry-After``) is a durable Temporal timer: a run
  that waits holds no worker;
- ``now`` is ``workflow.now()`` and the jitter comes from the run's seeded random source, both replayed
  identically, so the engine's decisions are deterministic as Temporal requires;
- when the history grows past a bound (or Temporal suggests it), the run continues as new, carrying
  ``spola.drivers.snapshot`` of its state, so a poll loop of any length keeps every history small.

Sub-workflows and ``dependsOn`` stay inside the same Temporal workflow (they are frames of one
``Run``, their requests concurrent activities): see docs/temporal.md for why.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from spola.core.actions import Finish, SendRequest, Wait
    from spola.core.engine import Run
    from spola.drivers.snapshot import (
        SnapshotError,
        event_to_dict,
        options_from_dict,
        owed_requests,
        request_to_dict,
        response_from_dict,
        restore,
        snapshot,
    )
    from spola.drivers.temporal.names import (
        BURST_ACTIVITY,
        BURST_SECONDS,
        CONTINUE_AFTER_EVENTS,
        EVENT_BUFFER,
        HTTP_ACTIVITY,
        LOCAL_BELOW_SECONDS,
        PROGRESS_QUERY,
        STATE_QUERY,
        WORKFLOW,
    )
    from spola.errors import SpolaError
    from spola.exchange import HttpResponse
    from spola.model.bundle import Bundle, load_bundle

HEARTBEAT_SECONDS = 5.0


@workflow.defn(name=WORKFLOW)
class ArazzoRun:
    """One Arazzo run as one Temporal workflow (a chain of them after continue-as-new)."""

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._base = 0
        self._run: Run | None = None
        self._last_end: dict[str, float] = {}
        self._bursts = True
        self._allow_hosts: list[str] = []

    @workflow.run
    async def run(self, start: dict[str, Any]) -> dict[str, Any]:
        """Run to the end and return the result as ``spola run --json`` prints it."""
        try:
            return await self._drive(start)
        except SpolaError as exc:
            # the client validated the run before submitting it: this is a document the worker reads
            # differently (another spola version) — fail the workflow rather than retry its task forever
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from None

    async def _drive(self, start: dict[str, Any]) -> dict[str, Any]:
        self._base = int(start.get("eventBase", 0))
        document = load_bundle(Bundle.from_dict(start["bundle"]), start["workflowId"])
        options = options_from_dict(start["options"])
        self._allow_hosts = list(options.allow_hosts)
        secret_inputs = frozenset(start.get("secretInputs", ()))
        state = start.get("snapshot")
        if state is None:
            run = Run(
                document,
                start["workflowId"],
                start.get("inputs") or {},
                options=options,
                run_id=start["runId"],
                started_at=workflow.now().timestamp(),
                secret_inputs=secret_inputs,
            )
        else:
            run = restore(
                document,
                state,
                workflow_id=start["workflowId"],
                inputs=start.get("inputs") or {},
                options=options,
                secret_inputs=secret_inputs,
            )
        run.observed = True
        self._run = run
        self._last_end = dict(start.get("lastEnd") or {})
        continue_after = int(start.get("continueAfter") or CONTINUE_AFTER_EVENTS)
        local_below = float(start.get("localBelow", LOCAL_BELOW_SECONDS))
        in_flight: dict[asyncio.Task[HttpResponse], SendRequest] = {}
        try:
            while True:
                now = workflow.now().timestamp()
                actions = run.next_actions(now)
                self._collect(run)
                wait_until: float | None = None
                sends = [a for a in actions if isinstance(a, SendRequest)]
                if (
                    len(sends) == 1
                    and not in_flight
                    and self._bursts
                    and self._fast(sends[0], now, local_below)
                ):
                    outcome = await self._burst(run, start, local_below)
                    if isinstance(outcome, dict):
                        return outcome
                    if outcome is not None:
                        run = self._run = outcome
                        self._last_end[sends[0].step_path] = workflow.now().timestamp()
                        for owed in owed_requests(run):
                            in_flight[asyncio.ensure_future(self._exchange(owed, now, local_below))] = owed
                        if not in_flight and not run.calls and not run.finished:
                            self._maybe_continue(run, start, continue_after)
                        continue
                for action in actions:
                    if isinstance(action, Finish):
                        return action.result.to_dict()
                    if isinstance(action, SendRequest):
                        task = asyncio.ensure_future(self._exchange(action, now, local_below))
                        in_flight[task] = action
                    elif isinstance(action, Wait):
                        wait_until = action.until
                timeout = None if wait_until is None else max(0.0, wait_until - now)
                if not in_flight:
                    if timeout:
                        await workflow.sleep(timeout)
                    continue
                done, _ = await workflow.wait(
                    list(in_flight), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in [t for t in in_flight if t in done]:
                    answered = in_flight.pop(task)
                    received_at = workflow.now().timestamp()
                    self._last_end[answered.step_path] = received_at
                    run.receive(answered.call_id, task.result(), received_at)
                if not in_flight and not run.calls and not run.finished:
                    self._maybe_continue(run, start, continue_after)
        finally:
            for task in in_flight:
                task.cancel()

    def _fast(self, action: SendRequest, now: float, local_below: float) -> bool:
        """A safe step polled again less than ``local_below`` seconds after its last response."""
        previous = self._last_end.get(action.step_path)
        return (
            action.idempotent and action.attempt > 1 and previous is not None and now - previous < local_below
        )

    async def _burst(
        self, run: Run, start: dict[str, Any], local_below: float
    ) -> Run | dict[str, Any] | None:
        """Hand a fast, safe poll loop to the heartbeating burst activity; the run it hands back (restored
        from its snapshot), the result if the run finished there, or None to poll here after all."""
        try:
            state = snapshot(run)
        except SnapshotError:
            self._bursts = False
            return None
        job = {
            "bundle": start["bundle"],
            "workflowId": start["workflowId"],
            "inputs": start.get("inputs") or {},
            "options": start["options"],
            "secretInputs": start.get("secretInputs", ()),
            "snapshot": state,
            "localBelow": local_below,
            "maxSeconds": BURST_SECONDS,
        }
        try:
            back = await workflow.execute_activity(
                BURST_ACTIVITY,
                job,
                start_to_close_timeout=timedelta(seconds=BURST_SECONDS + run.options.http_timeout + 60),
                heartbeat_timeout=timedelta(seconds=HEARTBEAT_SECONDS),
                retry_policy=RetryPolicy(maximum_attempts=5),
                result_type=dict,
            )
        except ActivityError as exc:
            workflow.logger.warning(
                "the poll-burst activity failed (%s); polling from the workflow", exc.cause
            )
            self._bursts = False
            return None
        self._events.extend(back.get("events", ()))
        self._trim()
        if back.get("result") is not None:
            result: dict[str, Any] = back["result"]
            return result
        return restore(
            load_bundle(Bundle.from_dict(start["bundle"]), start["workflowId"]),
            back["snapshot"],
            workflow_id=start["workflowId"],
            inputs=start.get("inputs") or {},
            options=run.options,
            secret_inputs=frozenset(start.get("secretInputs", ())),
        )

    async def _exchange(self, action: SendRequest, now: float, local_below: float) -> HttpResponse:
        call = {
            "request": request_to_dict(action.request),
            "timeout": action.timeout,
            "stepPath": action.step_path,
            "stepId": action.step_id,
            "attempt": action.attempt,
            "idempotent": action.idempotent,
            "maxBytes": action.max_bytes,
            "allowHosts": self._allow_hosts,  # the activity refuses other hosts, like drive() does
        }
        budget = timedelta(seconds=action.timeout + 30)
        try:
            if self._fast(action, now, local_below):
                data = await workflow.execute_local_activity(
                    HTTP_ACTIVITY,
                    call,
                    start_to_close_timeout=budget,
                    retry_policy=RetryPolicy(maximum_attempts=3),
                    result_type=dict,
                )
            else:
                data = await workflow.execute_activity(
                    HTTP_ACTIVITY,
                    call,
                    start_to_close_timeout=budget,
                    heartbeat_timeout=timedelta(seconds=HEARTBEAT_SECONDS),
                    # a request that is not safe to re-send gets one attempt: a lost worker fails the
                    # step (its onFailure actions decide) rather than sending it twice
                    retry_policy=RetryPolicy(maximum_attempts=3 if action.idempotent else 1),
                    result_type=dict,
                )
        except ActivityError as exc:
            cause = exc.cause or exc
            what = "re-sent" if action.idempotent else "not re-sent: it is not safe to repeat"
            return HttpResponse(
                status=None, error=f"the worker sending the request was lost or failed ({cause}); {what}"
            )
        return response_from_dict(data)

    def _maybe_continue(self, run: Run, start: dict[str, Any], continue_after: int) -> None:
        info = workflow.info()
        if info.get_current_history_length() < continue_after and not info.is_continue_as_new_suggested():
            return
        try:
            state = snapshot(run)
        except SnapshotError as exc:
            workflow.logger.warning("cannot continue as new (%s); the history keeps growing", exc)
            return
        self._collect(run)
        workflow.continue_as_new(
            {
                **start,
                "snapshot": state,
                "eventBase": self._base + len(self._events),
                "lastEnd": self._last_end,
            }
        )

    def _collect(self, run: Run) -> None:
        for event in run.drain_events():
            self._events.append(event_to_dict(event))
        self._trim()

    def _trim(self) -> None:
        overflow = len(self._events) - EVENT_BUFFER
        if overflow > 0:
            del self._events[:overflow]
            self._base += overflow

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self, since: int) -> dict[str, Any]:
        """Progress events numbered from the run's start (across continue-as-new), from ``since`` on."""
        skip = max(0, since - self._base)
        return {
            "first": self._base + skip,
            "next": self._base + len(self._events),
            "events": self._events[skip:],
        }

    @workflow.query(name=STATE_QUERY)
    def state(self) -> dict[str, Any]:
        """Where the run is: its step reports so far (the ``--json`` shape with status ``running``)."""
        run = self._run
        if run is None:
            return {"status": "starting"}
        if run.result is not None:
            return run.result.to_dict()
        current = run.root.step.step_id if run.root.index < len(run.root.workflow.steps) else None
        return {
            "runId": run.run_id,
            "workflowId": run.root.workflow.workflow_id,
            "status": "running",
            "currentStep": current,
            "executions": run.executions,
            "outputs": {},
            "steps": [r.to_dict() for r in run.reports.values()],
            "error": None,
        }
