"""Build the detailed parts of events (only while someone observes a run), all redacted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.core.events import (
    BODY_PREVIEW_CHARS,
    ActionTaken,
    CriterionResult,
    RequestSummary,
    ResponseSummary,
)
from spola.core.remote import remote_outputs

if TYPE_CHECKING:
    from spola.core.flow import Trace, Verdict
    from spola.core.frame import Frame
    from spola.exchange import HttpRequest, HttpResponse
    from spola.model import Step
    from spola.redact import Redactor


def _preview(data: bytes, redactor: Redactor) -> tuple[str | None, bool]:
    """The body as redacted text, cut to `BODY_PREVIEW_CHARS` (redacted whole first, so a secret
    is never cut in half); None when it is not UTF-8."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None, False
    text = redactor.redact_text(text)
    return text[:BODY_PREVIEW_CHARS], len(text) > BODY_PREVIEW_CHARS


def request_summary(request: HttpRequest, redactor: Redactor) -> RequestSummary:
    """The request as the event shows it: URL, headers and body redacted, body truncated."""
    redact = redactor.with_secrets(request.secrets)
    body, truncated = (None, False)
    if request.body is not None:
        body, truncated = _preview(request.body, redact)
    return RequestSummary(
        method=request.method.upper(),
        url=redact.redact_url(request.url),
        headers=tuple(redact.redact_headers(request.headers)),
        body_bytes=None if request.body is None else len(request.body),
        body=body,
        body_truncated=truncated,
    )


def response_summary(
    response: HttpResponse, redactor: Redactor, request: HttpRequest | None = None
) -> ResponseSummary:
    """The response as the event shows it: headers and body redacted, body truncated."""
    redact = redactor.with_secrets(request.secrets) if request is not None else redactor
    body, truncated = _preview(response.body, redact) if response.body else (None, False)
    return ResponseSummary(
        status=response.status,
        headers=tuple(redact.redact_headers(response.headers)),
        body_bytes=len(response.body),
        body=body,
        body_truncated=truncated,
        error=redact.redact_text(response.error) if response.error else None,
        elapsed=response.elapsed,
    )


def criteria_results(trace: Trace, redactor: Redactor) -> tuple[CriterionResult, ...]:
    """The trace ``flow.judge`` collected, as event data."""
    out: list[CriterionResult] = []
    for role, criterion, verdict, observed in trace:
        out.append(
            CriterionResult(
                role=role,
                condition=criterion.condition,
                type=criterion.compiled.kind,
                passed=bool(verdict.passed),
                observed=tuple((name, redactor.redact_value(value)) for name, value in observed),
                context=criterion.context,
                reason=redactor.redact_text(verdict.reason) if verdict.reason else None,
            )
        )
    return tuple(out)


def _after(delay: float | None) -> str:
    return f" after {delay:.3g} s" if delay else ""


def action_taken(
    verdict: Verdict, frame: Frame, step: Step, criteria: tuple[CriterionResult, ...]
) -> ActionTaken:
    """What the engine did next and one sentence of why (``step``: the step judged; the frame
    has moved on already)."""
    kind, name, target = verdict.kind, verdict.name, verdict.target
    scheduled = kind in ("next", "goto", "retry", "back") and verdict.then is None
    delay = frame.pending_delay if scheduled else None
    tried = {c.role for c in criteria if c.role != "success"}
    matched = f"action '{name}' matched → " if name else ""
    if kind == "next":
        lead = "no action matched → " if tried else ""
        why = f"{lead}next step {target}{_after(delay)}"
    elif kind == "goto":
        why = f"{matched}goto {target}{_after(delay)}"
    elif kind == "retry":
        why = f"{matched}{verdict.label.split(' (')[0]} of {target}{_after(delay)}"
    elif kind == "back":
        why = f"the retry's detour succeeded → back to {target}{_after(delay)}"
    elif kind == "end" and name:
        why = f"{matched}end the workflow ({'succeeded' if verdict.passed else 'failed'})"
    elif kind == "end":
        why = "the last step succeeded → the workflow ends"
    else:
        lead = "no failure action applied → " if tried or step.on_failure else ""
        why = f"{lead}the workflow fails"
    return ActionTaken(kind=kind, why=why, name=name, target=target, delay=delay)


def remote_state(
    frame: Frame,
    step: Step,
    cache: dict[int, tuple[str, ...]],
    redactor: Redactor,
    criteria: tuple[CriterionResult, ...],
) -> tuple[tuple[str, Any], ...]:
    """The values of the step's outputs its criteria read; else what its criteria compared."""
    key = id(step)
    names = cache.get(key)
    if names is None:
        names = cache[key] = remote_outputs(step, frame.workflow)
    outputs = frame.step_outputs.get(step.step_id) or {}
    if names:
        return tuple((name, redactor.redact_value(outputs.get(name))) for name in names)
    seen: dict[str, Any] = {}
    for result in criteria:
        for operand, value in result.observed:
            if operand != "$statusCode":
                seen.setdefault(operand, value)
    return tuple(seen.items())
