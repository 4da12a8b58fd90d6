"""Planning a Databricks run's life: when each task is blocked, pending, running and how it ends.

Pure functions over `Timeline`s; the simulator calls them when a run is created, cancelled or times out.

Parent run: [QUEUED →] PENDING (cluster setup) → RUNNING (while tasks run) → TERMINATING → TERMINATED.
Tasks: BLOCKED (waiting for `depends_on`) or PENDING (setup), RUNNING, then TERMINATED with a result state.
The scripted outcome applies to the last task in dependency order (the others succeed):
SUCCESS, FAILED, TIMEDOUT, CANCELED (as if cancelled mid-run), INTERNAL_ERROR (fails during setup, every task
too), SKIPPED (never runs), RETRY (the task fails, shows WAITING_FOR_RETRY, succeeds on attempt 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from spola.sim.timeline import Mark, Timeline

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["OUTCOMES", "RunPlan", "TaskSpec", "Timing", "interrupt", "plan_run", "topological"]

OUTCOMES = ("SUCCESS", "FAILED", "TIMEDOUT", "CANCELED", "INTERNAL_ERROR", "SKIPPED", "RETRY")
TERMINAL = frozenset({"TERMINATED", "INTERNAL_ERROR", "SKIPPED"})

FAILED_MESSAGE = "Workload failed, see run output for details"
INTERNAL_MESSAGE = (
    "Run failed with error message\n Cluster 0923-164208-simcl0ud was terminated. "
    "Reason: DRIVER_UNREACHABLE (CLOUD_FAILURE)."
)


@dataclass(frozen=True, slots=True)
class Timing:
    """Simulated seconds spent in each phase."""

    pending: float = 1.0
    task: float = 1.5
    terminating: float = 0.5
    cancel: float = 0.5
    retry_wait: float = 1.0


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task as far as planning cares: its key and what it waits for."""

    key: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The planned timelines of a run and of each of its tasks (by task key)."""

    parent: Timeline
    tasks: dict[str, Timeline]
    retry_at: dict[str, float]


def topological(tasks: Sequence[TaskSpec]) -> list[TaskSpec]:
    """Tasks in dependency order (stable; unknown dependencies are ignored, cycles broken by input order)."""
    keys = {t.key for t in tasks}
    done: set[str] = set()
    ordered: list[TaskSpec] = []
    pending = list(tasks)
    while pending:
        ready = [t for t in pending if all(d in done or d not in keys for d in t.depends_on)]
        step = ready[0] if ready else pending[0]
        ordered.append(step)
        done.add(step.key)
        pending.remove(step)
    return ordered


def plan_run(
    tasks: Sequence[TaskSpec],
    *,
    created: float,
    start: float,
    outcome: str,
    timing: Timing,
    duration: float | None = None,
    skip_message: str = "",
) -> RunPlan:
    """Plan a run created at `created` that may start at `start` (later when queued)."""
    queued = [("QUEUED", start - created)] if start > created else []
    if outcome == "SKIPPED":
        mark = Mark(created, "SKIPPED", None, skip_message or "This run was skipped.")
        return RunPlan(Timeline((mark,)), {t.key: Timeline((mark,)) for t in tasks}, {})
    setup_end = start + timing.pending
    busy = timing.task if duration is None else duration
    if outcome == "INTERNAL_ERROR" or not tasks:
        message = INTERNAL_MESSAGE if tasks else "The job has no tasks to run."
        final = Mark(0, "INTERNAL_ERROR", "FAILED", message)
        parent = Timeline.chain(created, [*queued, ("PENDING", timing.pending)], final)
        failed_lines = {
            t.key: Timeline.chain(
                created, [*queued, ("BLOCKED" if t.depends_on else "PENDING", timing.pending)], final
            )
            for t in tasks
        }
        return RunPlan(parent, failed_lines, {})
    ordered = topological(tasks)
    target = ordered[-1].key
    ends: dict[str, float] = {}
    task_lines: dict[str, Timeline] = {}
    retry_at: dict[str, float] = {}
    for spec in ordered:
        ready = max([setup_end, *(ends[d] for d in spec.depends_on if d in ends)])
        waiting = "BLOCKED" if spec.depends_on else "PENDING"
        steps: list[tuple[str, float]] = [*queued, (waiting, ready - start), ("RUNNING", busy)]
        result, message = "SUCCESS", ""
        if spec.key == target and outcome == "FAILED":
            result, message = "FAILED", FAILED_MESSAGE
        elif spec.key == target and outcome == "TIMEDOUT":
            result, message = "TIMEDOUT", "Run timed out"
        elif spec.key == target and outcome == "RETRY":
            steps += [("WAITING_FOR_RETRY", timing.retry_wait), ("RUNNING", busy)]
            retry_at[spec.key] = ready + busy + timing.retry_wait
        line = Timeline.chain(created, steps, Mark(0, "TERMINATED", result, message))
        ends[spec.key] = line.last.at
        task_lines[spec.key] = line
    tasks_end = max(ends.values())
    parent_result, parent_message = "SUCCESS", ""
    if outcome == "FAILED":
        parent_result = "FAILED"
        parent_message = f"Task {target} failed with message: {FAILED_MESSAGE}."
    elif outcome == "TIMEDOUT":
        parent_result, parent_message = "TIMEDOUT", "Run timed out"
    parent = Timeline.chain(
        created,
        [
            *queued,
            ("PENDING", timing.pending),
            ("RUNNING", tasks_end - setup_end),
            ("TERMINATING", timing.terminating),
        ],
        Mark(0, "TERMINATED", parent_result, parent_message),
    )
    plan = RunPlan(parent, task_lines, retry_at)
    if outcome == "CANCELED":
        middle = setup_end + (tasks_end - setup_end) / 2
        plan = interrupt(plan, middle, "CANCELED", "Run cancelled.", timing)
    return plan


def interrupt(plan: RunPlan, at: float, result: str, message: str, timing: Timing) -> RunPlan:
    """Stop a run at `at` (user cancel, timeout): busy parts terminate, waiting parts end at once."""
    if plan.parent.at(at).state in TERMINAL or plan.parent.at(at).state == "TERMINATING":
        return plan
    tasks: dict[str, Timeline] = {}
    for key, line in plan.tasks.items():
        state = line.at(at).state
        if state in TERMINAL:
            tasks[key] = line
        elif state == "RUNNING":
            tail = (Mark(at, "TERMINATING"), Mark(at + timing.cancel, "TERMINATED", result, message))
            tasks[key] = line.cut(at, tail)
        else:
            tasks[key] = line.cut(at, (Mark(at, "TERMINATED", result, message),))
    parent = plan.parent.cut(
        at, (Mark(at, "TERMINATING"), Mark(at + timing.cancel, "TERMINATED", result, message))
    )
    return RunPlan(parent, tasks, {k: v for k, v in plan.retry_at.items() if v <= at})
