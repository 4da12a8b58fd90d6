"""After a step: success criteria, outputs, then end / goto / retry / next — the Arazzo control flow.

These helpers sit below the state machine: they read and move a ``Frame`` and return what the
``Run`` must do next (a ``Verdict`` whose ``then`` is ``Complete``, ``Spawn`` or nothing when the
frame was merely scheduled); they never reach back into the ``Run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import Struct

from spola.core.polling import THROTTLE_STATUSES, poll_delay, retry_after_seconds
from spola.core.report import RunError
from spola.core.scope import build_scope, evaluate_outputs, read_body
from spola.criteria.observe import observe
from spola.expr import MISSING
from spola.idcache import by_identity_pair
from spola.model.walk import expressions_of

if TYPE_CHECKING:
    import random
    from collections.abc import Mapping, Sequence

    from spola.core.frame import Frame, Link
    from spola.exchange import HttpResponse
    from spola.expr import Scope
    from spola.model import Criterion, FailureAction, Step, SuccessAction, Workflow
    from spola.options import RunOptions


class Complete(Struct, frozen=True):
    """End the frame's workflow execution with this status."""

    status: str
    error: RunError | None


class Spawn(Struct, frozen=True):
    """Start workflow ``ref`` as a child of the frame; if it cannot start, the frame fails."""

    ref: str
    inputs: dict[str, Any]
    link: Link


Then = Complete | Spawn | None


class Verdict(Struct, frozen=True):
    """A step's outcome: whether it passed, why not, what comes next (``label``) and what to do.

    ``kind`` / ``name`` / ``target`` say the same as ``label`` as data, for events: the kind of
    move (``next``, ``goto``, ``end``, ``retry``, ``fail``, ``back``), the action that matched
    (None when none did) and the step or workflow id it goes to.
    """

    passed: bool
    reasons: list[str]
    label: str
    then: Then
    kind: str = "next"
    name: str | None = None
    target: str | None = None
    resend: bool = False


class _Move(Struct, frozen=True):
    label: str
    then: Then
    kind: str
    name: str | None = None
    target: str | None = None


Trace = list[tuple[str, "Criterion", Any, tuple[tuple[str, Any], ...]]]
"""Criteria as evaluated, when someone observes: ``(role, criterion, verdict, observed values)``."""


OUTAGE_STATUSES = frozenset({500, 502, 503, 504})
"""Statuses a safe request is re-sent on while an API is down (with 429, and transport failures)."""


