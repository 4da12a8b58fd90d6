"""Pre-seeded Databricks jobs (see `spola.sim.databricks` for what each one does)."""

from __future__ import annotations

from typing import Any

__all__ = ["CLUSTER_ID", "SEED_JOBS"]

CLUSTER_ID = "0923-164208-simcl0ud"


def _notebook(key: str, path: str, depends_on: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "task_key": key,
        "existing_cluster_id": CLUSTER_ID,
        "notebook_task": {"notebook_path": path, "source": "WORKSPACE", "base_parameters": {}},
        "timeout_seconds": 0,
        "run_if": "ALL_SUCCESS",
        **extra,
    }
    if depends_on:
        task["depends_on"] = [{"task_key": d} for d in depends_on]
    return task


def _pipeline(name: str, **tags: str) -> dict[str, Any]:
    return {
        "name": name,
        "tasks": [
            _notebook("ingest", "/Shared/sim/ingest"),
            _notebook("transform", "/Shared/sim/transform", ("ingest",)),
        ],
        "max_concurrent_runs": 100,
        "tags": tags,
    }


def _legacy(name: str, **tags: str) -> dict[str, Any]:
    return {
        "name": name,
        "existing_cluster_id": CLUSTER_ID,
        "notebook_task": {"notebook_path": "/Shared/sim/legacy", "base_parameters": {"env": "sim"}},
        "max_concurrent_runs": 100,
        "tags": tags,
    }


# (job_id, format, settings)
SEED_JOBS: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (123, "MULTI_TASK", _pipeline("sim-etl-pipeline")),
    (
        124,
        "MULTI_TASK",
        {
            "name": "sim-one-task-job",
            "tasks": [_notebook("main", "/Shared/sim/main")],
            "max_concurrent_runs": 100,
        },
    ),
    (42, "SINGLE_TASK", _legacy("sim-legacy-notebook")),
    (43, "SINGLE_TASK", _legacy("sim-legacy-failing", sim_outcome="FAILED")),
    (
        555,
        "MULTI_TASK",
        {
            "name": "sim-queued-when-busy",
            "tasks": [_notebook("main", "/Shared/sim/main")],
            "max_concurrent_runs": 1,
            "queue": {"enabled": True},
        },
    ),
    (
        556,
        "MULTI_TASK",
        {
            "name": "sim-skipped-when-busy",
            "tasks": [_notebook("main", "/Shared/sim/main")],
            "max_concurrent_runs": 1,
            "queue": {"enabled": False},
        },
    ),
    (666, "MULTI_TASK", _pipeline("sim-failing-job", sim_outcome="FAILED")),
    (667, "MULTI_TASK", _pipeline("sim-timeout-job", sim_outcome="TIMEDOUT")),
    (668, "MULTI_TASK", _pipeline("sim-internal-error-job", sim_outcome="INTERNAL_ERROR")),
    (669, "MULTI_TASK", _pipeline("sim-retrying-job", sim_outcome="RETRY")),
    (670, "MULTI_TASK", _pipeline("sim-canceled-job", sim_outcome="CANCELED")),
    (671, "MULTI_TASK", _pipeline("sim-skipped-job", sim_outcome="SKIPPED")),
    (777, "MULTI_TASK", _pipeline("sim-long-running-job", sim_duration="600")),
    (888, "MULTI_TASK", _pipeline("sim-random-outcome-job", sim_outcome="RANDOM")),
)
