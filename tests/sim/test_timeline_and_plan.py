"""Pure pieces: timelines, Databricks run planning, scripted-outcome markers."""

from __future__ import annotations

import pytest

from spola.sim.databricks_plan import TaskSpec, Timing, interrupt, plan_run, topological
from spola.sim.script import RunScript, merge_scripts, script_from_params, script_from_text
from spola.sim.timeline import Mark, Timeline


def test_a_timeline_answers_the_state_at_any_time() -> None:
    line = Timeline.chain(10, [("A", 1), ("B", 2)], Mark(0, "DONE", "OK"))
    assert [line.at(t).state for t in (0, 10, 10.9, 11, 12.9, 13, 99)] == [
        "A",
        "A",
        "A",
        "B",
        "B",
        "DONE",
        "DONE",
    ]
    assert line.last == Mark(13, "DONE", "OK")
    assert line.entered("B") == 11
    assert line.entered("DONE", by=12) is None
    cut = line.cut(11.5, (Mark(11.5, "STOP", "CANCELED"),))
    assert [m.state for m in cut.marks] == ["A", "B", "STOP"]
    with pytest.raises(ValueError, match="time order"):
        Timeline((Mark(2, "A"), Mark(1, "B")))


def test_tasks_are_ordered_by_their_dependencies() -> None:
    tasks = [TaskSpec("c", ("b",)), TaskSpec("a"), TaskSpec("b", ("a",))]
    assert [t.key for t in topological(tasks)] == ["a", "b", "c"]


def test_a_planned_run_ends_after_its_last_task() -> None:
    timing = Timing(pending=1, task=2, terminating=0.5)
    plan = plan_run(
        [TaskSpec("a"), TaskSpec("b", ("a",))], created=0, start=0, outcome="SUCCESS", timing=timing
    )
    assert plan.tasks["b"].entered("RUNNING") == 3
    assert plan.parent.entered("TERMINATING") == 5
    assert plan.parent.last == Mark(5.5, "TERMINATED", "SUCCESS", "")
    stopped = interrupt(plan, 2, "CANCELED", "Run cancelled.", timing)
    assert stopped.parent.last.result == "CANCELED"
    assert stopped.tasks["b"].last == Mark(2, "TERMINATED", "CANCELED", "Run cancelled.")


def test_markers_and_parameters_script_runs() -> None:
    assert script_from_text("nightly [sim:FAILED, duration=30]") == RunScript("FAILED", 30.0)
    assert script_from_text("[sim:duration=0.5s]") == RunScript(None, 0.5)
    assert script_from_text("plain") == RunScript()
    params = script_from_params({"sim_outcome": "timedout", "sim_duration": "2", "sim_result": "ok"})
    assert params == RunScript("TIMEDOUT", 2.0, "ok")
    assert merge_scripts(RunScript(None, 1.0), RunScript("FAILED", 9.0)) == RunScript("FAILED", 1.0)
