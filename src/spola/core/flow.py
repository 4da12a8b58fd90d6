"""After a step: success criteria, outputs, then end / goto / retry / next — the Arazzo control flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.core.events import StepFinished
from spola.core.polling import THROTTLE_STATUSES, poll_delay, retry_after_seconds
from spola.core.report import RunError
from spola.core.scope import build_scope, evaluate_outputs
from spola.errors import SpolaError
from spola.expr import MISSING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spola.core.engine import Run
    from spola.core.frame import Frame
    from spola.exchange import HttpResponse
    from spola.expr import Scope
    from spola.model import Criterion, FailureAction, SuccessAction

OUTAGE_STATUSES = frozenset({500, 502, 503, 504})
"""Statuses a safe request is re-sent on while an API is down (with 429, and transport failures)."""


def transparent_retry(run: Run, frame: Frame, scope: Scope, response: HttpResponse, now: float) -> bool:
    """Re-send a failed exchange the document says nothing about; True when a re-send is scheduled.

    Eligible: a 429 (any method: the server refused to act on it), a failure before any byte was
    sent (any method), and, for a safe request only (an idempotent method or an idempotency key),
    any other transport failure and a 500/502/503/504 — an outage a poll rides out. Never when a
    failure action of the step or workflow applies (the document's policy is the law), never past
    the budget (``retry_attempts`` re-sends, ``retry_wait`` seconds of waiting), never past the
    run's deadline. ``Retry-After`` decides the wait, else the ``retry_backoff`` policy.
    """
    status = response.status
    if status == 429 or (status is None and response.unsent and not response.refused):
        pass
    elif not frame.idempotent or not (status is None or status in OUTAGE_STATUSES) or response.refused:
        return False
    options = run.options
    if frame.throttle_attempts >= options.retry_attempts:
        return False
    for action in _actions(frame.step.on_failure, frame.workflow.failure_actions):
        if criteria_hold(action.criteria, scope)[0]:
            return False
    delay = retry_after_seconds(response, now)
    if delay is None:
        delay = poll_delay(options.retry_backoff, frame.throttle_attempts + 1, run.rng)
    delay = min(delay, options.retry_after_cap)
    if frame.throttle_waited + delay > options.retry_wait:
        return False
    if run.deadline is not None and now + delay >= run.deadline:
        return False
    frame.throttle_attempts += 1
    frame.throttle_waited += delay
    what = f"HTTP {status}" if status is not None else f"transport error ({response.error})"
    frame.pending_delay = delay
    frame.delay_reason = (
        f"{what}; re-send {frame.throttle_attempts} of at most {options.retry_attempts} "
        f"({frame.throttle_waited:g} s of {options.retry_wait:g} s waited)"
    )
    frame.resend = True
    frame.phase = "ready"
    step = frame.step
    run.emit(
        StepFinished(
            frame.workflow.workflow_id,
            step.step_id,
            frame.runs[step.step_id],
            status,
            False,
            "re-send (transparent retry)",
            response.elapsed,
            (run.redactor.redact_text(what),),
            frame.depth,
        )
    )
    return True


def criteria_hold(criteria: Sequence[Criterion], scope: Scope) -> tuple[bool, list[str]]:
    """Whether every criterion passes, and why not for those that fail."""
    reasons: list[str] = []
    for criterion in criteria:
        verdict = criterion.compiled.evaluate(scope)
        if not verdict.passed:
            text = f"`{criterion.condition}` was false"
            if verdict.reason:
                text += f" ({verdict.reason})"
            reasons.append(text)
    return not reasons, reasons


def judge(
    run: Run,
    frame: Frame,
    scope: Scope,
    now: float,
    *,
    response: HttpResponse | None = None,
    problem: str | None = None,
    child: Frame | None = None,
) -> None:
    """Decide a step's outcome from its response (or problem, or finished child) and move on."""
    step = frame.step
    reasons: list[str] = []
    if problem is not None:
        passed, reasons = False, [problem]
    elif step.success_criteria:
        passed, reasons = criteria_hold(step.success_criteria, scope)
    elif child is not None:
        passed = child.status == "succeeded"
        if not passed and child.error:
            reasons = [child.error.message]
    elif response is not None and response.status is None:
        passed, reasons = False, [f"no response: {response.error}"]
    else:
        passed = response is None or (response.status or 0) < 400
        if not passed:
            reasons = [
                f"HTTP {response.status if response else None} and the step declares no successCriteria"
            ]
    if not passed and response is not None and transparent_retry(run, frame, scope, response, now):
        return
    frame.throttle_attempts = 0
    frame.throttle_waited = 0.0
    if response is not None and response.status is None and problem is None and step.success_criteria:
        reasons.insert(0, f"no response: {response.error}")
    if not passed and response is not None and (response.status or 0) >= 400:
        reasons.append(_error_snippet(response))
    frame.step_outputs[step.step_id] = evaluate_outputs(step.outputs, scope)
    report = run.step_report(frame, step.step_id)
    report.status = "succeeded" if passed else "failed"
    report.reasons = [run.redactor.redact_text(r) for r in reasons]
    if child is not None:
        report.last_status_code = None
    elapsed = response.elapsed if response is not None else 0.0
    status_code = response.status if response is not None else None
    nxt = _on_success(run, frame, scope, now) if passed else _on_failure(run, frame, scope, now, reasons)
    run.emit(
        StepFinished(
            frame.workflow.workflow_id,
            step.step_id,
            frame.runs.get(step.step_id, 0),
            status_code,
            passed,
            nxt,
            elapsed,
            tuple(report.reasons),
            frame.depth,
        )
    )


def _error_snippet(response: HttpResponse, limit: int = 300) -> str:
    """What the server said when it refused: the start of an error body, on one line."""
    text = " ".join(response.body.decode("utf-8", errors="replace").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return (
        f"the server answered HTTP {response.status}: {text}"
        if text
        else f"the server answered HTTP {response.status}"
    )


def _actions(step_actions: Sequence[Any], workflow_actions: Sequence[Any]) -> list[Any]:
    names = {a.name for a in step_actions}
    return list(step_actions) + [a for a in workflow_actions if a.name not in names]


def _on_success(run: Run, frame: Frame, scope: Scope, now: float) -> str:
    actions: list[SuccessAction] = _actions(frame.step.on_success, frame.workflow.success_actions)
    for action in actions:
        if not criteria_hold(action.criteria, scope)[0]:
            continue
        if action.type == "end":
            run.complete(frame, "succeeded", None)
            return f"end ({action.name})"
        return _goto(run, frame, action, scope, now)
    if frame.return_to is not None:
        target, frame.return_to = frame.return_to, None
        delay, frame.deferred_retry_delay = frame.deferred_retry_delay, None
        schedule(run, frame, target, explicit=delay, reason="retry")
        return f"back to {frame.workflow.steps[target].step_id}"
    if frame.index + 1 >= len(frame.workflow.steps):
        run.complete(frame, "succeeded", None)
        return "end"
    schedule(run, frame, frame.index + 1)
    return f"next: {frame.step.step_id}"


def _on_failure(run: Run, frame: Frame, scope: Scope, now: float, reasons: list[str]) -> str:
    step = frame.step
    actions: list[FailureAction] = _actions(step.on_failure, frame.workflow.failure_actions)
    for action in actions:
        if not criteria_hold(action.criteria, scope)[0]:
            continue
        if action.type == "end":
            message = (
                f"step {step.step_id} failed: {'; '.join(reasons)}; action '{action.name}' ended the workflow"
            )
            run.complete(frame, "failed", RunError(step.step_id, message))
            return f"end ({action.name})"
        if action.type == "goto":
            return _goto(run, frame, action, scope, now)
        last = frame.last_response
        if last is not None and last.status is None and not last.unsent and not frame.idempotent:
            reasons.append(
                f"not retried by '{action.name}': the request is not safe to send twice and may have "
                "reached the server"
            )
            continue
        key = (step.step_id, action.name)
        used = frame.retries.get(key, 0)
        limit = 1 if action.retry_limit is None else action.retry_limit
        if used >= limit:
            continue
        frame.retries[key] = used + 1
        header = retry_after_seconds(frame.last_response, now)
        explicit = header if header is not None else action.retry_after
        if explicit is not None:
            explicit = min(explicit, run.options.retry_after_cap)
        label = f"retry {used + 1}/{limit} ({action.name})"
        if action.step_id:
            frame.return_to = frame.index
            frame.deferred_retry_delay = explicit
            schedule(run, frame, frame.step_index(action.step_id), reason=label)
        elif action.workflow_id:
            frame.deferred_retry_delay = explicit
            _spawn(run, frame, action.workflow_id, action.parameters, scope, "retry")
        else:
            schedule(run, frame, frame.index, explicit=explicit, reason=label)
        return label
    message = f"step {step.step_id} failed: {'; '.join(reasons) or 'its success criteria were not met'}"
    run.complete(frame, "failed", RunError(step.step_id, message))
    return "fail"


def _goto(run: Run, frame: Frame, action: SuccessAction | FailureAction, scope: Scope, now: float) -> str:
    if action.step_id:
        schedule(run, frame, frame.step_index(action.step_id))
        return f"goto {action.step_id}"
    assert action.workflow_id is not None
    _spawn(run, frame, action.workflow_id, action.parameters, scope, "goto")
    return f"goto workflow {action.workflow_id}"


def _spawn(run: Run, frame: Frame, ref: str, params: Sequence[Any], scope: Scope, link: Any) -> None:
    inputs = {}
    for p in params:
        value = p.value.evaluate(scope)
        if value is not MISSING:
            inputs[p.name] = value
    try:
        run.spawn_child(frame, ref, inputs, link)
    except SpolaError as exc:
        run.complete(frame, "failed", RunError(frame.step.step_id, f"cannot start workflow {ref}: {exc}"))


def schedule(run: Run, frame: Frame, index: int, *, explicit: float | None = None, reason: str = "") -> None:
    """Make step ``index`` the next to run, after the wait it is owed.

    A step that already ran in this workflow execution (a poll loop) waits by the poll policy
    unless an explicit delay is given; a 429/503 ``Retry-After`` on the last response always wins.
    """
    frame.index = index
    frame.phase = "ready"
    step_id = frame.workflow.steps[index].step_id
    delay = explicit
    why = reason
    repeats = frame.runs.get(step_id, 0)
    if delay is None and repeats > 0:
        delay = poll_delay(run.options.poll, repeats, run.rng)
        why = reason or f"poll {repeats + 1}"
    last = frame.last_response
    if last is not None and last.status in THROTTLE_STATUSES:
        header = retry_after_seconds(last, frame.last_received_at)
        if header is not None:
            delay = min(header, run.options.retry_after_cap)
            why = f"Retry-After from HTTP {last.status}"
    frame.pending_delay = delay or None
    frame.delay_reason = why


def unmet_dependency(run: Run, frame: Frame) -> str | None:
    """Why a 1.1 step-level ``dependsOn`` is not satisfied yet, or None (steps run in order)."""
    for ref in frame.step.depends_on:
        if ref.startswith("$workflows."):
            workflow_id, _, rest = ref[len("$workflows.") :].partition(".steps.")
            done = run.workflow_states.get(workflow_id, {}).get("steps", {})
            if rest not in done:
                return f"it depends on step {rest} of workflow {workflow_id}, which has not completed"
        elif not ref.startswith("$") and ref not in frame.step_outputs:
            return f"it depends on step {ref}, which has not completed (steps run in the order written)"
    return None


def child_done(run: Run, parent: Frame, child: Frame) -> None:
    """A nested workflow finished: continue the frame that was waiting for it."""
    now = parent.last_received_at
    if child.link == "dependency":
        if child.status != "succeeded":
            message = f"workflow {child.workflow.workflow_id}, a dependency, failed"
            if child.error:
                message += f": {child.error.message}"
            run.complete(parent, "failed", RunError(child.error.step_id if child.error else None, message))
            return
        if not parent.pending:
            parent.phase = "ready"
        return
    if child.link == "goto":
        run.complete(parent, child.status or "failed", child.error)
        return
    if child.link == "retry":
        delay, parent.deferred_retry_delay = parent.deferred_retry_delay, None
        schedule(run, parent, parent.index, explicit=delay, reason="retry")
        return
    scope = build_scope(run, parent, child_outputs=child.outputs)
    judge(run, parent, scope, now, child=child)
