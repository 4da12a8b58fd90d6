"""What happened during a run, for progress displays, explanations, reports and traces.

The engine emits these only while someone observes the run (``Run.observed``); every text and
value in them is already redacted with the run's `Redactor`. The contract (fields, order,
meaning) is documented in docs/CONTRACTS.md ("Events"). Times (``at``, ``started_at``,
``until``) are the driver's clock as passed to the engine as ``now``.

Per step execution a consumer sees ``StepStarted`` (with the request summary), then
``StepFinished`` (the response summary, every criterion evaluated with its result and the values
it compared, the action taken and why, the remote state), and, when the step runs again after a
wait, ``Waiting``. ``WorkflowFinished`` ends each workflow execution (nested ones too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import Struct

from spola.structs import asdict

BODY_PREVIEW_CHARS = 2048
"""How much of a request or response body (redacted) an event carries."""


class RequestSummary(Struct, frozen=True):
    """A request as sent, redacted: method, URL, headers, body size and the start of the body.

    ``body`` is None when there is no body or it is not UTF-8; ``body_bytes`` is its full size.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body_bytes: int | None = None
    body: str | None = None
    body_truncated: bool = False


class ResponseSummary(Struct, frozen=True):
    """A response as received, redacted: status (None on a transport failure, then ``error``),
    all headers (credential headers withheld), body size and the start of the body."""

    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body_bytes: int = 0
    body: str | None = None
    body_truncated: bool = False
    error: str | None = None
    elapsed: float = 0.0


class CriterionResult(Struct, frozen=True):
    """One criterion as evaluated for a step execution.

    ``role`` is ``success`` (a successCriteria entry) or ``onSuccess:NAME`` / ``onFailure:NAME``
    (the criteria of an action); ``condition`` the text as written; ``type`` ``simple``,
    ``regex``, ``jsonpath`` or ``xpath``; ``observed`` the values the condition compared, as
    ``(operand, value)`` pairs (``("$.state.life_cycle_state", "TERMINATING")``); ``reason`` why
    it failed, when known.
    """

    role: str
    condition: str
    type: str
    passed: bool
    observed: tuple[tuple[str, Any], ...] = ()
    context: str | None = None
    reason: str | None = None


class ActionTaken(Struct, frozen=True):
    """What the engine did after judging a step, and why.

    ``kind``: ``next`` (the following step), ``goto`` (a step or workflow), ``end`` (the workflow
    ended: succeeded after an onSuccess end or the last step, failed after an onFailure end),
    ``retry``, ``fail`` (no failure action applied), ``back`` (after a retry's detour),
    ``resend`` (a 429/503/transport failure re-sent transparently). ``name`` is the action's name
    when an action matched, ``target`` the step or workflow id it goes to, ``delay`` the seconds
    the engine waits before that step runs (None: none), ``why`` one readable sentence, e.g.
    ``no action matched → next step getOutput`` or ``action 'stillActive' matched → goto waitForRun``.
    """

    kind: str
    why: str
    name: str | None = None
    target: str | None = None
    delay: float | None = None


class StepStarted(Struct, frozen=True):
    """A step's request is about to go out (or a nested workflow starts: ``method``/``url`` None).

    ``execution`` counts this step's executions in its workflow (the poll count); ``attempt``
    counts transparent re-sends of the same execution (1 first). ``call_id`` is the engine's call
    id (the journal's ``seq``), ``step_path`` the step's path (``wf/step``, nested ``>``).
    """

    workflow_id: str
    step_id: str
    execution: int
    method: str | None
    url: str | None
    depth: int = 0
    at: float = 0.0
    call_id: int | None = None
    step_path: str = ""
    attempt: int = 1
    request: RequestSummary | None = None


class StepFinished(Struct, frozen=True):
    """A step's response was judged; ``next`` says where control goes (a short label).

    ``started_at``/``at`` bound the execution; ``elapsed`` is the HTTP exchange time. ``criteria``
    lists every criterion evaluated (success criteria, then the actions' in the order tried);
    ``action`` is what happened next and why; ``remote_state`` the values of the step's outputs
    that its criteria read (``(("lifeCycleState", "RUNNING"),)``) — what the remote job is doing.
    """

    workflow_id: str
    step_id: str
    execution: int
    status_code: int | None
    passed: bool
    next: str
    elapsed: float
    reasons: tuple[str, ...] = ()
    depth: int = 0
    at: float = 0.0
    started_at: float = 0.0
    call_id: int | None = None
    step_path: str = ""
    attempt: int = 1
    response: ResponseSummary | None = None
    criteria: tuple[CriterionResult, ...] = ()
    action: ActionTaken | None = None
    remote_state: tuple[tuple[str, Any], ...] = ()
    outputs: dict[str, Any] | None = None


