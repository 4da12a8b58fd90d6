"""Rendering Databricks jobs, runs and run output as the Jobs API returns them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.sim.databricks_model import TASK_TYPES, Job, Run, TaskRun
from spola.sim.databricks_plan import TERMINAL

if TYPE_CHECKING:
    from spola.sim.clock import SimClock
    from spola.sim.timeline import Mark, Timeline

__all__ = ["job_json", "output_json", "run_json"]

USER = "sim-user@example.com"
WORKSPACE_ID = "1234567890123456"
_CLUSTER_FIELDS = ("existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key")
_TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"),
}
_DEFAULT_MESSAGES = {
    "QUEUED": "Waiting for an available slot: the job has reached its maximum concurrent runs.",
    "PENDING": "Waiting for cluster",
    "BLOCKED": "Waiting for upstream tasks",
    "RUNNING": "In run",
    "WAITING_FOR_RETRY": "Waiting to retry after a failed attempt",
    "TERMINATING": "",
}


def job_json(job: Job, *, expand_tasks: bool = True) -> dict[str, Any]:
    """A job as `jobs/get` (and, without tasks, `jobs/list`) returns it."""
    settings = dict(job.settings)
    if not expand_tasks:
        settings.pop("tasks", None)
    return {
        "job_id": job.job_id,
        "creator_user_name": USER,
        "run_as_user_name": USER,
        "run_as_owner": True,
        "settings": settings,
        "created_time": job.created_ms,
    }


def _state(mark: Mark, cancelled: bool) -> dict[str, Any]:
    state: dict[str, Any] = {
        "life_cycle_state": mark.state,
        "state_message": mark.message or _DEFAULT_MESSAGES.get(mark.state, ""),
        "user_cancelled_or_timedout": mark.state in TERMINAL and (cancelled or mark.result == "TIMEDOUT"),
    }
    if mark.state in TERMINAL and mark.result is not None:
        state["result_state"] = mark.result
    if mark.state == "QUEUED":
        state["queue_reason"] = state["state_message"]
    return state


def _status(mark: Mark) -> dict[str, Any]:
    if mark.state not in TERMINAL:
        status: dict[str, Any] = {"state": mark.state}
        if mark.state == "QUEUED":
            status["queue_details"] = {
                "code": "ACTIVE_RUNS_LIMIT_REACHED",
                "message": _DEFAULT_MESSAGES["QUEUED"],
            }
        return status
    if mark.state == "SKIPPED":
        code = "MAX_CONCURRENT_RUNS_EXCEEDED" if "concurrent" in mark.message else "SKIPPED"
        details = (code, "CLIENT_ERROR")
    elif mark.state == "INTERNAL_ERROR":
        details = ("CLOUD_FAILURE", "CLOUD_FAILURE")
    else:
        details = _TERMINATION.get(mark.result or "", ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
    return {
        "state": "TERMINATED",
        "termination_details": {"code": details[0], "type": details[1], "message": mark.message},
    }


def _durations(line: Timeline, now: float) -> dict[str, int]:
    def span(a: str, b: str) -> int:
        start, end = line.entered(a, now), line.entered(b, now)
        return round((end - start) * 1000) if start is not None and end is not None else 0

    running = line.entered("RUNNING", now)
    setup_from = line.entered("PENDING", now) or line.entered("BLOCKED", now) or line.start
    terminal = line.at(now).state in TERMINAL
    return {
        "setup_duration": round((running - setup_from) * 1000) if running is not None else 0,
        "execution_duration": span("RUNNING", "TERMINATING")
        or (span("RUNNING", "TERMINATED") if terminal else 0),
        "cleanup_duration": span("TERMINATING", "TERMINATED"),
    }


def _times(line: Timeline, now: float, clock: SimClock) -> dict[str, int]:
    terminal = line.at(now).state in TERMINAL
    return {
        "start_time": clock.wall_ms(line.start),
        "end_time": clock.wall_ms(line.last.at) if terminal else 0,
    }


def _task_fields(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: spec[k] for k in (*TASK_TYPES, *_CLUSTER_FIELDS, "description", "libraries") if k in spec}


def _cluster_instance(run: Run, task: TaskRun, line: Timeline, now: float) -> dict[str, Any] | None:
    if line.entered("RUNNING", now) is None:
        return None
    cluster = task.spec.get("existing_cluster_id") or f"0923-164208-job{run.run_id}"
    return {"cluster_id": cluster, "spark_context_id": str(7_000_000_000 + run.run_id)}


def _page(base_url: str, run: Run, run_id: int) -> str:
    return f"{base_url}/?o={WORKSPACE_ID}#job/{run.job_id}/run/{run_id}"


def task_json(run: Run, task: TaskRun, now: float, clock: SimClock, base_url: str) -> dict[str, Any]:
    """One element of a run's `tasks` array."""
    line = run.plan.tasks[task.key] if run.format == "MULTI_TASK" else run.plan.parent
    retry_at = run.plan.retry_at.get(task.key)
    body: dict[str, Any] = {
        "run_id": task.run_id,
        "task_key": task.key,
        "state": _state(line.at(now), run.cancelled),
        "status": _status(line.at(now)),
        **_task_fields(task.spec),
        "run_if": task.spec.get("run_if", "ALL_SUCCESS"),
        **_times(line, now, clock),
        **_durations(line, now),
        "attempt_number": 1 if retry_at is not None and retry_at <= now else 0,
        "run_page_url": _page(base_url, run, task.run_id),
    }
    if task.spec.get("depends_on"):
        body["depends_on"] = task.spec["depends_on"]
    instance = _cluster_instance(run, task, line, now)
    if instance:
        body["cluster_instance"] = instance
    return body


