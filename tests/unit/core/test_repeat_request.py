"""A step run again right after itself (a poll) sends the request it built last time, and only when
nothing that request reads can have changed: its own outputs, another step that ran in between, a
workflow that finished meanwhile and secrets learned since all make it build the request anew."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from spola import make_options
from spola.core.actions import Finish, SendRequest, Wait
from spola.core.engine import Run
from spola.core.events import StepStarted
from spola.exchange import HttpRequest, HttpResponse
from spola.model import load
from tests.integration.documents import write
from tests.unit.core.responses import ok

Answer = Callable[[SendRequest, int], HttpResponse]


def drive(run: Run, answer: Answer, *, observed: bool) -> tuple[list[HttpRequest], str]:
    """Feed ``run`` the answers until it finishes; the requests it sent, and its status (its result
    is ``run.result``)."""
    run.observed = observed
    sent: list[HttpRequest] = []
    now = 1000.0
    while True:
        (action,) = run.next_actions(now)
        if isinstance(action, Wait):
            now = action.until
            continue
        if isinstance(action, Finish):
            return sent, action.result.status
        assert isinstance(action, SendRequest)
        sent.append(action.request)
        now += 0.1
        run.receive(action.call_id, answer(action, len(sent)), now)
        run.drain_events()


def make(tmp_path: Path, flow: str, inputs: dict[str, object] | None = None, workflow: str = "w") -> Run:
    options = make_options(servers={"jobs": "http://api.test"}, seed=7, poll_interval=0)
    return Run(load(write(tmp_path, flow)), workflow, inputs or {}, options=options, run_id="r")


POLL = """
workflows:
  - workflowId: w
    inputs: {type: object, properties: {job: {type: integer}}}
    steps:
      - stepId: trigger
        operationId: runJob
        requestBody: {payload: {job: $inputs.job}}
        outputs: {runId: $response.body#/run_id}
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.trigger.outputs.runId}]
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {state: $response.body#/state}
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{condition: $response.body#/state == "RUNNING"}]
"""


@pytest.mark.parametrize("observed", [False, True])
def test_a_poll_sends_the_request_it_built_for_its_first_execution(tmp_path: Path, observed: bool) -> None:
    def answer(action: SendRequest, n: int) -> HttpResponse:
        if n == 1:
            return ok({"run_id": 7})
        return ok({"state": "RUNNING" if n < 5 else "DONE"})

    sent, status = drive(make(tmp_path, POLL, {"job": 3}), answer, observed=observed)
    assert status == "succeeded"
    assert [r.url for r in sent] == ["http://api.test/jobs/run"] + [
        "http://api.test/jobs/runs/get?run_id=7"
    ] * 4
    polls = sent[1:]
    assert all(r is polls[0] for r in polls)  # built once, sent four times


PAGES = """
workflows:
  - workflowId: w
    steps:
      - stepId: page
        operationId: getItem
        parameters:
          - {name: itemId, in: path, value: all}
          - {name: X-Trace, in: header, value: $steps.page.outputs.next}
        outputs: {next: $response.body#/next, sent: $request.header.X-Trace}
        onSuccess:
          - name: more
            type: goto
            stepId: page
            criteria: [{condition: $response.body#/next != null}]
    outputs: {sent: $steps.page.outputs.sent}
"""


@pytest.mark.parametrize("observed", [False, True])
def test_a_step_that_reads_its_own_outputs_builds_each_request_anew(tmp_path: Path, observed: bool) -> None:
    def answer(action: SendRequest, n: int) -> HttpResponse:
        return ok({"next": f"cursor-{n}" if n < 4 else None})

    run = make(tmp_path, PAGES)
    sent, status = drive(run, answer, observed=observed)
    assert status == "succeeded"
    traces = [dict(r.headers).get("X-Trace") for r in sent]
    assert traces == [None, "cursor-1", "cursor-2", "cursor-3"]
    assert run.result is not None and run.result.outputs == {"sent": "cursor-3"}  # $request: the last one


TURNS = """
workflows:
  - workflowId: w
    steps:
      - stepId: a
        operationId: getItem
        parameters:
          - {name: itemId, in: path, value: x}
          - {name: X-Trace, in: header, value: $steps.b.outputs.n}
      - stepId: b
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.b.outputs.n}]
        outputs: {n: $response.body#/n}
        onSuccess:
          - name: back
            type: goto
            stepId: a
            criteria: [{condition: $response.body#/n < 3}]
"""


@pytest.mark.parametrize("observed", [False, True])
def test_a_step_run_again_after_another_reads_that_steps_new_outputs(tmp_path: Path, observed: bool) -> None:
    def answer(action: SendRequest, n: int) -> HttpResponse:
        return ok({"n": n // 2})  # b answers 1, 2, 3 (its 2nd, 4th, 6th request)

    sent, status = drive(make(tmp_path, TURNS), answer, observed=observed)
    assert status == "succeeded"
    assert [dict(r.headers).get("X-Trace") for r in sent if "/items/" in r.url] == [None, "1", "2"]


REFRESH = """
workflows:
  - workflowId: w
    steps:
      - stepId: call
        operationId: publicOp
        parameters:
          - {name: X-Trace, in: header, value: $workflows.refresh.outputs.token}
        successCriteria: [{condition: $statusCode == 200}]
        onFailure:
          - name: renew
            type: retry
            workflowId: refresh
            retryLimit: 2
  - workflowId: refresh
    steps:
      - stepId: renew
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        outputs: {token: $response.body#/token}
    outputs: {token: $steps.renew.outputs.token}
"""


@pytest.mark.parametrize("observed", [False, True])
def test_a_step_retried_after_a_workflow_reads_that_workflows_outputs(tmp_path: Path, observed: bool) -> None:
    def answer(action: SendRequest, n: int) -> HttpResponse:
        if "/jobs/runs/get" in action.request.url:
            return ok({"token": f"t{n}"})
        status = 200 if dict(action.request.headers).get("X-Trace") == "t4" else 401
        return ok({}, status)

    sent, status = drive(make(tmp_path, REFRESH), answer, observed=observed)
    assert status == "succeeded"
    calls = [dict(r.headers).get("X-Trace") for r in sent if "/jobs/runs/get" not in r.url]
    assert calls == [None, "t2", "t4"]


TRACED = """
workflows:
  - workflowId: w
    inputs: {type: object, properties: {trace: {type: string}}}
    steps:
      - stepId: poll
        operationId: getItem
        parameters:
          - {name: itemId, in: path, value: x}
          - {name: X-Trace, in: header, value: $inputs.trace}
        outputs: {state: $response.body#/state}
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{condition: $response.body#/state == "RUNNING"}]
"""


def test_a_poll_after_a_secret_was_learned_builds_a_request_that_carries_it(tmp_path: Path) -> None:
    def answer(action: SendRequest, n: int) -> HttpResponse:
        # the driver fetched an OAuth2 token while sending the 2nd request: redacted from then on
        return ok({"state": "RUNNING" if n < 4 else "DONE"}, secrets=("tok-2",) if n == 2 else ())

    sent, status = drive(make(tmp_path, TRACED), answer, observed=False)
    assert status == "succeeded"
    assert ["tok-2" in r.secrets for r in sent] == [False, False, True, True]
    assert sent[1] is sent[0] and sent[3] is sent[2] and sent[2] is not sent[1]


def test_a_repeated_request_is_shown_as_it_was_until_a_secret_it_holds_is_learned(tmp_path: Path) -> None:
    run = make(tmp_path, TRACED, {"trace": "abc-1"})
    run.observed = True
    shown: list[object] = []
    now = 1000.0
    for n in range(1, 5):
        (action,) = run.next_actions(now)
        assert isinstance(action, SendRequest)
        (started,) = [e for e in run.drain_events() if isinstance(e, StepStarted)]
        shown.append(started.request)
        # the 2nd answer brings "abc-1" as a secret (as a token the driver fetched would be)
        response = ok({"state": "RUNNING" if n < 4 else "DONE"}, secrets=("abc-1",) if n == 2 else ())
        now += 0.1
        run.receive(action.call_id, response, now)
    headers = [dict(s.headers)["X-Trace"] for s in shown]  # type: ignore[attr-defined]
    assert headers == ["abc-1", "abc-1", "***", "***"]
    assert shown[1] is shown[0] and shown[3] is shown[2]
