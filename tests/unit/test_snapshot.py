"""``spola.drivers.snapshot``: a run cut anywhere into JSON and restored decides exactly as the original."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spola.core.actions import Finish, SendRequest, Wait
from spola.core.engine import Run
from spola.drivers.snapshot import (
    SnapshotError,
    event_from_dict,
    event_to_dict,
    options_from_dict,
    options_to_dict,
    owed_requests,
    restore,
    result_from_dict,
    snapshot,
)
from spola.exchange import HttpResponse
from spola.model import load
from spola.model.bundle import Bundle, load_bundle, read_bundle
from spola.options import Credential, PollPolicy, RunOptions
from tests.integration.documents import write

FLOW = """
workflows:
  - workflowId: main
    dependsOn: [prep]
    inputs:
      type: object
      properties:
        job: {type: integer}
        secret: {type: string, format: password}
    steps:
      - stepId: go
        operationId: runJob
        requestBody: {payload: {job_id: $inputs.job, prep: $workflows.prep.outputs.token}}
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {id: $response.body#/run_id}
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.go.outputs.id}]
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {state: $response.body#/state, raw: $response.body}
        onSuccess:
          - {name: again, type: goto, stepId: poll, criteria: [{condition: $response.body#/state == "RUNNING"}]}
      - stepId: child
        workflowId: sub
        parameters: [{name: id, value: $steps.go.outputs.id}]
        outputs: {seen: $outputs.seen}
    outputs: {state: $steps.poll.outputs.state, seen: $steps.child.outputs.seen, raw: $steps.poll.outputs.raw}
  - workflowId: prep
    steps:
      - stepId: token
        operationId: publicOp
        outputs: {token: $response.body#/token}
    outputs: {token: $steps.token.outputs.token}
  - workflowId: sub
    inputs: {type: object, properties: {id: {type: integer}}}
    steps:
      - stepId: out
        operationId: getOutput
        parameters: [{name: run_id, in: query, value: $inputs.id}]
        outputs: {seen: $response.body#/value}
    outputs: {seen: $steps.out.outputs.seen}
"""


def reply(action: SendRequest, polls: list[int]) -> HttpResponse:
    url = action.request.url
    if "/public" in url:
        body: Any = {"token": "t-1"}
    elif url.endswith("/jobs/run"):
        body = {"run_id": 9}
    elif "/runs/get" in url:
        polls[0] += 1
        if polls[0] == 2:
            return HttpResponse(status=429, headers=(("Retry-After", "1"),), body=b"{}")
        body = {"state": "RUNNING" if polls[0] < 5 else "DONE", "n": [polls[0], {"deep": True}]}
    else:
        body = {"value": "out-9"}
    return HttpResponse(
        status=200, headers=(("Content-Type", "application/json"),), body=json.dumps(body).encode()
    )


def options() -> RunOptions:
    return RunOptions(
        poll=PollPolicy(initial=0.5), seed=7, credentials=(Credential("jobs", None, "tok-secret"),)
    )


def drive(run: Run, *, cut: bool, document: Any = None) -> dict[str, Any]:
    now, polls, owed = 1000.0, [0], []
    while True:
        if cut and not run.finished:
            data = json.loads(json.dumps(snapshot(run)))
            run = restore(
                document, data, workflow_id="main", inputs={"job": 3, "secret": "pw"}, options=options(),
                secret_inputs=frozenset({"secret"}),
            )  # fmt: skip
            owed = owed_requests(run)
        actions = [*owed, *run.next_actions(now)]
        owed = []
        for action in actions:
            if isinstance(action, Finish):
                return action.result.to_dict()
            if isinstance(action, Wait):
                now = max(now, action.until)
        for action in actions:
            if isinstance(action, SendRequest):
                now += 0.25
                run.receive(action.call_id, reply(action, polls), now)


def test_a_run_cut_at_every_step_and_restored_gives_the_same_result(tmp_path: Path) -> None:
    path = write(tmp_path, FLOW)
    document = load(path)

    def fresh() -> Run:
        return Run(
            document, "main", {"job": 3, "secret": "pw"}, options=options(), run_id="r1", started_at=1000.0,
            secret_inputs=frozenset({"secret"}),
        )  # fmt: skip

    whole = drive(fresh(), cut=False)
    cut = drive(fresh(), cut=True, document=document)
    assert whole["status"] == "succeeded", whole
    assert whole["outputs"]["seen"] == "out-9" and whole["outputs"]["state"] == "DONE"
    assert cut == whole
    assert result_from_dict(whole).to_dict() == whole


def test_a_snapshot_of_a_run_that_waits_for_a_response_lists_it_as_owed(tmp_path: Path) -> None:
    document = load(write(tmp_path, FLOW))
    run = Run(document, "main", {"job": 3}, options=options(), run_id="r2")
    (first,) = run.next_actions(0.0)
    assert isinstance(first, SendRequest)
    again = restore(document, snapshot(run), workflow_id="main", inputs={"job": 3}, options=options())
    (owed,) = owed_requests(again)
    assert owed == first


def test_a_finished_run_has_no_snapshot_and_a_foreign_version_is_refused(tmp_path: Path) -> None:
    document = load(write(tmp_path, FLOW))
    run = Run(document, "main", {"job": 3}, options=options())
    data = snapshot(run)
    run.interrupt()
    with pytest.raises(SnapshotError):
        snapshot(run)
    with pytest.raises(SnapshotError, match="version"):
        restore(document, {**data, "v": 99}, workflow_id="main", inputs={}, options=options())


def test_options_and_events_round_trip() -> None:
    opts = RunOptions(
        servers={"a": "http://x"}, server_vars={("a", "v"): "1"}, credentials=(Credential("a", "b", "c"),),
        poll=PollPolicy(fixed=0.0), max_steps=5, timeout=3.0, seed=11,
    )  # fmt: skip
    assert options_from_dict(json.loads(json.dumps(options_to_dict(opts)))) == opts
    from spola.core.events import StepFinished

    event = StepFinished("w", "s", 2, 200, True, "end", 0.1, ("why",), 1)
    assert event_from_dict(json.loads(json.dumps(event_to_dict(event)))) == event


def test_a_bundle_rebuilds_the_document_without_reading_files(tmp_path: Path) -> None:
    path = write(tmp_path, FLOW)
    _, bundle = read_bundle(path)
    assert len(bundle.texts) == 2
    for file in tmp_path.iterdir():
        file.unlink()
    assert Bundle.from_dict(json.loads(json.dumps(bundle.to_dict()))) == bundle
    rebuilt = load_bundle(bundle)
    assert [w.workflow_id for w in rebuilt.workflows] == ["main", "prep", "sub"]
    assert load_bundle(bundle) is rebuilt
