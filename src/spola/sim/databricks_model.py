"""Databricks records (jobs, runs, task runs) and the request checks that build them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spola.sim.errors import ApiError

if TYPE_CHECKING:
    from spola.sim.databricks_plan import RunPlan
    from spola.sim.script import RunScript

__all__ = [
    "LEGACY_PARAMS",
    "TASK_TYPES",
    "Job",
    "Run",
    "TaskRun",
    "check_task",
    "check_task_keys",
    "concurrency",
    "depends",
    "invalid",
    "job_parameters",
    "make_task_run",
]

TASK_TYPES = (
    "notebook_task",
    "spark_python_task",
    "spark_jar_task",
    "python_wheel_task",
    "spark_submit_task",
    "sql_task",
    "dbt_task",
    "pipeline_task",
    "run_job_task",
    "condition_task",
    "for_each_task",
)
LEGACY_PARAMS = (
    "notebook_params",
    "jar_params",
    "python_params",
    "spark_submit_params",
    "python_named_params",
)


def invalid(message: str) -> ApiError:
    """A 400 INVALID_PARAMETER_VALUE refusal."""
    return ApiError(400, message, "INVALID_PARAMETER_VALUE")


@dataclass(slots=True)
class Job:
    """A job definition; `format` is SINGLE_TASK (legacy, API 2.0 style) or MULTI_TASK."""

    job_id: int
    settings: dict[str, Any]
    format: str
    created_ms: int
    next_number: int = 1


@dataclass(slots=True)
class TaskRun:
    """One task of a run; for SINGLE_TASK runs its run id is the parent's."""

    run_id: int
    key: str
    spec: dict[str, Any]
    params: dict[str, Any]
    result: str


@dataclass(slots=True)
class Run:
    """A job run (run-now) or one-time run (runs/submit)."""

    run_id: int
    job_id: int
    number_in_job: int
    run_name: str
    run_type: str
    format: str
    created: float
    plan: RunPlan
    tasks: list[TaskRun]
    script: RunScript
    overriding: dict[str, Any] = field(default_factory=dict)
    job_parameters: list[dict[str, Any]] | None = None
    idempotency_token: str | None = None
    cancelled: bool = False


def check_task_keys(tasks: list[Any]) -> None:
    seen: set[str] = set()
    for task in tasks:
        if not isinstance(task, Mapping):
            raise invalid("Invalid value for tasks: every task must be an object.")
        key = task.get("task_key")
        if not key:
            raise invalid("Missing required field: task_key")
        if key in seen:
            raise invalid(f"Task key {key} is used by more than one task.")
        seen.add(str(key))


def check_task(spec: Mapping[str, Any]) -> None:
    if not any(spec.get(t) is not None for t in TASK_TYPES):
        raise invalid(f"Task {spec.get('task_key')} must have one of: {', '.join(TASK_TYPES)}.")
    notebook = spec.get("notebook_task")
    if notebook is not None and not (isinstance(notebook, Mapping) and notebook.get("notebook_path")):
        raise invalid("Missing required field: notebook_task.notebook_path")


def depends(spec: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(d.get("task_key")) for d in spec.get("depends_on") or [] if isinstance(d, Mapping))


def make_task_run(run_id: int, spec: dict[str, Any], params: dict[str, Any], script: RunScript) -> TaskRun:
    base = dict((spec.get("notebook_task") or {}).get("base_parameters") or {})
    effective = {**base, **params}
    shown = {k: v for k, v in effective.items() if not str(k).startswith("sim_")}
    result = script.result if script.result is not None else json.dumps(shown, sort_keys=True)
    return TaskRun(run_id, str(spec["task_key"]), spec, effective, result)


def concurrency(settings: Mapping[str, Any]) -> tuple[int, bool]:
    limit = int(settings.get("max_concurrent_runs") or 1)
    queue = settings.get("queue") or {}
    return max(limit, 1), bool(isinstance(queue, Mapping) and queue.get("enabled"))


def job_parameters(settings: Mapping[str, Any], given: object) -> list[dict[str, Any]] | None:
    defaults = settings.get("parameters") or []
    if given is not None and not isinstance(given, Mapping):
        raise invalid("Invalid value for job_parameters: expected an object.")
    if not defaults and not given:
        return None
    overrides = dict(given or {})
    resolved = [
        {
            "name": p["name"],
            "default": p.get("default", ""),
            "value": overrides.pop(p["name"], p.get("default", "")),
        }
        for p in defaults
        if isinstance(p, Mapping) and "name" in p
    ]
    resolved += [{"name": k, "value": v} for k, v in overrides.items()]
    return resolved
