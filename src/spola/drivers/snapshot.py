"""A compact, JSON-able picture of a ``Run`` between two steps, and the way back.

A driver that must start over from saved state — Temporal's continue-as-new, which ends one
workflow history and begins the next with its arguments — takes ``snapshot(run)`` and later
``restore(document, data)``; the restored run decides exactly as the original would have (same
frames, step outputs, reports, counters and random state), so a poll loop of any length can be cut
into histories of bounded size. Options and results have plain-data forms here too, for drivers that
ship them across a process boundary.

The picture holds the run's inputs and last requests and responses; it is as sensitive as the run
itself (drivers keep it encrypted at rest). Values that are not JSON (bytes, tuples) are tagged.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from spola.core import events
from spola.core.actions import SendRequest
from spola.core.engine import Run
from spola.core.frame import Frame
from spola.core.report import RunError, RunResult, StepReport
from spola.errors import SpolaError
from spola.exchange import HttpRequest, HttpResponse, TokenGrant
from spola.options import Credential, PollPolicy, RunOptions

if TYPE_CHECKING:
    from spola.model import Document

VERSION = 1


class SnapshotError(SpolaError):
    """The run holds something that has no plain-data form (or a snapshot does not fit the document)."""


# ----------------------------------------------------------------------------------- values
def _value(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and "$t" not in value:
            return {k: _value(v) for k, v in value.items()}
        return {"$t": "map", "v": [[_value(k), _value(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, tuple):
        return {"$t": "tuple", "v": [_value(v) for v in value]}
    if isinstance(value, bytes):
        return {"$t": "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, set | frozenset):
        return {"$t": "set", "v": [_value(v) for v in value]}
    raise SnapshotError(f"a {type(value).__name__} value in the run has no plain-data form")


def _unvalue(data: Any) -> Any:
    if isinstance(data, list):
        return [_unvalue(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag = data.get("$t")
    if tag is None:
        return {k: _unvalue(v) for k, v in data.items()}
    items = data["v"]
    if tag == "bytes":
        return base64.b64decode(items)
    if tag == "tuple":
        return tuple(_unvalue(v) for v in items)
    if tag == "set":
        return frozenset(_unvalue(v) for v in items)
    return {_hashable(_unvalue(k)): _unvalue(v) for k, v in items}


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


# ----------------------------------------------------------------------------------- exchanges
def request_to_dict(request: HttpRequest) -> dict[str, Any]:
    """An ``HttpRequest`` as plain data (body bytes in base64)."""
    return {
        "method": request.method,
        "url": request.url,
        "headers": [list(h) for h in request.headers],
        "body": None if request.body is None else base64.b64encode(request.body).decode("ascii"),
        "pathParams": _value(request.path_params),
        "queryParams": _value(request.query_params),
        "bodyValue": _value(request.body_value),
        "secrets": sorted(request.secrets),
        "grants": [
            {
                "tokenUrl": g.token_url,
                "clientId": g.client_id,
                "clientSecret": g.client_secret,
                "scopes": list(g.scopes),
            }
            for g in request.grants
        ],
    }


def request_from_dict(data: dict[str, Any]) -> HttpRequest:
    """The inverse of ``request_to_dict``."""
    body = data.get("body")
    return HttpRequest(
        method=data["method"],
        url=data["url"],
        headers=tuple((str(k), str(v)) for k, v in data.get("headers", ())),
        body=None if body is None else base64.b64decode(body),
        path_params=_unvalue(data.get("pathParams") or {}),
        query_params=_unvalue(data.get("queryParams") or {}),
        body_value=_unvalue(data.get("bodyValue")),
        secrets=frozenset(data.get("secrets", ())),
        grants=tuple(
            TokenGrant(g["tokenUrl"], g["clientId"], g["clientSecret"], tuple(g.get("scopes", ())))
            for g in data.get("grants", ())
        ),
    )


def response_to_dict(response: HttpResponse) -> dict[str, Any]:
    """An ``HttpResponse`` as plain data (body bytes in base64)."""
    return {
        "status": response.status,
        "headers": [list(h) for h in response.headers],
        "body": base64.b64encode(response.body).decode("ascii"),
        "error": response.error,
        "elapsed": response.elapsed,
    }


def response_from_dict(data: dict[str, Any]) -> HttpResponse:
    """The inverse of ``response_to_dict``."""
    return HttpResponse(
        status=data.get("status"),
        headers=tuple((str(k), str(v)) for k, v in data.get("headers", ())),
        body=base64.b64decode(data.get("body") or ""),
        error=data.get("error"),
        elapsed=float(data.get("elapsed") or 0.0),
    )


# ----------------------------------------------------------------------------------- options
def options_to_dict(options: RunOptions) -> dict[str, Any]:
    """``RunOptions`` as plain data (credentials included: keep it where secrets may be)."""
    poll = options.poll
    return {
        "servers": dict(options.servers),
        "serverVars": [[s, v, value] for (s, v), value in options.server_vars.items()],
        "credentials": [[c.source, c.scheme, c.value] for c in options.credentials],
        "poll": [poll.fixed, poll.initial, poll.factor, poll.cap, poll.jitter],
        "maxSteps": options.max_steps,
        "timeout": options.timeout,
        "httpTimeout": options.http_timeout,
        "retryAttempts": options.retry_attempts,
        "retryWait": options.retry_wait,
        "retryBackoff": [
            options.retry_backoff.fixed,
            options.retry_backoff.initial,
            options.retry_backoff.factor,
            options.retry_backoff.cap,
            options.retry_backoff.jitter,
        ],
        "retryAfterCap": options.retry_after_cap,
        "maxResponseBytes": options.max_response_bytes,
        "maxDepth": options.max_depth,
        "allowHosts": list(options.allow_hosts),
        "seed": options.seed,
    }


def options_from_dict(data: dict[str, Any]) -> RunOptions:
    """The inverse of ``options_to_dict``."""
    fixed, initial, factor, cap, jitter = data["poll"]
    return RunOptions(
        servers=dict(data["servers"]),
        server_vars={(s, v): value for s, v, value in data["serverVars"]},
        credentials=tuple(Credential(s, scheme, value) for s, scheme, value in data["credentials"]),
        poll=PollPolicy(fixed=fixed, initial=initial, factor=factor, cap=cap, jitter=jitter),
        max_steps=data["maxSteps"],
        timeout=data["timeout"],
        http_timeout=data["httpTimeout"],
        retry_attempts=data["retryAttempts"],
        retry_wait=data["retryWait"],
        retry_backoff=PollPolicy(*data["retryBackoff"]),
        retry_after_cap=data["retryAfterCap"],
        max_response_bytes=data["maxResponseBytes"],
        max_depth=data["maxDepth"],
        allow_hosts=tuple(data["allowHosts"]),
        seed=data["seed"],
    )


# ----------------------------------------------------------------------------------- results
def result_from_dict(data: dict[str, Any]) -> RunResult:
    """A ``RunResult`` from its ``to_dict()`` form (``spola run --json``)."""
    error = data.get("error")
    return RunResult(
        run_id=data["runId"],
        workflow_id=data["workflowId"],
        status=data["status"],
        outputs=dict(data.get("outputs") or {}),
        steps=tuple(
            StepReport(
                step_id=s["stepId"],
                workflow_id=s["workflowId"],
                status=s["status"],
                executions=s["executions"],
                last_status_code=s.get("lastStatusCode"),
                duration_ms=float(s.get("durationMs") or 0.0),
                reasons=list(s.get("reasons", ())),
                depth=int(s.get("depth", 0)),
            )
            for s in data.get("steps", ())
        ),
        error=RunError(error.get("stepId"), error["message"]) if error else None,
    )


# progress events as plain data: the engine's own conversion (nested summaries included)
event_to_dict = events.event_to_dict
event_from_dict = events.event_from_dict


# ----------------------------------------------------------------------------------- the run
_PLAIN_FRAME = (
    "fid",
    "depth",
    "parent",
    "link",
    "path",
    "phase",
    "index",
    "wake_at",
    "call_id",
    "return_to",
    "pending_delay",
    "delay_reason",
    "resend",
    "throttle_attempts",
    "throttle_waited",
    "idempotent",
    "last_received_at",
    "step_started_at",
    "status",
    "deferred_retry_delay",
)


def _frame(frame: Frame) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(frame, name) for name in _PLAIN_FRAME}
    data["document"] = frame.document.uri
    data["workflow"] = frame.workflow.workflow_id
    data["inputs"] = _value(frame.inputs)
    data["pending"] = sorted(frame.pending)
    data["stepOutputs"] = _value(frame.step_outputs)
    data["runs"] = dict(frame.runs)
    data["retries"] = [[a, b, n] for (a, b), n in frame.retries.items()]
    data["request"] = None if frame.request is None else request_to_dict(frame.request)
    data["lastResponse"] = None if frame.last_response is None else response_to_dict(frame.last_response)
    data["error"] = frame.error.to_dict() if frame.error else None
    data["outputs"] = _value(frame.outputs)
    return data


def snapshot(run: Run) -> dict[str, Any]:
    """The run's whole state as plain data, at any point before it finished.

    Requests the run asked for and has no response to yet are part of it: after ``restore``,
    ``owed_requests`` lists them for the driver to send.

    Raises:
        SnapshotError: the run is finished, or holds a value with no plain form.
    """
    if run.result is not None:
        raise SnapshotError("a finished run has nothing to carry over")
    run.settle_outputs()  # owed step outputs as plain values (they read nothing but their response)
    version, state, gauss = run.rng.getstate()
    return {
        "v": VERSION,
        "runId": run.run_id,
        "startedAt": run.started_at,
        "rng": [version, list(state), gauss],
        "nextCall": run.next_call,
        "nextFid": run.next_fid,
        "executions": run.executions,
        "calls": [[call, fid] for call, fid in run.calls.items()],
        "rootFid": run.root.fid,
        "frames": [_frame(f) for f in run.frames.values()],
        "workflowStates": _value(run.workflow_states),
        "reports": [
            [
                path,
                r.step_id,
                r.workflow_id,
                r.status,
                r.executions,
                r.last_status_code,
                r.duration_ms,
                list(r.reasons),
                r.depth,
            ]
            for (path, _), r in run.reports.items()
        ],
    }


def restore(
    document: Document,
    data: dict[str, Any],
    *,
    workflow_id: str,
    inputs: dict[str, Any],
    options: RunOptions,
    secret_inputs: frozenset[str] = frozenset(),
) -> Run:
    """A ``Run`` that continues where ``snapshot`` left off.

    ``workflow_id``, ``inputs``, ``options`` and ``secret_inputs`` are those the run started with
    (they rebuild its redaction and limits).

    Raises:
        SnapshotError: the snapshot is of another version or names a document or workflow not in ``document``.
    """
    if data.get("v") != VERSION:
        raise SnapshotError(
            f"a run snapshot of version {data.get('v')!r}; this spola reads version {VERSION}"
        )
    run = Run(
        document,
        workflow_id,
        inputs,
        options=options,
        run_id=data["runId"],
        started_at=data["startedAt"],
        secret_inputs=secret_inputs,
    )
    version, state, gauss = data["rng"]
    run.rng.setstate((version, tuple(state), gauss))
    run.next_call = data["nextCall"]
    run.next_fid = data["nextFid"]
    run.executions = data["executions"]
    run.workflow_states = _unvalue(data["workflowStates"])
    run.calls = {int(call): int(fid) for call, fid in data.get("calls", ())}
    run.frames = {}
    for item in data["frames"]:
        frame = _restore_frame(document, item)
        run.frames[frame.fid] = frame
    run.root = run.frames[data["rootFid"]]
    run.reports = {}
    for path, step_id, wf, status, executions, code, duration, reasons, depth in data["reports"]:
        run.reports[(path, step_id)] = StepReport(
            step_id=step_id,
            workflow_id=wf,
            status=status,
            executions=executions,
            last_status_code=code,
            duration_ms=duration,
            reasons=list(reasons),
            depth=depth,
        )
    return run


def owed_requests(run: Run) -> list[SendRequest]:
    """The requests a restored run asked for before its snapshot and still waits for, oldest first."""
    owed = []
    for call_id, fid in sorted(run.calls.items()):
        frame = run.frames.get(fid)
        if frame is None or frame.request is None or frame.call_id != call_id:
            continue
        step = frame.step
        timeout = run.options.http_timeout
        if step.timeout:
            timeout = min(timeout, step.timeout / 1000)
        owed.append(
            SendRequest(
                call_id=call_id,
                request=frame.request,
                step_path=f"{frame.path}/{step.step_id}",
                step_id=step.step_id,
                attempt=frame.runs.get(step.step_id, 1),
                idempotent=frame.idempotent,
                timeout=timeout,
                max_bytes=run.options.max_response_bytes,
            )
        )
    return owed


def _restore_frame(root: Document, item: dict[str, Any]) -> Frame:
    uri = item["document"]
    document = root if uri == root.uri else root.family.get(uri)
    if document is None:
        raise SnapshotError(f"the run snapshot names a document ({uri}) this document does not load")
    workflow = document.workflow(item["workflow"])
    frame = Frame(
        fid=item["fid"],
        document=document,
        workflow=workflow,
        inputs=_unvalue(item["inputs"]),
        depth=item["depth"],
        parent=item["parent"],
        link=item["link"],
        path=item["path"],
    )
    for name in _PLAIN_FRAME[3:]:
        setattr(frame, name, item[name])
    frame.pending = set(item["pending"])
    frame.step_outputs = _unvalue(item["stepOutputs"])
    frame.runs = dict(item["runs"])
    frame.retries = {(a, b): n for a, b, n in item["retries"]}
    frame.request = None if item["request"] is None else request_from_dict(item["request"])
    frame.last_response = None if item["lastResponse"] is None else response_from_dict(item["lastResponse"])
    error = item["error"]
    frame.error = RunError(error["stepId"], error["message"]) if error else None
    frame.outputs = _unvalue(item["outputs"])
    return frame