def transparent_retry(
    frame: Frame,
    scope: Scope,
    response: HttpResponse,
    now: float,
    options: RunOptions,
    rng: random.Random,
    deadline: float | None,
) -> str | None:
    """Re-send a failed exchange the document says nothing about; what was wrong when scheduled.

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
        return None
    if frame.throttle_attempts >= options.retry_attempts:
        return None
    for action in _actions(frame.step.on_failure, frame.workflow.failure_actions):
        if _hold(action.criteria, scope, None, ""):
            return None
    delay = retry_after_seconds(response, now)
    if delay is None:
        delay = poll_delay(options.retry_backoff, frame.throttle_attempts + 1, rng)
    delay = min(delay, options.retry_after_cap)
    if frame.throttle_waited + delay > options.retry_wait:
        return None
    if deadline is not None and now + delay >= deadline:
        return None
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
    return what


def criteria_hold(
    criteria: Sequence[Criterion], scope: Scope, trace: Trace | None = None, role: str = "success"
) -> tuple[bool, list[str]]:
    """Whether every criterion passes, and why not for those that fail.

    With a ``trace`` (someone observes the run) each verdict is appended to it with the values
    the criterion compared.
    """
    reasons: list[str] = []
    for criterion in criteria:
        verdict = criterion.compiled.evaluate(scope)
        if trace is not None:
            trace.append((role, criterion, verdict, observe(criterion.compiled, scope)))
        if not verdict.passed:
            text = f"`{criterion.condition}` was false"
            if verdict.reason:
                text += f" ({verdict.reason})"
            reasons.append(text)
    return not reasons, reasons


def _hold(criteria: Sequence[Criterion], scope: Scope, trace: Trace | None, role: str) -> bool:
    """Whether every criterion of an action passes (`criteria_hold` without the reasons: unobserved,
    it stops at the first that fails; criteria have no side effects)."""
    if trace is not None:
        return criteria_hold(criteria, scope, trace, role)[0]
    for criterion in criteria:  # noqa: SIM110 - a loop: all() over a generator costs a frame per call
        if not criterion.compiled.evaluate(scope).passed:
            return False
    return True


def judge(
    frame: Frame,
    scope: Scope,
    now: float,
    options: RunOptions,
    rng: random.Random,
    *,
    response: HttpResponse | None = None,
    problem: str | None = None,
    child: Frame | None = None,
    deadline: float | None = None,
    trace: Trace | None = None,
    known: Mapping[str, Any] | None = None,
    step: Step | None = None,
    defer_outputs: bool = False,
) -> Verdict:
    """Decide a step's outcome from its response (or problem, or finished child): evaluate its
    outputs into the frame, schedule the frame's next step, and say what else must happen.

    ``trace`` (only when observed) collects every criterion evaluated, actions' included; ``known``
    are outputs already evaluated from this response (a login's token, foreseen by the journal);
    ``step`` is the frame's step, when the caller has it at hand; ``defer_outputs`` lets outputs
    that only the workflow's end reads wait until then (`_read_late`; the caller observes no event
    and learns no secret from them)."""
    if step is None:
        step = frame.step
    reasons: list[str] = []
    if problem is not None:
        passed, reasons = False, [problem]
    elif child is not None and child.status != "succeeded":
        passed = False
        reasons = [child.error.message] if child.error else [f"workflow {child.workflow.workflow_id} failed"]
    elif step.success_criteria:
        passed, reasons = criteria_hold(step.success_criteria, scope, trace)
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
    if not passed and response is not None:
        what = transparent_retry(frame, scope, response, now, options, rng, deadline)
        if what is not None:
            return Verdict(False, [what], "re-send (transparent retry)", None, kind="resend", resend=True)
    frame.throttle_attempts = 0
    frame.throttle_waited = 0.0
    if response is not None and response.status is None and problem is None and step.success_criteria:
        reasons.insert(0, f"no response: {response.error}")
    if not passed and response is not None and (response.status or 0) >= 400:
        reasons.append(_error_snippet(response))
    owed = frame.owed_step
    if owed is not None:
        if owed is step:  # its last execution's, never read: replaced below
            frame.owed_step = frame.owed_response = None
        else:
            settle_outputs(frame)
    late = False
    if defer_outputs and problem is None and known is None and response is not None and step.outputs:
        if frame.late_step is not step:  # (else the same step judged again: a poll's)
            frame.late_step = step
            frame.read_late = _late_outputs(step, frame.workflow)
        late = frame.read_late
    if not late:
        frame.step_outputs[step.step_id] = evaluate_outputs(step.outputs, scope, known=known)
    if passed:
        move = _on_success(frame, step, scope, options, rng, trace)
    else:
        move = _on_failure(frame, step, scope, now, options, rng, reasons, trace)
    if late:
        assert response is not None
        if move.then is None and frame.phase == "ready" and frame.workflow.steps[frame.index] is step:
            frame.owed_step, frame.owed_response = step, response  # it runs again next: owed
        else:
            frame.step_outputs[step.step_id] = evaluate_outputs(step.outputs, scope)
    return Verdict(passed, reasons, move.label, move.then, move.kind, move.name, move.target)


def _read_late(step: Step, workflow: Workflow) -> bool:
    """Whether the step's outputs may be evaluated when first needed rather than when it ends.

    They may when they read nothing but the exchange (``$response.*``, ``$statusCode``), fixed
    once the response is in, and no expression of the workflow but its own outputs reads them
    (``$steps.<id>.outputs``, ``$steps``): then only the workflow's end (`settle_outputs`) and a
    run's snapshot read them, and a poll step's outputs that the next poll replaces are never
    evaluated at all."""
    for value in step.outputs.values():
        for expression in value.expressions:
            if expression.kind not in ("response", "statusCode"):
                return False
    for _, expression in expressions_of(workflow, workflow_outputs=False):
        for ref in expression.references():
            if ref.kind == "steps" and ref.id in (None, step.step_id):
                return False
    return True


_late_outputs = by_identity_pair(_read_late, 4096)


def settle_outputs(frame: Frame) -> None:
    """Evaluate the outputs `judge` left owed (see `_read_late`), from the response they belong to:
    what they would have been had they been evaluated when their step ended (they read nothing
    but that exchange, so the scope holds nothing else)."""
    step, response = frame.owed_step, frame.owed_response
    if step is None or response is None:
        return
    frame.owed_step = frame.owed_response = None
    body, _ = read_body(response)
    scope = build_scope(frame, {}, response=response, body=body)
    frame.step_outputs[step.step_id] = evaluate_outputs(step.outputs, scope)


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


def _merge(step_actions: Sequence[Any], workflow_actions: Sequence[Any]) -> tuple[Any, ...]:
    names = {a.name for a in step_actions}
    return tuple(step_actions) + tuple(a for a in workflow_actions if a.name not in names)


_merged = by_identity_pair(_merge, 4096)


def _actions(step_actions: Sequence[Any], workflow_actions: Sequence[Any]) -> tuple[Any, ...]:
    """A step's actions, then the workflow's it does not override by name (merged once per pair)."""
    if not workflow_actions:  # most workflows have no workflow-level actions: no lookup, no copy
        return step_actions if type(step_actions) is tuple else tuple(step_actions)
    return _merged(step_actions, workflow_actions)


def _on_success(
    frame: Frame, step: Step, scope: Scope, options: RunOptions, rng: random.Random, trace: Trace | None
) -> _Move:
    actions: tuple[SuccessAction, ...] = _actions(step.on_success, frame.workflow.success_actions)
    for action in actions:
        if not _hold(action.criteria, scope, trace, f"onSuccess:{action.name}" if trace is not None else ""):
            continue
        if action.type == "end":
            return _Move(f"end ({action.name})", Complete("succeeded", None), "end", action.name)
        return _goto(frame, action, scope, options, rng)
    if frame.return_to is not None:
        target, frame.return_to = frame.return_to, None
        delay, frame.deferred_retry_delay = frame.deferred_retry_delay, None
        schedule(frame, target, options, rng, explicit=delay, reason="retry")
        back = frame.workflow.steps[target].step_id
        return _Move(f"back to {back}", None, "back", None, back)
    if frame.index + 1 >= len(frame.workflow.steps):
        return _Move("end", Complete("succeeded", None), "end")
    schedule(frame, frame.index + 1, options, rng)
    return _Move(f"next: {frame.step.step_id}", None, "next", None, frame.step.step_id)


def _on_failure(
    frame: Frame,
    step: Step,
    scope: Scope,
    now: float,
    options: RunOptions,
    rng: random.Random,
    reasons: list[str],
    trace: Trace | None,
) -> _Move:
    actions: tuple[FailureAction, ...] = _actions(step.on_failure, frame.workflow.failure_actions)
    for action in actions:
        if not _hold(action.criteria, scope, trace, f"onFailure:{action.name}" if trace is not None else ""):
            continue
        if action.type == "end":
            message = (
                f"step {step.step_id} failed: {'; '.join(reasons)}; action '{action.name}' ended the workflow"
            )
            failed = Complete("failed", RunError(step.step_id, message))
            return _Move(f"end ({action.name})", failed, "end", action.name)
        if action.type == "goto":
            return _goto(frame, action, scope, options, rng)
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
            explicit = min(explicit, options.retry_after_cap)
        label = f"retry {used + 1}/{limit} ({action.name})"
        then: Then = None
        target = action.step_id or action.workflow_id or step.step_id
        if action.step_id:
            frame.return_to = frame.index
            frame.deferred_retry_delay = explicit
            schedule(frame, frame.step_index(action.step_id), options, rng, reason=label)
        elif action.workflow_id:
            frame.deferred_retry_delay = explicit
            then = _spawn(action.workflow_id, action.parameters, scope, "retry")
        else:
            schedule(frame, frame.index, options, rng, explicit=explicit, reason=label)
        return _Move(label, then, "retry", action.name, target)
    message = f"step {step.step_id} failed: {'; '.join(reasons) or 'its success criteria were not met'}"
    return _Move("fail", Complete("failed", RunError(step.step_id, message)), "fail")


def _goto(
    frame: Frame, action: SuccessAction | FailureAction, scope: Scope, options: RunOptions, rng: random.Random
) -> _Move:
    if action.step_id:
        schedule(frame, frame.step_index(action.step_id), options, rng)
        return _Move(f"goto {action.step_id}", None, "goto", action.name, action.step_id)
    assert action.workflow_id is not None
    spawn = _spawn(action.workflow_id, action.parameters, scope, "goto")
    return _Move(f"goto workflow {action.workflow_id}", spawn, "goto", action.name, action.workflow_id)


def _spawn(ref: str, params: Sequence[Any], scope: Scope, link: Link) -> Spawn:
    inputs = {}
    for p in params:
        value = p.value.evaluate(scope)
        if value is not MISSING:
            inputs[p.name] = value
    return Spawn(ref, inputs, link)


def schedule(
    frame: Frame,
    index: int,
    options: RunOptions,
    rng: random.Random,
    *,
    explicit: float | None = None,
    reason: str = "",
) -> None:
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
        delay = poll_delay(options.poll, repeats, rng)
        why = reason or f"poll {repeats + 1}"
    last = frame.last_response
    if last is not None and last.status in THROTTLE_STATUSES:
        header = retry_after_seconds(last, frame.last_received_at)
        if header is not None:
            delay = min(header, options.retry_after_cap)
            why = f"Retry-After from HTTP {last.status}"
    frame.pending_delay = delay or None
    frame.delay_reason = why


def unmet_dependency(frame: Frame, workflows: dict[str, dict[str, Any]]) -> str | None:
    """Why a 1.1 step-level ``dependsOn`` is not satisfied yet, or None (steps run in order)."""
    for ref in frame.step.depends_on:
        if ref.startswith("$workflows."):
            workflow_id, _, rest = ref[len("$workflows.") :].partition(".steps.")
            done = workflows.get(workflow_id, {}).get("steps", {})
            if rest not in done:
                return f"it depends on step {rest} of workflow {workflow_id}, which has not completed"
        elif not ref.startswith("$") and ref not in frame.step_outputs:
            return f"it depends on step {ref}, which has not completed (steps run in the order written)"
    return None


def after_child(parent: Frame, child: Frame, options: RunOptions, rng: random.Random) -> Then | bool:
    """A nested workflow finished: move the frame that waited for it.

    Returns True when the parent's step must now be judged on the child's outcome, else what to do.
    """
    if child.link == "dependency":
        if child.status != "succeeded":
            message = f"workflow {child.workflow.workflow_id}, a dependency, failed"
            if child.error:
                message += f": {child.error.message}"
            return Complete("failed", RunError(child.error.step_id if child.error else None, message))
        if not parent.pending:
            parent.phase = "ready"
        return None
    if child.link == "goto":
        return Complete(child.status or "failed", child.error)
    if child.link == "retry":
        delay, parent.deferred_retry_delay = parent.deferred_retry_delay, None
        schedule(parent, parent.index, options, rng, explicit=delay, reason="retry")
        return None
    return True
