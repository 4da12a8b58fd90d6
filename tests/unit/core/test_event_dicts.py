"""`event_to_dict` (msgspec, one pass) gives what the generic walk gives: for every event of real
runs, observed, and for events that carry odd values (bytes, nested tuples, a namedtuple, a
sentinel, an object msgspec does not know, aiohttp's header names, which are a subclass of str)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from aiohttp import hdrs

from spola import make_options
from spola.core.actions import Finish, SendRequest, Wait
from spola.core.engine import Run
from spola.core.events import (
    ActionTaken,
    CriterionResult,
    Event,
    ResponseSummary,
    StepFinished,
    WorkflowFinished,
    event_to_dict,
    generic_event_to_dict,
)
from spola.expr import MISSING
from spola.model import load
from tests.integration.documents import write
from tests.unit.core.responses import ok

FLOW = """
workflows:
  - workflowId: w
    inputs: {type: object, properties: {job: {type: integer}}}
    steps:
      - stepId: trigger
        operationId: runJob
        requestBody: {payload: {job: $inputs.job, tags: [a, b]}}
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {runId: $response.body#/run_id}
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.trigger.outputs.runId}]
        successCriteria:
          - condition: $statusCode == 200
          - {context: $response.body, condition: $.state.life_cycle_state != "SKIPPED", type: jsonpath}
        outputs: {state: $response.body#/state, items: $response.body#/items}
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{condition: $response.body#/state/life_cycle_state == "RUNNING"}]
        onFailure:
          - {name: later, type: retry, retryAfter: 0, retryLimit: 2}
    outputs: {state: $steps.poll.outputs.state, runId: $steps.trigger.outputs.runId}
"""

BODIES: list[Any] = [
    {"run_id": 7},
    {"state": {"life_cycle_state": "RUNNING"}, "items": [1, "two", None, {"x": [True, 2.5]}]},
    {"state": {"life_cycle_state": "SKIPPED"}},
    {"state": {"life_cycle_state": "RUNNING"}, "items": []},
    {"state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}},
]


def _events(tmp_path: Path) -> list[Event]:
    options = make_options(servers={"jobs": "http://api.test"}, seed=3, poll_interval=0)
    run = Run(load(write(tmp_path, FLOW)), "w", {"job": 3}, options=options, run_id="r")
    events: list[Event] = []
    now, n = 1000.0, 0
    while True:
        actions = run.next_actions(now)
        events += run.drain_events()
        (action,) = actions
        if isinstance(action, Finish):
            return events
        if isinstance(action, Wait):
            now = action.until
            continue
        assert isinstance(action, SendRequest)
        body = BODIES[min(n, len(BODIES) - 1)]
        n += 1
        now += 0.1
        run.receive(action.call_id, ok(body), now)


class Pair(NamedTuple):
    name: str
    value: Any


class Opaque:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque)

    def __hash__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return "Opaque()"


def _odd() -> list[Event]:
    criterion = CriterionResult("success", "$x == 1", "simple", False, (("$x", MISSING), ("$y", (1, (2,)))))
    return [
        StepFinished(
            "w",
            "s",
            1,
            200,
            False,
            "fail",
            0.1,
            ("why",),
            response=ResponseSummary(200, (("A", "b"), (hdrs.CONTENT_TYPE, "text/plain"))),
            criteria=(criterion,),
            action=ActionTaken("fail", "no action matched"),
            remote_state=(("state", "RUNNING"),),
            outputs={"raw": b"\x00\xff", "pair": Pair("a", (1, 2)), "nested": {"t": (1, [2, (3,)])}},
        ),  # fmt: skip
        WorkflowFinished("w", "failed", outputs={"blob": bytearray(b"ab"), "n": None, "f": 1.5}),
        WorkflowFinished("w", "failed", outputs={"thing": Opaque()}),
    ]


def test_every_event_of_an_observed_run_is_the_generic_walks(tmp_path: Path) -> None:
    events = _events(tmp_path)
    assert len(events) > 10
    for event in events:
        assert event_to_dict(event) == generic_event_to_dict(event), event


def test_odd_values_come_out_as_the_generic_walk_gives_them() -> None:
    assert type(hdrs.CONTENT_TYPE) is not str  # (multidict's istr)
    for event in _odd():
        fast, generic = event_to_dict(event), generic_event_to_dict(event)
        assert fast == generic
        assert repr(fast) == repr(generic)  # the same types too: lists, not tuples; bytes as bytes


def test_plain_events_do_not_take_the_generic_walk(tmp_path: Path, monkeypatch: Any) -> None:
    # the one-pass path is the point (a journalled `spola run` turns every step's event into data):
    # an event of a real response, whose header names are aiohttp's istr, must not fall back
    from spola.core import events as module

    def refuse(event: Event) -> dict[str, Any]:
        raise AssertionError(f"{type(event).__name__} took the generic walk")

    plain = _events(tmp_path)
    monkeypatch.setattr(module, "generic_event_to_dict", refuse)
    real = StepFinished(
        "w", "s", 1, 200, True, "next", 0.1, response=ResponseSummary(200, ((hdrs.CONTENT_TYPE, "a/b"),))
    )
    for event in [*plain, real]:
        event_to_dict(event)


def test_the_json_form_encodes_as_the_list_form_does(tmp_path: Path) -> None:
    # the journal's step log takes `for_json` (tuples left as tuples) and stores JSON: the text it
    # stores must be the one the list form gives, for real events and odd ones
    from spola.jsoncodec import dumps_text

    events = [*_events(tmp_path), *_odd()[:2]]
    tupled = 0
    for event in events:
        lists, as_json = event_to_dict(event), event_to_dict(event, for_json=True)
        assert dumps_text(as_json, default=str) == dumps_text(lists, default=str), event
        tupled += as_json != lists  # (a tuple is not equal to a list: the walk really was skipped)
    assert tupled > 0
