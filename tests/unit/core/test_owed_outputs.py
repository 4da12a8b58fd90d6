"""A poll step's outputs that only the workflow's end reads are evaluated when first needed.

Unobserved, the engine leaves them owed while the step runs again next (the next poll replaces
them unread) and evaluates them from their response when the workflow ends, the run stops or is
snapshot. Observed, it evaluates them at once, as it always did. So each scenario runs both ways
and must give the same result, and the unobserved run must really have owed something.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spola import make_options
from spola.core.actions import Finish, SendRequest, Wait
from spola.core.engine import Run
from spola.core.flow import _read_late
from spola.core.report import RunResult
from spola.drivers.snapshot import restore, snapshot
from spola.exchange import HttpResponse
from spola.model import load
from tests.integration.documents import write
from tests.unit.core.responses import ok

Answer = Callable[[SendRequest, int], HttpResponse]

POLL = """
workflows:
  - workflowId: w
    steps:
      - stepId: trigger
        operationId: runJob
        outputs: {runId: $response.body#/run_id}
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.trigger.outputs.runId}]
        successCriteria: [{condition: $statusCode == 200}]
        outputs:
          state: $response.body#/state
          seen: $response.body#/n
          code: $statusCode
          page: $response.header.X-Page
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{condition: $response.body#/state == "RUNNING"}]
    outputs:
      state: $steps.poll.outputs.state
      seen: $steps.poll.outputs.seen
      code: $steps.poll.outputs.code
      page: $steps.poll.outputs.page
"""


def _run(tmp_path: Path, flow: str, **options: Any) -> Run:
    settings = make_options(servers={"jobs": "http://api.test"}, seed=7, poll_interval=0, **options)
    return Run(load(write(tmp_path, flow)), "w", {}, options=settings, run_id="r")


def _polls(done_at: int) -> Answer:
    """The trigger, then polls answering RUNNING until the ``done_at``-th request."""

    def answer(action: SendRequest, n: int) -> HttpResponse:
        if n == 1:
            return ok({"run_id": 7})
        state = "RUNNING" if n < done_at else "DONE"
        return ok({"state": state, "n": n}, headers=(("X-Page", f"p{n}"),))

    return answer


def _drive(run: Run, answer: Answer, *, observed: bool, stop_after: int | None = None) -> tuple[int, int]:
    """Feed ``run`` until it finishes (or ``stop_after`` responses): requests sent, and how many
    responses left the poll's outputs owed."""
    run.observed = observed
    sent = owed = 0
    now = 1000.0
    while run.result is None:
        (action,) = run.next_actions(now)
        if isinstance(action, Wait):
            now = action.until
            continue
        if isinstance(action, Finish):
            break
        assert isinstance(action, SendRequest)
        sent += 1
        now += 0.1
        run.receive(action.call_id, answer(action, sent), now)
        run.drain_events()
        owed += any(frame.owed_step is not None for frame in run.frames.values())
        if stop_after is not None and sent >= stop_after:
            break
    return sent, owed


def _both(make: Callable[[], Run], answer: Answer, **kw: Any) -> tuple[RunResult | Run, RunResult | Run]:
    runs = []
    for observed in (True, False):
        run = make()
        sent, owed = _drive(run, answer, observed=observed, **kw)
        assert (owed > 0) is (not observed), (observed, owed)
        runs.append(run)
    return runs[0], runs[1]


def test_a_poll_loop_that_ends_gives_its_last_polls_outputs(tmp_path: Path) -> None:
    eager, late = _both(lambda: _run(tmp_path, POLL), _polls(done_at=6))
    assert isinstance(eager, Run) and isinstance(late, Run)
    assert eager.result is not None and late.result is not None
    assert late.result.status == "succeeded"
    assert late.result.outputs == {"state": "DONE", "seen": 6, "code": 200, "page": "p6"}
    assert late.result.outputs == eager.result.outputs


def test_a_run_cut_short_while_polling_gives_the_outputs_of_the_poll_it_last_received(
    tmp_path: Path,
) -> None:
    eager, late = _both(lambda: _run(tmp_path, POLL, max_steps=5), _polls(done_at=99))
    assert isinstance(eager, Run) and isinstance(late, Run)
    assert late.result is not None and eager.result is not None
    assert late.result.status == "failed"
    assert late.result.error is not None and "--max-steps" in late.result.error.message
    assert late.result.outputs == {"state": "RUNNING", "seen": 5, "code": 200, "page": "p5"}
    assert late.result.outputs == eager.result.outputs


def test_an_interrupted_poll_loop_gives_the_outputs_of_its_last_poll(tmp_path: Path) -> None:
    eager, late = _both(lambda: _run(tmp_path, POLL), _polls(done_at=99), stop_after=4)
    assert isinstance(eager, Run) and isinstance(late, Run)
    assert any(frame.owed_step is not None for frame in late.frames.values())
    stopped = late.interrupt("stopped")
    assert stopped.status == "interrupted"
    assert stopped.outputs == {"state": "RUNNING", "seen": 4, "code": 200, "page": "p4"}
    assert stopped.outputs == eager.interrupt("stopped").outputs


def test_a_snapshot_taken_while_outputs_are_owed_holds_them_and_resumes_alike(tmp_path: Path) -> None:
    options = make_options(servers={"jobs": "http://api.test"}, seed=7, poll_interval=0)
    document = load(write(tmp_path, POLL))
    run = Run(document, "w", {}, options=options, run_id="r")
    _drive(run, _polls(done_at=7), observed=False, stop_after=4)
    assert any(frame.owed_step is not None for frame in run.frames.values())
    data = snapshot(run)
    (frame,) = data["frames"]
    assert frame["stepOutputs"]["poll"] == {"state": "RUNNING", "seen": 4, "code": 200, "page": "p4"}
    resumed = restore(document, data, workflow_id="w", inputs={}, options=options)
    answer = _polls(done_at=7)
    _drive(resumed, lambda action, n: answer(action, n + 4), observed=False)
    assert resumed.result is not None
    assert resumed.result.outputs == {"state": "DONE", "seen": 7, "code": 200, "page": "p7"}


OWN_CURSOR = """
workflows:
  - workflowId: w
    steps:
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.poll.outputs.next}]
        outputs: {next: $response.body#/next}
        onSuccess:
          - {name: again, type: goto, stepId: poll, criteria: [{condition: $response.body#/next != 0}]}
"""

OWN_CRITERIA = """
workflows:
  - workflowId: w
    steps:
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        outputs: {state: $response.body#/state}
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{condition: $steps.poll.outputs.state == "RUNNING"}]
    outputs: {state: $steps.poll.outputs.state}
"""


def test_a_poll_that_reads_its_own_outputs_sees_the_last_polls_values(tmp_path: Path) -> None:
    urls: list[str] = []

    def answer(action: SendRequest, n: int) -> HttpResponse:
        urls.append(action.request.url)
        return ok({"next": 0 if n == 4 else n * 10})

    run = _run(tmp_path, OWN_CURSOR)
    sent, owed = _drive(run, answer, observed=False)
    assert owed == 0
    assert sent == 4
    assert [url.rsplit("run_id=", 1)[-1] for url in urls[1:]] == ["10", "20", "30"]


def test_criteria_reading_the_steps_own_outputs_see_this_polls_values(tmp_path: Path) -> None:
    run = _run(tmp_path, OWN_CRITERIA)
    sent, owed = _drive(run, lambda action, n: ok({"state": "RUNNING" if n < 3 else "DONE"}), observed=False)
    assert owed == 0
    assert sent == 3
    assert run.result is not None and run.result.outputs == {"state": "DONE"}


CHILD = """
workflows:
  - workflowId: w
    steps:
      - stepId: wait
        workflowId: child
      - stepId: after
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $workflows.child.steps.poll.outputs.seen}]
    outputs:
      state: $workflows.child.outputs.state
  - workflowId: child
    steps:
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        outputs: {state: $response.body#/state, seen: $response.body#/n}
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{condition: $response.body#/state == "RUNNING"}]
    outputs: {state: $steps.poll.outputs.state}
"""


def test_a_nested_poll_loop_hands_its_outputs_on_when_it_ends(tmp_path: Path) -> None:
    urls: list[str] = []

    def answer(action: SendRequest, n: int) -> HttpResponse:
        urls.append(action.request.url)
        return ok({"state": "RUNNING" if n < 4 else "DONE", "n": n})

    eager, late = _both(lambda: _run(tmp_path, CHILD), answer)
    assert isinstance(eager, Run) and isinstance(late, Run)
    assert late.result is not None and eager.result is not None
    assert late.result.status == "succeeded", late.result.error
    assert late.result.outputs == {"state": "DONE"} == eager.result.outputs
    assert urls[4].endswith("run_id=4") and urls[9].endswith("run_id=4")  # each mode's `after` step


@pytest.mark.parametrize(
    ("outputs", "elsewhere", "late"),
    [
        ("{s: $response.body#/s, c: $statusCode, h: $response.header.ETag}", "", True),
        ("{s: $response.body#/s}", "", True),
        ("{s: $inputs.x}", "", False),
        ("{s: $request.query.run_id}", "", False),
        ("{s: $url}", "", False),
        ("{s: $response.body#/s}", "value: $steps.poll.outputs.s", False),
        ("{s: $response.body#/s}", "value: $steps.poll.outputs", False),
        ("{s: $response.body#/s}", "value: $steps.other.outputs.s", True),
        ("{s: 'tag-{$response.body#/s}'}", "", True),
    ],
)
def test_which_outputs_may_be_owed(tmp_path: Path, outputs: str, elsewhere: str, late: bool) -> None:
    then = (
        f"""
      - stepId: then
        operationId: getRun
        parameters: [{{name: run_id, in: query, {elsewhere}}}]"""
        if elsewhere
        else ""
    )
    flow = f"""
workflows:
  - workflowId: w
    inputs: {{type: object, properties: {{x: {{type: string}}}}}}
    steps:
      - stepId: poll
        operationId: getRun
        parameters: [{{name: run_id, in: query, value: 1}}]
        outputs: {outputs}{then}
    outputs: {{s: $steps.poll.outputs.s}}
"""
    workflow = load(write(tmp_path, flow)).workflows[0]
    assert _read_late(workflow.steps[0], workflow) is late


def test_the_outputs_of_a_poll_that_moves_on_are_evaluated_at_once(tmp_path: Path) -> None:
    flow = POLL.replace(
        "    outputs:\n      state:",
        "      - stepId: fetch\n        operationId: getRun\n"
        "        parameters: [{name: run_id, in: query, value: 1}]\n    outputs:\n      state:",
        1,
    )
    run = _run(tmp_path, flow)
    _drive(run, _polls(done_at=5), observed=False, stop_after=4)
    assert run.root.owed_step is not None  # a RUNNING poll, the next poll due
    answer = _polls(done_at=5)
    _drive(run, lambda action, n: answer(action, n + 4), observed=False, stop_after=1)
    assert run.root.step.step_id == "fetch"
    assert run.root.owed_step is None  # the DONE poll's, evaluated from the scope at hand
    assert run.root.step_outputs["poll"] == {"state": "DONE", "seen": 5, "code": 200, "page": "p5"}


def test_outputs_read_by_a_reusable_action_are_not_owed(tmp_path: Path) -> None:
    flow = """
components:
  successActions:
    again:
      name: again
      type: goto
      stepId: poll
      criteria: [{condition: $steps.poll.outputs.state == "RUNNING"}]
workflows:
  - workflowId: w
    steps:
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        outputs: {state: $response.body#/state}
        onSuccess: [{reference: $components.successActions.again}]
    outputs: {state: $steps.poll.outputs.state}
"""
    workflow = load(write(tmp_path, flow)).workflows[0]
    assert _read_late(workflow.steps[0], workflow) is False
    run = _run(tmp_path, flow)
    sent, owed = _drive(run, lambda action, n: ok({"state": "RUNNING" if n < 3 else "DONE"}), observed=False)
    assert (sent, owed) == (3, 0)
    assert run.result is not None and run.result.outputs == {"state": "DONE"}
