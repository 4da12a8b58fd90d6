"""``end-on-error-state``: an onSuccess ``end`` that reports success when the remote work failed."""

from __future__ import annotations

from pathlib import Path

from spola.lint import lint
from tests.conftest import SEEDS, shared_or_skip
from tests.lint.documents import end, findings, goto, step, workflow, write_doc


def _found(tmp_path: Path, actions: list[dict[str, object]], **fields: object) -> list[str]:
    report = lint(write_doc(tmp_path, [workflow([step("poll", onSuccess=actions), step("fetch")], **fields)]))
    return [f.message for f in findings(report, "end-on-error-state")]


def test_an_end_on_a_failed_state_is_flagged(tmp_path: Path) -> None:
    actions = [
        goto("wait", "poll", '$.state.status == "RUNNING"', jsonpath=True),
        end("stop", '$.state.status == "FAILED"', jsonpath=True),
    ]
    (message,) = _found(tmp_path, actions)
    assert "onSuccess action 'stop' of step 'poll'" in message
    assert "/state/status == 'FAILED'" in message and "reports success" in message


def test_an_end_named_after_a_failure_is_flagged(tmp_path: Path) -> None:
    (message,) = _found(tmp_path, [end("runFailed", "$response.body#/status == 20")])
    assert "'runFailed'" in message and "its name says it failed" in message


def test_ends_on_success_states_are_fine(tmp_path: Path) -> None:
    actions = [
        end("finished", '$.state.status == "SUCCESS"', jsonpath=True),
        end("author", "$response.body#/author == 'Ferrari'"),  # no "err" word inside another word
        end("noFailures", "$response.body#/failures == 0"),  # a name that denies failure
        goto("wait", "poll", '$.state.status != "FAILED"', jsonpath=True),  # a goto, not an end
    ]
    assert _found(tmp_path, actions) == []


def test_a_workflow_success_action_is_reported_once(tmp_path: Path) -> None:
    failed = end("onError", "$response.body#/is_error == true")
    report = lint(write_doc(tmp_path, [workflow([step("a"), step("b")], successActions=[failed])]))
    assert len(findings(report, "end-on-error-state")) == 1


def test_the_dbt_seed_ends_as_succeeded_when_the_job_errors() -> None:
    shared_or_skip()
    report = lint(SEEDS / "dbt-trigger-run-and-poll-workflow.yml")
    (found,) = findings(report, "end-on-error-state")
    assert "runFailed" in found.message and "pollRun" in found.message
    assert found.severity == "warning"
