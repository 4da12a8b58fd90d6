"""``poll-uncovered-states``: poll loops that branch on an enum field without naming all its values."""

from __future__ import annotations

from pathlib import Path

from spola.lint import lint
from tests.lint.documents import end, findings, goto, step, workflow, write_doc


def _poll(tmp_path: Path, actions: list[dict[str, object]], *, last: bool = False) -> list[str]:
    steps = [step("poll", onSuccess=actions)]
    if not last:
        steps.append(step("fetch"))
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    return [f.message for f in findings(report, "poll-uncovered-states")]


def test_a_loop_on_running_only_lets_queued_fall_through_to_the_next_step(tmp_path: Path) -> None:
    actions = [goto("wait", "poll", '$.state.status == "RUNNING"', jsonpath=True)]
    (message,) = _poll(tmp_path, actions)
    assert "QUEUED, DONE, FAILED" in message
    assert "step 'fetch' (the next step)" in message
    assert "only cover RUNNING" in message


def test_naming_every_state_covers_the_loop(tmp_path: Path) -> None:
    actions = [
        goto("wait", "poll", '$.state.status == "RUNNING" || $.state.status == "QUEUED"', jsonpath=True),
        goto("done", "fetch", '$.state.status == "DONE"', jsonpath=True),
        end("failed", '$.state.status == "FAILED"', jsonpath=True),
    ]
    assert _poll(tmp_path, actions) == []


def test_simple_conditions_and_rfc9535_filters_are_read_too(tmp_path: Path) -> None:
    simple = [goto("wait", "poll", "$response.body#/state/status == 'RUNNING'")]
    assert "QUEUED" in _poll(tmp_path, simple)[0]
    rfc = [goto("wait", "poll", '$[?$.state.status == "RUNNING"]', jsonpath=True)]
    assert "QUEUED" in _poll(tmp_path, rfc)[0]


def test_a_not_equal_condition_covers_every_other_state(tmp_path: Path) -> None:
    actions = [goto("wait", "poll", "$response.body#/state/status != 'DONE'")]
    assert _poll(tmp_path, actions) == []


def test_a_catch_all_back_into_the_loop_keeps_polling_whatever_the_state(tmp_path: Path) -> None:
    actions = [goto("done", "fetch", "$response.body#/state/status == 'DONE'"), goto("again", "poll")]
    assert _poll(tmp_path, actions) == []


def test_states_the_success_criteria_reject_go_to_the_failure_actions(tmp_path: Path) -> None:
    actions = [goto("wait", "poll", "$response.body#/state/status == 'RUNNING'")]
    steps = [
        step(
            "poll",
            successCriteria=[{"condition": "$response.body#/state/status != 'FAILED'"}],
            onSuccess=actions,
        ),
        step("fetch"),
    ]
    (found,) = findings(lint(write_doc(tmp_path, [workflow(steps)])), "poll-uncovered-states")
    assert "QUEUED, DONE;" in found.message


def test_a_comparison_joined_with_another_field_is_decided_with_three_values(tmp_path: Path) -> None:
    actions = [
        goto("wait", "poll", "$response.body#/state/status == 'RUNNING' || $response.body#/id == 0"),
    ]
    assert _poll(tmp_path, actions) == []


def test_falling_off_the_last_step_is_named_as_the_end_of_the_workflow(tmp_path: Path) -> None:
    actions = [goto("wait", "poll", "$response.body#/state/status == 'RUNNING'")]
    (message,) = _poll(tmp_path, actions, last=True)
    assert "the end of the workflow" in message
