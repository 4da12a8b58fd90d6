"""``--report FILE.json``: every step execution with request and response summaries, criteria,
the action taken and why, the remote state and timings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.store.records import iso_utc

if TYPE_CHECKING:
    from spola.core.events import RequestSummary, ResponseSummary
    from spola.reports.model import Execution, RunReport

FORMAT_VERSION = 1


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _request(request: RequestSummary | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {
        "method": request.method,
        "url": request.url,
        "headers": [list(pair) for pair in request.headers],
        "bodyBytes": request.body_bytes,
        "body": request.body,
        "bodyTruncated": request.body_truncated,
    }


def _response(response: ResponseSummary | None) -> dict[str, Any] | None:
    if response is None:
        return None
    return {
        "status": response.status,
        "error": response.error,
        "headers": [list(pair) for pair in response.headers],
        "bodyBytes": response.body_bytes,
        "body": response.body,
        "bodyTruncated": response.body_truncated,
        "elapsedMs": _ms(response.elapsed),
    }


def execution_dict(execution: Execution) -> dict[str, Any]:
    """One execution as the JSON report writes it."""
    action = execution.action
    return {
        "stepId": execution.step_id,
        "workflowId": execution.workflow_id,
        "stepPath": execution.step_path,
        "depth": execution.depth,
        "execution": execution.execution,
        "attempt": execution.attempt,
        "seq": execution.call_id,
        "startedAt": iso_utc(execution.started_at),
        "finishedAt": iso_utc(execution.finished_at),
        "durationMs": _ms(
            None if execution.finished_at is None else execution.finished_at - execution.started_at
        ),
        "outcome": execution.outcome,
        "statusCode": execution.status_code,
        "request": _request(execution.request),
        "response": _response(execution.response),
        "criteria": [
            {
                "role": c.role,
                "condition": c.condition,
                "type": c.type,
                "context": c.context,
                "passed": c.passed,
                "observed": [{"operand": name, "value": value} for name, value in c.observed],
                "reason": c.reason,
            }
            for c in execution.criteria
        ],
        "action": None
        if action is None
        else {
            "kind": action.kind,
            "name": action.name,
            "target": action.target,
            "delaySeconds": action.delay,
            "why": action.why,
        },
        "next": execution.next,
        "reasons": list(execution.reasons),
        "remoteState": dict(execution.remote_state),
        "outputs": execution.outputs,
    }


def report_dict(report: RunReport) -> dict[str, Any]:
    """The whole JSON report (redacted with the report's redactor where one is known)."""
    steps = []
    for path, step_id, depth, executions in report.steps():
        last = executions[-1]
        steps.append(
            {
                "stepId": step_id,
                "stepPath": path,
                "depth": depth,
                "executions": len({e.execution for e in executions}),
                "requests": sum(1 for e in executions if e.request is not None),
                "lastStatusCode": last.status_code,
                "outcome": last.outcome,
                "remoteState": dict(last.remote_state),
            }
        )
    data = {
        "spolaReport": FORMAT_VERSION,
        "runId": report.run_id,
        "workflowId": report.workflow_id,
        "document": report.document,
        "status": report.status,
        "ok": report.ok,
        "startedAt": iso_utc(report.started_at),
        "finishedAt": iso_utc(report.finished_at),
        "durationMs": _ms(report.duration),
        "inputs": report.inputs,
        "outputs": report.outputs,
        "error": None if report.error is None else {"stepId": report.error_step, "message": report.error},
        "expectations": [
            {"condition": e.condition, "passed": e.passed, "message": e.message} for e in report.expectations
        ],
        "cancel": report.cancel,
        "steps": steps,
        "executions": [execution_dict(e) for e in report.executions],
        "waits": [
            {
                "stepId": w.step_id,
                "workflowId": w.workflow_id,
                "depth": w.depth,
                "at": iso_utc(w.at),
                "until": iso_utc(w.until),
                "seconds": round(w.until - w.at, 3),
                "reason": w.reason,
            }
            for w in report.waits
        ],
    }
    redacted: dict[str, Any] = report.redact(data)
    return redacted
