"""The sans-I/O engine: ``Run.next_actions(now)`` decides, ``Run.receive(call_id, response, now)`` learns.

The engine never sends, sleeps or reads a clock: time arrives as ``now`` and jitter comes from a
random source seeded in the options, so replaying the same responses reproduces the same run.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from spola.core import explain, flow
from spola.core.actions import Action, Finish, SendRequest, Wait
from spola.core.events import ActionTaken, Event, StepFinished, StepStarted, Waiting, WorkflowFinished
from spola.core.frame import Frame, Link
from spola.core.inputs import validate_inputs
from spola.core.nesting import check_self_running
from spola.core.plan import shared_plan
from spola.core.report import RunError, RunResult, StepReport
from spola.core.scope import build_scope, evaluate_outputs, read_body
from spola.errors import EngineMisuse, NestingTooDeep, SpolaError
from spola.expr import MISSING
from spola.model.roles import roles_of
from spola.options import RunOptions
from spola.redact import Redactor
from spola.request_builder import RequestBuildError, merge_parameters

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from collections.abc import Set as AbstractSet

    from spola.exchange import HttpResponse
    from spola.expr import Scope
    from spola.model import Document, Step, Workflow


_NONE: frozenset[Any] = frozenset()
T = TypeVar("T")


def _frozen(values: AbstractSet[T]) -> frozenset[T]:
    """``values`` as a frozenset; the shared empty one when empty (every set is tracked by the
    cyclic collector, and most runs have no secrets)."""
    return frozenset(values) if values else _NONE


class Run:
    """One execution of a workflow, as a state machine a driver feeds with responses.

    Args:
        document: the loaded Arazzo document.
        workflow_id: the workflow to run (None: the document's only workflow).
        inputs: workflow inputs; validated against the schema, defaults applied.
        options: limits, polling, servers and credentials.
        run_id: the id reported in the result.
        started_at: the clock value at the start (for ``--timeout``).

    Raises:
        WorkflowNotFound: no such workflow. InputError: inputs do not match the schema.
    """

    def __init__(
        self,
        document: Document,
        workflow_id: str | None = None,
        inputs: dict[str, Any] | None = None,
        *,
        options: RunOptions | None = None,
        run_id: str = "",
        started_at: float = 0.0,
        secret_inputs: frozenset[str] = frozenset(),
    ) -> None:
        self.options = options or RunOptions()
        workflow = document.workflow(workflow_id) if workflow_id else document.default_workflow()
        check_self_running(document, workflow)
        self.document = document
        self.run_id = run_id
        self.started_at = started_at
        self.deadline = started_at + self.options.timeout if self.options.timeout else None
        components = getattr(document.components, "inputs", None) or {}
        validated = validate_inputs(
            workflow.inputs,
            inputs or {},
            workflow_id=workflow.workflow_id,
            component_inputs=components,
            refuse_undeclared=True,
        )
        roles = roles_of(document, workflow)
        self.secret_inputs = _frozen(secret_inputs | roles.inputs)
        self.secret_outputs = _frozen(roles.outputs)
        secrets = {c.value for c in self.options.credentials}
        secrets.update(_userinfo_passwords(self.options.servers.values()))
        secrets.update(str(validated[n]) for n in self.secret_inputs if validated.get(n) not in (None, ""))
        self.secret_values = _frozen(secrets)
        self.redactor = Redactor.of(self.secret_values)
        self.rng = random.Random(self.options.seed)  # noqa: S311 - jitter, not security
        self.frames: dict[int, Frame] = {}
        self.calls: dict[int, int] = {}
        self.abandoned: set[int] = set()
        self.next_call = 1
        self.next_fid = 1
        self.executions = 0
        self.workflow_states: dict[str, dict[str, Any]] = {}
        self.reports: dict[tuple[str, str], StepReport] = {}
        self.events: list[Event] = []
        self.observed = True
        self.now = started_at
        self.remote_cache: dict[int, tuple[str, ...]] = {}
        self.result: RunResult | None = None
        self._foreseen: dict[int, _Foreseen] = {}
        """Credential outputs evaluated before their response is received, by call id."""
        self.root = self._spawn(document, workflow, validated, None, "root", workflow.workflow_id)
        for step in workflow.steps:
            self._report(self.root, step.step_id)

    # ----------------------------------------------------------------- driver API
    def next_actions(self, now: float) -> list[Action]:
        """What the driver should do now: requests to send, a time to wait until, or the end.

        An empty list means: wait for the responses already owed.
        """
        self.now = now
        if self.result is None and self.deadline is not None and now >= self.deadline:
            self._fail_run(None, f"the run exceeded its time limit of {self.options.timeout:g} s (--timeout)")
        sends: list[Action] = []
        progressed = True
        while progressed and self.result is None:
            progressed = False
            for frame in list(self.frames.values()):
                if frame.phase == "wait_timer" and frame.wake_at <= now:
                    frame.phase = "ready"
                if frame.phase in ("deps", "ready"):
                    action = self._advance(frame, now)
                    if action is not None:
                        # a request asked for moves only its own frame (to wait_call): no other
                        # frame can have become ready, so it needs no further pass
                        sends.append(action)
                    else:
                        progressed = True
                    if self.result is not None:
                        break
        if self.result is not None:
            return [Finish(self.result)]
        if sends:
            return sends
        timers = [f.wake_at for f in self.frames.values() if f.phase == "wait_timer"]
        if self.deadline is not None:
            timers.append(self.deadline)
        if timers:
            return [Wait(until=min(timers), reason="poll")]
        if not self.calls:
            raise EngineMisuse("the run has nothing to do and nothing owed: a bug in spola")
        return []

    def receive(self, call_id: int, response: HttpResponse, now: float) -> None:
        """Hand over the response (or transport failure) for ``call_id``.

        Raises:
            EngineMisuse: no request with that id is owed.
        """
        foreseen = self._foreseen.pop(call_id, None) if self._foreseen else None
        fid = self.calls.pop(call_id, None)
        if fid is None:
            if self.result is not None or call_id in self.abandoned:
                return
            raise EngineMisuse(f"a response for call {call_id}, which is not owed")
        frame = self.frames.get(fid)
        if frame is None or frame.call_id != call_id:
            return
        frame.call_id = None
        frame.last_response = response
        frame.last_received_at = now
        self.now = now
        step = frame.step
        report = frame.step_report  # (the step the frame started: it owed this call)
        if report is None or report.step_id != step.step_id:
            report = self._report(frame, step.step_id)
        report.duration_ms += response.elapsed * 1000
        report.last_status_code = response.status
        attempt = frame.throttle_attempts + 1
        known: Mapping[str, Any] | None = None
        if foreseen is not None and foreseen.response is response:
            body, problem, known = foreseen.body, foreseen.problem, foreseen.outputs  # evaluated once
        else:
            body, problem = read_body(response)
        if response.error is not None and response.status is not None:
            problem = response.error
        scope = build_scope(frame, self.workflow_states, response=response, body=body)
        self._judge(
            frame,
            scope,
            now,
            response=response,
            problem=problem,
            call_id=call_id,
            attempt=attempt,
            known=known,
            report=report,
            step=step,
        )

    def _emit_resend(self, frame: Frame, response: HttpResponse, call_id: int, what: str, now: float) -> None:
        step = frame.step
        delay = frame.pending_delay
        after = f" after {delay:.3g} s" if delay else ""
        why = f"{what} → re-send{after} ({frame.delay_reason})"
        self.emit(
            StepFinished(
                frame.workflow.workflow_id,
                step.step_id,
                frame.runs[step.step_id],
                response.status,
                False,
                "resend (throttled)",
                response.elapsed,
                (what,),
                frame.depth,
                at=now,
                started_at=frame.step_started_at,
                call_id=call_id,
                step_path=f"{frame.path}/{step.step_id}",
                attempt=frame.throttle_attempts,
                response=explain.response_summary(response, self.redactor, frame.request),
                action=ActionTaken("resend", self.redactor.redact_text(why), None, step.step_id, delay),
            )
        )

    def learn_secrets(self, values: Iterable[str]) -> None:
        """Treat these values as secrets from now on (a token obtained or a secret step output)."""
        fresh = [v for v in values if v and v not in self.secret_values]
        if fresh:
            self.secret_values = self.secret_values | frozenset(fresh)
            self.redactor = self.redactor.with_secrets(fresh)

    def secret_output_values(self, call_id: int, response: HttpResponse) -> list[str] | None:
        """What the step owed ``call_id`` would take from ``response`` for its outputs that are sent
        as credentials (a login's token), or None when it has none; nothing changes in the run.

        The journal asks before it records the response, so that value is never stored in clear;
        resume asks of a stored response, to see whether that step must be repeated. A value that
        cannot be found (or is not a string or number) is ``""``.
        """
        foreseen = self._credential_outputs(call_id, response)
        return None if foreseen is None else [_as_secret(value) for value in foreseen.outputs.values()]

    def foresee_secrets(self, call_id: int, response: HttpResponse) -> None:
        """Learn the credential outputs ``response`` will give its step (see `secret_output_values`)
        before it is received. `receive` of that same response reuses them (and its parsed body):
        they are evaluated once."""
        foreseen = self._credential_outputs(call_id, response)
        if foreseen is not None:
            self.learn_secrets(v for v in map(_as_secret, foreseen.outputs.values()) if v)
            self._foreseen[call_id] = foreseen

    def _credential_outputs(self, call_id: int, response: HttpResponse) -> _Foreseen | None:
        """The outputs sent on as credentials that ``response`` gives the step owed ``call_id``."""
        if not self.secret_outputs:
            return None
        fid = self.calls.get(call_id)
        frame = None if fid is None else self.frames.get(fid)
        if frame is None or frame.call_id != call_id:
            return None
        step = frame.step
        wanted = {n: v for n, v in step.outputs.items() if (step.step_id, n) in self.secret_outputs}
        if not wanted:
            return None
        body, problem = read_body(response)
        scope = build_scope(frame, self.workflow_states, response=response, body=body)
        return _Foreseen(response, body, problem, evaluate_outputs(wanted, scope))

    def _learn_outputs(self, frame: Frame) -> None:
        outputs = frame.step_outputs.get(frame.step.step_id) or {}
        found = [
            str(value)
            for name, value in outputs.items()
            if (frame.step.step_id, name) in self.secret_outputs
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
        ]
        self.learn_secrets(found)

    def settle_outputs(self) -> None:
        """Evaluate every step output left owed (`spola.core.flow.settle_outputs`): for a driver
        about to take the run's state as plain data. Nothing the run decides changes."""
        for frame in self.frames.values():
            flow.settle_outputs(frame)

    def interrupt(self, reason: str = "interrupted") -> RunResult:
        """Stop the run where it is and report it as interrupted."""
        if self.result is None:
            self._finish("interrupted", RunError(self._current_step_id(), reason))
        assert self.result is not None
        return self.result

    def emit(self, event: Event) -> None:
        """Keep an event for the driver's observer (nothing is kept while nobody observes)."""
        if self.observed:
            self.events.append(event)

    def drain_events(self) -> list[Event]:
        """Events since the last call (step started/finished, waits), oldest first."""
        events, self.events = self.events, []
        return events

    @property
    def finished(self) -> bool:
        """True once the run has a result."""
        return self.result is not None

    # ----------------------------------------------------------------- frames
    def _spawn(
        self,
        document: Document,
        workflow: Workflow,
        inputs: dict[str, Any],
        parent: Frame | None,
        link: Link,
        path: str,
    ) -> Frame:
        frame = Frame(
            fid=self.next_fid,
            document=document,
            workflow=workflow,
            inputs=inputs,
            depth=0 if parent is None else parent.depth + 1,
            parent=None if parent is None else parent.fid,
            link=link,
            path=path,
        )
        self.next_fid += 1
        self.frames[frame.fid] = frame
        return frame

    def spawn_child(
        self, parent: Frame, ref: str, inputs: dict[str, Any], link: Link, *, validate: bool = True
    ) -> Frame:
        """Start a nested workflow (a workflow step, a dependency, a goto or retry target).

        Raises:
            WorkflowNotFound, InputError: the workflow or its inputs; NestingTooDeep: ``max_depth``.
        """
        if parent.depth + 1 > self.options.max_depth:
            raise NestingTooDeep(
                f"workflow {ref} would be nested {parent.depth + 1} workflows deep, over the limit of "
                f"{self.options.max_depth} (--max-depth); does a workflow run itself?"
            )
        document, workflow = parent.document.resolve_workflow(ref)
        if validate:
            components = getattr(document.components, "inputs", None) or {}
            inputs = validate_inputs(
                workflow.inputs, inputs, workflow_id=workflow.workflow_id, component_inputs=components
            )
        child = self._spawn(document, workflow, inputs, parent, link, f"{parent.path}>{workflow.workflow_id}")
        parent.pending.add(child.fid)
        parent.phase = "wait_children"
        return child

    def _advance(self, frame: Frame, now: float) -> SendRequest | None:
        if frame.phase == "deps":
            frame.phase = "ready"
            if frame.workflow.depends_on:
                for ref in frame.workflow.depends_on:
                    try:
                        self.spawn_child(frame, ref, dict(frame.inputs), "dependency")
                    except NestingTooDeep as exc:
                        self._fail_run(None, str(exc))
                        return None
                    except SpolaError as exc:
                        self.complete(frame, "failed", RunError(None, f"dependency {ref}: {exc}"))
                        return None
                return None
        if frame.index >= len(frame.workflow.steps):
            self.complete(frame, "succeeded", None)
            return None
        if frame.pending_delay:
            frame.wake_at = now + frame.pending_delay
            frame.phase = "wait_timer"
            if self.observed:  # `emit` keeps it only then: not even built otherwise
                self.emit(
                    Waiting(
                        frame.workflow.workflow_id,
                        frame.step.step_id,
                        frame.pending_delay,
                        frame.delay_reason,
                        frame.depth,
                        at=now,
                        until=frame.wake_at,
                    )
                )
            frame.pending_delay = None
            return None
        frame.pending_delay = None
        return self._start_step(frame, now)

    def _start_step(self, frame: Frame, now: float) -> SendRequest | None:
        step = frame.step
        self.executions += 1
        if self.executions > self.options.max_steps:
            self._fail_run(
                step.step_id,
                f"the run reached its limit of {self.options.max_steps} step "
                "executions (--max-steps) at step " + step.step_id,
            )
            return None
        step_id = step.step_id
        runs = frame.runs
        if frame.resend:
            frame.resend = False
            execution = runs[step_id]
        else:
            execution = runs[step_id] = runs.get(step_id, 0) + 1
        report = frame.step_report  # (the frame's last step's: a poll's own report again)
        if report is None or report.step_id != step_id:
            report = frame.step_report = self._report(frame, step_id)
        report.executions += 1
        frame.step_started_at = now
        frame.request = None
        last_built, frame.last_built = frame.last_built, None
        if step.depends_on:
            unmet = flow.unmet_dependency(frame, self.workflow_states)
            if unmet is not None:
                self._judge(frame, build_scope(frame, self.workflow_states), now, problem=unmet)
                return None
        if step.workflow_id:
            self.emit(
                StepStarted(
                    frame.workflow.workflow_id,
                    step.step_id,
                    execution,
                    None,
                    None,
                    frame.depth,
                    at=now,
                    step_path=f"{frame.path}/{step.step_id}",
                )
            )
            scope = build_scope(frame, self.workflow_states)
            params = merge_parameters(frame.workflow.parameters, step.parameters)
            child_inputs = {}
            for p in params:
                value = p.value.evaluate(scope)
                if value is not MISSING:
                    child_inputs[p.name] = value
            try:
                self.spawn_child(frame, step.workflow_id, child_inputs, "step")
            except NestingTooDeep as exc:
                self._fail_run(step.step_id, f"step {step.step_id}: {exc}")
            except SpolaError as exc:
                self._judge(frame, scope, now, problem=str(exc))
            return None
        if last_built is not None and last_built[0].step is step and last_built[1] is self.secret_values:
            # the step again, right after itself: nothing its request reads has changed
            plan, _, built, step_path = last_built
        else:
            plan = shared_plan(frame.document, frame.workflow, step, self.options)
            step_path = f"{frame.path}/{step_id}"
            scope = build_scope(frame, self.workflow_states)
            if plan.operation is None:
                self._judge(
                    frame,
                    scope,
                    now,
                    problem=f"step {step.step_id} has no runnable operation "
                    "(AsyncAPI steps are not supported yet)",
                )
                return None
            try:
                built = plan.build(scope, self.options, self.secret_values)
            except (RequestBuildError, SpolaError, ValueError, TypeError) as exc:
                self._judge(frame, scope, now, problem=f"cannot build the request: {exc}")
                return None
        if plan.repeatable:
            frame.last_built = (plan, self.secret_values, built, step_path)
        frame.request = built.request
        frame.idempotent = built.idempotent
        call_id = self.next_call
        self.next_call += 1
        self.calls[call_id] = frame.fid
        frame.call_id = call_id
        frame.phase = "wait_call"
        if self.observed:
            shown = frame.request_summary
            if shown is not None and shown[0] is built.request and shown[1] is self.redactor:
                summary = shown[2]  # a poll's request, repeated as it was: shown as it was
            else:
                summary = explain.request_summary(built.request, self.redactor)
                frame.request_summary = (built.request, self.redactor, summary)
            self.emit(
                StepStarted(
                    frame.workflow.workflow_id,
                    step.step_id,
                    execution,
                    summary.method,
                    summary.url,
                    frame.depth,
                    at=now,
                    call_id=call_id,
                    step_path=step_path,
                    attempt=frame.throttle_attempts + 1,
                    request=summary,
                )
            )
        return SendRequest(
            call_id,
            built.request,
            step_path,
            step.step_id,
            execution,
            built.idempotent,
            plan.timeout,
            self.options.max_response_bytes,
        )

    def complete(self, frame: Frame, status: str, error: RunError | None) -> None:
        """End a workflow execution, compute its outputs and hand control to whoever waits for it."""
        frame.phase = "done"
        frame.status = status
        frame.error = error
        flow.settle_outputs(frame)
        scope = build_scope(frame, self.workflow_states)
        outputs = evaluate_outputs(frame.workflow.outputs, scope, chained=True)
        frame.outputs = outputs
        self.workflow_states[frame.workflow.workflow_id] = {
            "inputs": frame.inputs,
            "outputs": outputs,
            "steps": frame.step_outputs,
        }
        if self.observed:
            self.emit(
                WorkflowFinished(
                    frame.workflow.workflow_id,
                    status,
                    frame.depth,
                    at=self.now,
                    outputs=self.redactor.redact_value(outputs),
                    error=self.redactor.redact_text(error.message) if error else None,
                    error_step=error.step_id if error else None,
                )
            )
        for fid in list(frame.pending):
            self._discard(fid)
        if frame.parent is None:
            self._finish(status, error)
            return
        parent = self.frames[frame.parent]
        parent.pending.discard(frame.fid)
        del self.frames[frame.fid]
        self._child_done(parent, frame)

    # ----------------------------------------------------------------- control flow
    def _judge(
        self,
        frame: Frame,
        scope: Scope,
        now: float,
        *,
        response: HttpResponse | None = None,
        problem: str | None = None,
        child: Frame | None = None,
        call_id: int | None = None,
        attempt: int = 1,
        known: Mapping[str, Any] | None = None,
        report: StepReport | None = None,
        step: Step | None = None,
    ) -> None:
        if step is None:  # (receive gives the frame's step, looked up already)
            step = frame.step
        trace: flow.Trace | None = [] if self.observed else None
        if response is not None and response.secrets:
            self.learn_secrets(response.secrets)
        verdict = flow.judge(
            frame,
            scope,
            now,
            self.options,
            self.rng,
            response=response,
            problem=problem,
            child=child,
            deadline=self.deadline,
            trace=trace,
            known=known,
            step=step,
            defer_outputs=trace is None and not self.secret_outputs,
        )
        if self.secret_outputs:
            self._learn_outputs(frame)
        if report is None:  # (receive gives the step's report, looked up already)
            report = self._report(frame, step.step_id)
        if verdict.resend:
            assert response is not None
            if self.observed:
                what = self.redactor.redact_text(verdict.reasons[0])
                self._emit_resend(frame, response, call_id or 0, what, now)
            return
        report.status = "succeeded" if verdict.passed else "failed"
        reasons = verdict.reasons
        report.reasons = [self.redactor.redact_text(r) for r in reasons] if reasons else []
        if child is not None:
            report.last_status_code = None
        if trace is None:
            self._then(frame, verdict.then)
            return
        criteria = explain.criteria_results(trace, self.redactor)
        action = explain.action_taken(verdict, frame, step, criteria)
        state = explain.remote_state(frame, step, self.remote_cache, self.redactor, criteria)
        outputs = self.redactor.redact_value(frame.step_outputs.get(step.step_id) or {})
        event = StepFinished(
            frame.workflow.workflow_id,
            step.step_id,
            frame.runs.get(step.step_id, 0),
            response.status if response is not None else None,
            verdict.passed,
            verdict.label,
            response.elapsed if response is not None else 0.0,
            tuple(report.reasons),
            frame.depth,
            at=now,
            started_at=frame.step_started_at,
            call_id=call_id,
            step_path=f"{frame.path}/{step.step_id}",
            attempt=attempt,
            response=explain.response_summary(response, self.redactor, frame.request) if response else None,
            criteria=criteria,
            action=action,
            remote_state=state,
            outputs=outputs,
        )
        self.emit(event)
        self._then(frame, verdict.then)

    def _then(self, frame: Frame, then: flow.Then) -> None:
        if then is None:  # the frame was scheduled: nothing else to do
            return
        if isinstance(then, flow.Complete):
            self.complete(frame, then.status, then.error)
        elif isinstance(then, flow.Spawn):
            try:
                self.spawn_child(frame, then.ref, then.inputs, then.link)
            except NestingTooDeep as exc:
                self._fail_run(frame.step.step_id, f"step {frame.step.step_id}: {exc}")
            except SpolaError as exc:
                message = f"cannot start workflow {then.ref}: {exc}"
                self.complete(frame, "failed", RunError(frame.step.step_id, message))

    def _child_done(self, parent: Frame, child: Frame) -> None:
        then = flow.after_child(parent, child, self.options, self.rng)
        if then is True:
            # a step that ran a workflow: $statusCode, $request.*, $response.* are the child's last exchange
            parent.request, parent.last_response = child.request, child.last_response
            scope = build_scope(
                parent, self.workflow_states, response=child.last_response, child_outputs=child.outputs
            )
            self._judge(parent, scope, parent.last_received_at, child=child)
        elif then is not False:
            self._then(parent, then)

    def _discard(self, fid: int) -> None:
        frame = self.frames.pop(fid, None)
        if frame is None:
            return
        if frame.call_id is not None:
            self.calls.pop(frame.call_id, None)
            self.abandoned.add(frame.call_id)
        for child in list(frame.pending):
            self._discard(child)

    # ----------------------------------------------------------------- results
    def _report(self, frame: Frame, step_id: str) -> StepReport:
        key = (frame.path, step_id)
        report = self.reports.get(key)
        if report is None:
            report = StepReport(step_id=step_id, workflow_id=frame.workflow.workflow_id, depth=frame.depth)
            self.reports[key] = report
        return report

    def step_report(self, frame: Frame, step_id: str) -> StepReport:
        """The report entry of a step in a frame (created on first use)."""
        return self._report(frame, step_id)

    def _current_step_id(self) -> str | None:
        frame = self.frames.get(self.root.fid)
        if frame is None or frame.index >= len(frame.workflow.steps):
            return None
        return frame.step.step_id

    def _fail_run(self, step_id: str | None, message: str) -> None:
        root = self.root
        if root.phase != "done":
            self.complete(root, "failed", RunError(step_id, message))

    def _finish(self, status: str, error: RunError | None) -> None:
        root = self.root
        if root.phase != "done":
            root.phase = "done"
            flow.settle_outputs(root)
            scope = build_scope(root, self.workflow_states)
            root.outputs = evaluate_outputs(root.workflow.outputs, scope, chained=True)
        message = error and RunError(error.step_id, self.redactor.redact_text(error.message))
        self.result = RunResult(
            run_id=self.run_id,
            workflow_id=root.workflow.workflow_id,
            status=status,
            outputs=self.redactor.redact_value(root.outputs),
            steps=tuple(self.reports.values()),
            error=message,
        )
        self.abandoned.update(self.calls)
        self.calls.clear()
        self.frames = {root.fid: root}


class _Foreseen(NamedTuple):
    """A response's credential outputs, evaluated before it is received (`Run.foresee_secrets`)."""

    response: HttpResponse
    body: Any
    problem: str | None
    outputs: dict[str, Any]


def _as_secret(value: Any) -> str:
    """An output value as the secret text it is sent as; ``""`` when it is not a string or number."""
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def _userinfo_passwords(urls: Iterable[str]) -> set[str]:
    """Passwords written into ``--server`` URLs (``https://user:pass@host``): credentials by their place."""
    from urllib.parse import unquote, urlsplit

    found: set[str] = set()
    for url in urls:
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password:
            found.update({password, unquote(password)})
    return found