class Waiting(Struct, frozen=True):
    """The run pauses ``seconds`` (from ``at`` until ``until``) before a step runs again."""

    workflow_id: str
    step_id: str
    seconds: float
    reason: str
    depth: int = 0
    at: float = 0.0
    until: float = 0.0


class WorkflowFinished(Struct, frozen=True):
    """A workflow (the main one or a nested one) ended, with its outputs and error."""

    workflow_id: str
    status: str
    depth: int = 0
    at: float = 0.0
    outputs: dict[str, Any] | None = None
    error: str | None = None
    error_step: str | None = None


Event = StepStarted | StepFinished | Waiting | WorkflowFinished

Observer = Callable[[Event], None]
"""What a driver calls with each event of a run (the live view, logs, tracers, recorders)."""

EVENT_KINDS: dict[str, type[Any]] = {
    "started": StepStarted,
    "finished": StepFinished,
    "waiting": Waiting,
    "workflow": WorkflowFinished,
}
"""The ``kind`` names `event_to_dict` writes."""

_NESTED: dict[str, Any] = {
    "request": RequestSummary,
    "response": ResponseSummary,
    "action": ActionTaken,
}


_KIND_OF: dict[type[Any], str] = {cls: name for name, cls in EVENT_KINDS.items()}

_KEPT_AS_THEY_ARE = (bytes, bytearray, memoryview)
"""Values `msgspec.to_builtins` would turn into base64 text: kept as they are, as the walk keeps them."""


def event_to_dict(event: Event, *, for_json: bool = False) -> dict[str, Any]:
    """An event as plain JSON-friendly data: ``{"kind": "finished", <field>: …}`` (snake_case).

    Nested summaries become dicts, tuples become lists, everything else is a copy of the value:
    what `generic_event_to_dict` gives, field by field, except that a set in a value becomes a
    list (as JSON, where the journal stores it, has it). msgspec turns the structs into dicts in
    one pass (no deep copy: containers are rebuilt, leaves shared); a value it does not know (a
    sentinel, an object of the caller's) takes the generic walk.

    ``for_json``: for data about to be encoded as JSON (the journal's step log), tuples may stay
    tuples: they encode as the same arrays, and the walk that turns them into lists is skipped.
    """
    kind = _KIND_OF.get(type(event)) or next(
        name for name, cls in EVENT_KINDS.items() if isinstance(event, cls)
    )
    try:
        data: dict[str, Any] = msgspec.to_builtins(
            event, builtin_types=_KEPT_AS_THEY_ARE, enc_hook=_plain_text
        )
    except TypeError:
        return generic_event_to_dict(event)
    if for_json:
        return {"kind": kind, **data}
    return {"kind": kind, **_lists(data)}  # (msgspec keeps tuples as tuples)


def _plain_text(value: Any) -> Any:
    """A subclass of ``str`` as ``str`` (aiohttp's header names are ``multidict.istr``); any other
    value msgspec does not know is refused, for the generic walk."""
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not plain data")


def generic_event_to_dict(event: Event) -> dict[str, Any]:
    """`event_to_dict` through `spola.structs.asdict` (a deep copy) and a walk that turns tuples
    into lists: slower, for any value at all."""
    kind = next(name for name, cls in EVENT_KINDS.items() if isinstance(event, cls))
    data = asdict(event)
    return {"kind": kind, **_lists(data)}


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def _pairs(value: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((str(k), v) for k, v in value or ())


def event_from_dict(data: dict[str, Any]) -> Event:
    """The inverse of `event_to_dict`."""
    fields = {k: v for k, v in data.items() if k != "kind"}
    for name, cls in _NESTED.items():
        if isinstance(fields.get(name), dict):
            nested = dict(fields[name])
            if "headers" in nested:
                nested["headers"] = _pairs(nested["headers"])
            fields[name] = cls(**nested)
    if "reasons" in fields:
        fields["reasons"] = tuple(fields["reasons"])
    if "remote_state" in fields:
        fields["remote_state"] = _pairs(fields["remote_state"])
    if "criteria" in fields:
        fields["criteria"] = tuple(
            CriterionResult(**{**c, "observed": _pairs(c.get("observed"))}) for c in fields["criteria"]
        )
    event: Event = EVENT_KINDS[data["kind"]](**fields)
    return event
