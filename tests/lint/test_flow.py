"""Control flow: unreachable steps, loops without a way out, self-gotos, outputs a run may skip."""

from __future__ import annotations

from pathlib import Path

from spola.lint import lint
from tests.lint.documents import end, findings, goto, rules, step, workflow, write_doc

DONE = "$response.body#/state/status == 'DONE'"


def test_a_step_every_path_jumps_over_is_unreachable(tmp_path: Path) -> None:
    steps = [step("a", onSuccess=[goto("skip", "c")]), step("b"), step("c")]
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    (found,) = findings(report, "unreachable-step")
    assert "'b'" in found.message
    assert found.location.pointer == "/workflows/0/steps/1"
    steps[0]["onSuccess"] = [goto("skip", "c", DONE)]
    assert "unreachable-step" not in rules(write_doc(tmp_path, [workflow(steps)]))


def test_a_loop_whose_transitions_all_stay_inside_has_no_exit(tmp_path: Path) -> None:
    steps = [step("a"), step("b", onSuccess=[goto("again", "a")])]
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    (found,) = findings(report, "loop-no-exit")
    assert "a → b → a" in found.message
    assert found.severity == "error"
    steps[1]["onSuccess"] = [goto("again", "a", "$response.body#/state/status != 'DONE'")]
    assert "loop-no-exit" not in rules(write_doc(tmp_path, [workflow(steps)]))


def test_a_failure_goto_out_of_a_loop_is_a_way_out(tmp_path: Path) -> None:
    failure = [{"name": "bail", "type": "goto", "stepId": "c"}]
    steps = [step("a", onSuccess=[goto("again", "a")], onFailure=failure), step("b"), step("c")]
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    assert findings(report, "loop-no-exit") == []


def test_a_goto_to_the_same_step_is_a_self_loop_warning(tmp_path: Path) -> None:
    steps = [step("poll", onSuccess=[goto("wait", "poll", "$response.body#/state/status == 'RUNNING'")])]
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    (found,) = findings(report, "goto-self-loop")
    assert found.severity == "warning"
    assert found.hint is not None and "retryAfter" in found.hint
    assert found.location.pointer == "/workflows/0/steps/0/onSuccess/0/stepId"
    retry = [{"name": "wait", "type": "retry", "retryAfter": 5, "retryLimit": 20}]
    steps = [step("poll", successCriteria=[{"condition": DONE}], onFailure=retry)]
    assert "goto-self-loop" not in rules(write_doc(tmp_path, [workflow(steps)]))


def test_an_output_of_a_step_an_end_can_skip_may_be_null(tmp_path: Path) -> None:
    steps = [
        step("first", onSuccess=[end("nothing", "$response.body#/id == 0")]),
        step("second", outputs={"status": "$response.body#/state/status"}),
    ]
    outputs = {"status": "$steps.second.outputs.status"}
    report = lint(write_doc(tmp_path, [workflow(steps, outputs=outputs)]))
    (found,) = findings(report, "output-may-be-null")
    assert "'nothing'" in found.message and "'first'" in found.message
    assert found.location.pointer == "/workflows/0/outputs/status"
    del steps[0]["onSuccess"]
    assert "output-may-be-null" not in rules(write_doc(tmp_path, [workflow(steps, outputs=outputs)]))


def test_a_goto_that_jumps_over_a_step_may_leave_its_output_null(tmp_path: Path) -> None:
    steps = [
        step("first", onSuccess=[goto("jump", "third", "$response.body#/id == 0")]),
        step("second", outputs={"status": "$response.body#/state/status"}),
        step("third"),
    ]
    report = lint(write_doc(tmp_path, [workflow(steps, outputs={"s": "$steps.second.outputs.status"})]))
    assert len(findings(report, "output-may-be-null")) == 1
