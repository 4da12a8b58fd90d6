"""``--har FILE.har``: every exchange as a HAR 1.2 ``log.entries`` item (redacted, bodies truncated)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from spola import __version__
from spola.store.records import iso_utc

if TYPE_CHECKING:
    from spola.reports.model import Execution, RunReport

_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}  # fmt: skip


def _headers(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _header(pairs: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((v for k, v in pairs if k.lower() == name), None)


def _size(pairs: tuple[tuple[str, str], ...]) -> int:
    return sum(len(k) + len(v) + 4 for k, v in pairs) + 2


def entry(execution: Execution) -> dict[str, Any]:
    """One HAR entry (only for executions that sent a request)."""
    request = execution.request
    assert request is not None
    response = execution.response
    query = [
        {"name": k, "value": v} for k, v in parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
    ]
    har_request: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _headers(request.headers),
        "queryString": query,
        "headersSize": -1,
        "bodySize": request.body_bytes if request.body_bytes is not None else 0,
    }
    if request.body_bytes is not None:
        har_request["postData"] = {
            "mimeType": _header(request.headers, "content-type") or "application/octet-stream",
            "text": request.body or "",
        }
    elapsed_ms = 0.0
    if response is not None:
        elapsed_ms = response.elapsed * 1000
        status = response.status or 0
        har_response: dict[str, Any] = {
            "status": status,
            "statusText": _REASONS.get(status, "") if response.status is not None else "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _headers(response.headers),
            "content": {
                "size": response.body_bytes,
                "mimeType": _header(response.headers, "content-type") or "",
                "text": response.body or "",
            },
            "redirectURL": _header(response.headers, "location") or "",
            "headersSize": _size(response.headers) if response.headers else -1,
            "bodySize": response.body_bytes,
        }
        if response.error:
            har_response["_error"] = response.error
        if response.body_truncated:
            har_response["content"]["comment"] = "truncated by spola"
    else:
        har_response = {
            "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": "", "text": ""}, "redirectURL": "", "headersSize": -1,
            "bodySize": -1, "_error": "no response recorded",
        }  # fmt: skip
    if execution.finished_at is not None and not elapsed_ms:
        elapsed_ms = (execution.finished_at - execution.started_at) * 1000
    return {
        "pageref": "run",
        "startedDateTime": iso_utc(execution.started_at),
        "time": round(elapsed_ms, 3),
        "request": har_request,
        "response": har_response,
        "cache": {},
        "timings": {"send": 0, "wait": round(elapsed_ms, 3), "receive": 0},
        "comment": f"{execution.step_path} #{execution.execution}"
        + (f" attempt {execution.attempt}" if execution.attempt > 1 else ""),
        "_spola": {
            "stepId": execution.step_id,
            "execution": execution.execution,
            "outcome": execution.outcome,
            "remoteState": dict(execution.remote_state),
            "action": execution.action.why if execution.action else execution.next,
        },
    }


def har_dict(report: RunReport) -> dict[str, Any]:
    """The HAR 1.2 document."""
    data = {
        "log": {
            "version": "1.2",
            "creator": {"name": "spola", "version": __version__},
            "pages": [
                {
                    "startedDateTime": iso_utc(report.started_at),
                    "id": "run",
                    "title": f"{report.workflow_id} (run {report.run_id})",
                    "pageTimings": {"onContentLoad": -1, "onLoad": round(report.duration * 1000, 3)},
                }
            ],
            "entries": [entry(e) for e in report.executions if e.request is not None],
            "comment": f"spola run {report.run_id}: {report.status}",
        }
    }
    redacted: dict[str, Any] = report.redact(data)
    return redacted
