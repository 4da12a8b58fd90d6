"""A `RunReport` rebuilt from the run store (``spola runs show ID --html FILE``).

The journal keeps every exchange (request summary, response headers and body, redacted, with
their times) and, for runs whose progress was observed, a ``step-finished`` event per step
execution (criteria, action, remote state) and a ``step-wait`` event per wait. An exchange with
no step event still shows as a bar with its request and response; criteria are then unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.core.events import (
    BODY_PREVIEW_CHARS,
    ActionTaken,
    CriterionResult,
    RequestSummary,
    ResponseSummary,
)
from spola.drivers.eventlog import STEP_FINISHED, STEP_WAIT
from spola.reports.model import Execution, RunReport, WaitSpan

if TYPE_CHECKING:
    from collections.abc import Mapping

    from spola.store.records import ExchangeRecord, RunRecord


def _pairs(value: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((str(k), v) for k, v in value or ())


def _request(exchange: ExchangeRecord) -> RequestSummary:
    data: Mapping[str, Any] = exchange.request or {}
    return RequestSummary(
        method=exchange.method,
        url=exchange.url,
        headers=tuple((str(k), str(v)) for k, v in data.get("headers") or ()),
        body_bytes=data.get("bodyBytes"),
        body=data.get("body"),
        body_truncated=bool(data.get("bodyTruncated")),
    )


def _response(exchange: ExchangeRecord) -> ResponseSummary | None:
    if exchange.in_doubt:
        return None
    body = exchange.response_body or b""
    try:
        text: str | None = body.decode()
    except UnicodeDecodeError:
        text = None
    return ResponseSummary(
        status=exchange.status,
        headers=tuple(exchange.response_headers or ()),
        body_bytes=len(body),
        body=None if text is None else text[:BODY_PREVIEW_CHARS],
        body_truncated=text is not None and len(text) > BODY_PREVIEW_CHARS,
        error=exchange.error,
        elapsed=exchange.elapsed or 0.0,
    )


def _apply(execution: Execution, data: Mapping[str, Any], at: float) -> None:
    execution.finished_at = at
    execution.passed = bool(data.get("passed"))
    execution.next = str(data.get("next") or "")
    execution.reasons = tuple(data.get("reasons") or ())
    execution.criteria = tuple(
        CriterionResult(**{**c, "observed": _pairs(c.get("observed"))}) for c in data.get("criteria") or ()
    )
    action = data.get("action")
    execution.action = ActionTaken(**action) if isinstance(action, dict) else None
    execution.remote_state = _pairs(data.get("remote_state"))
    outputs = data.get("outputs")
    execution.outputs = dict(outputs) if isinstance(outputs, dict) else None
    if execution.started_at == 0 and data.get("started_at"):
        execution.started_at = float(data["started_at"])


def _key(seq: int, step_path: str) -> tuple[int, str]:
    """Match a step event to its exchange: a cancel workflow's exchanges are journalled with their seq
    offset by a billion and their path prefixed (``cancel>wf/step``), its events with its own."""
    return seq % 1_000_000_000, step_path.rsplit(">", 1)[-1]


def from_store(record: RunRecord) -> RunReport:
    """The report of a journalled run."""
    head = record.header
    error = record.error or {}
    report = RunReport(
        run_id=head.run_id,
        workflow_id=head.workflow_id,
        document=head.document,
        started_at=head.started_at,
        status=record.status,
        finished_at=record.finished_at,
        inputs=dict(head.inputs),
        outputs=dict(record.outputs or {}),
        error_step=error.get("stepId"),
        error=error.get("message"),
    )
    by_seq: dict[tuple[int, str], Execution] = {}
    for exchange in record.exchanges:
        path = exchange.step_path
        execution = Execution(
            workflow_id=path.rsplit(">", 1)[-1].split("/", 1)[0],
            step_id=exchange.step_id,
            step_path=path,
            depth=path.count(">"),
            execution=exchange.attempt,
            attempt=exchange.sends,
            call_id=exchange.seq,
            started_at=exchange.intent_at,
            finished_at=exchange.received_at,
            request=_request(exchange),
            response=_response(exchange),
        )
        if execution.response is not None:
            execution.passed = execution.response.status is not None and execution.response.status < 400
        by_seq[_key(exchange.seq, path)] = execution
        report.executions.append(execution)
    for event in record.events:
        data = dict(event.data)
        if event.kind == STEP_FINISHED:
            seq = event.seq
            found = by_seq.get(_key(seq, str(data.get("step_path", "")))) if seq is not None else None
            if found is None:
                found = Execution(
                    workflow_id=str(data.get("workflow_id", "")),
                    step_id=str(data.get("step_id", "")),
                    step_path=str(data.get("step_path", "")),
                    depth=int(data.get("depth", 0)),
                    execution=int(data.get("execution", 1)),
                    attempt=int(data.get("attempt", 1)),
                    call_id=seq,
                    started_at=float(data.get("started_at") or event.at),
                )
                report.executions.append(found)
            else:
                found.execution = int(data.get("execution", found.execution))
                found.attempt = int(data.get("attempt", found.attempt))
                found.workflow_id = str(data.get("workflow_id", found.workflow_id))
                found.depth = int(data.get("depth", found.depth))
            _apply(found, data, event.at)
        elif event.kind == "cancel-finished":
            report.cancel = data
        elif event.kind == STEP_WAIT:
            report.waits.append(
                WaitSpan(
                    str(data.get("workflow_id", "")),
                    str(data.get("step_id", "")),
                    int(data.get("depth", 0)),
                    float(data.get("at") or event.at),
                    float(data.get("until") or event.at),
                    str(data.get("reason", "")),
                )
            )
    report.executions.sort(key=lambda e: (e.started_at, e.call_id or 0))
    return report