def run_json(
    run: Run, now: float, clock: SimClock, *, version: str, base_url: str, expand_tasks: bool = True
) -> dict[str, Any]:
    """A run as `runs/get` returns it (`version` is the API version in the path: 2.0, 2.1 or 2.2)."""
    line = run.plan.parent
    mark = line.at(now)
    body: dict[str, Any] = {
        "job_id": run.job_id,
        "run_id": run.run_id,
        "creator_user_name": USER,
        "number_in_job": run.number_in_job,
        "original_attempt_run_id": run.run_id,
        "state": _state(mark, run.cancelled),
        "status": _status(mark),
        **_times(line, now, clock),
        "trigger": "ONE_TIME",
        "run_name": run.run_name,
        "run_page_url": _page(base_url, run, run.run_id),
        "run_type": run.run_type,
        "attempt_number": 0,
        "format": run.format,
    }
    queued_at, pending_at = line.entered("QUEUED", now), line.entered("PENDING", now)
    if queued_at is not None:
        body["queue_duration"] = round(((pending_at or now) - queued_at) * 1000)
    if run.format == "SINGLE_TASK":
        body.update(_durations(line, now))
        task = run.tasks[0]
        if version == "2.0":
            body["task"] = {k: v for k, v in _task_fields(task.spec).items() if k in TASK_TYPES}
            body["cluster_spec"] = {
                k: v for k, v in task.spec.items() if k in ("existing_cluster_id", "new_cluster")
            }
        instance = _cluster_instance(run, task, line, now)
        if instance:
            body["cluster_instance"] = instance
    else:
        body.update(setup_duration=0, execution_duration=0, cleanup_duration=0)
        body["run_duration"] = round((line.last.at - line.start) * 1000) if mark.state in TERMINAL else 0
    if expand_tasks and not (run.format == "SINGLE_TASK" and version == "2.0"):
        body["tasks"] = [task_json(run, t, now, clock, base_url) for t in run.tasks]
    if run.overriding:
        body["overriding_parameters"] = run.overriding
    if run.job_parameters is not None:
        body["job_parameters"] = run.job_parameters
    return body


def output_json(
    run: Run, task: TaskRun, now: float, clock: SimClock, *, version: str, base_url: str
) -> dict[str, Any]:
    """`runs/get-output` for one task run (for SINGLE_TASK runs, the run itself)."""
    if run.format == "SINGLE_TASK":
        metadata = run_json(run, now, clock, version=version, base_url=base_url)
        line = run.plan.parent
    else:
        line = run.plan.tasks[task.key]
        metadata = {
            **task_json(run, task, now, clock, base_url),
            "job_id": run.job_id,
            "number_in_job": task.run_id,
            "run_name": task.key,
            "run_type": run.run_type,
            "creator_user_name": USER,
            "format": "SINGLE_TASK",
        }
    body: dict[str, Any] = {"metadata": metadata}
    mark = line.at(now)
    if mark.state not in TERMINAL:
        return body
    if mark.state == "INTERNAL_ERROR":
        body["error"] = mark.message
    elif mark.result == "SUCCESS":
        if "notebook_task" in task.spec:
            body["notebook_output"] = {"result": task.result, "truncated": False}
        else:
            body["logs"] = f"{task.result}\n"
            body["logs_truncated"] = False
    elif mark.result == "FAILED":
        body["error"] = "Exception: sim failure (scripted outcome FAILED)"
        body["error_trace"] = (
            "---------------------------------------------------------------------------\n"
            "Exception                                 Traceback (most recent call last)\n"
            f"File <command-{task.run_id}>, line 1\n"
            "----> 1 raise Exception('sim failure (scripted outcome FAILED)')\n\n"
            "Exception: sim failure (scripted outcome FAILED)"
        )
    elif mark.result == "TIMEDOUT":
        body["error"] = "Run timed out"
    return body
