"""Rendering dbt Cloud v2 runs, jobs and run artifacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from spola.sim.dbt_state import STATUS_CODES

if TYPE_CHECKING:
    from spola.sim.clock import SimClock
    from spola.sim.dbt_state import DbtJob, DbtRun

__all__ = ["artifact_json", "artifact_names", "job_json", "run_json", "stamp"]

DBT_VERSION = "1.8.0"
HUMANIZED = {1: "Queued", 2: "Starting", 3: "Running", 10: "Success", 20: "Error", 30: "Cancelled"}
OVERRIDES = (
    "git_branch",
    "git_sha",
    "azure_pull_request_id",
    "github_pull_request_id",
    "gitlab_merge_request_id",
    "non_native_pull_request_id",
    "schema_override",
    "dbt_version_override",
    "threads_override",
    "target_name_override",
    "generate_docs_override",
    "timeout_seconds_override",
    "steps_override",
)
MODELS = ("stg_customers", "stg_orders", "customers", "orders")


def stamp(epoch_ms: int) -> str:
    """dbt Cloud's timestamp format: `2024-03-19 11:57:15.559970+00:00`."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(sep=" ", timespec="microseconds")


def _duration(seconds: float) -> str:
    whole = max(round(seconds), 0)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _humanized(seconds: float) -> str:
    whole = max(round(seconds), 0)
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = whole // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}, {whole % 60} seconds"


def job_json(job: DbtJob, clock: SimClock) -> dict[str, Any]:
    """A job definition."""
    created = stamp(job.created_ms)
    return {
        "id": job.job_id,
        "account_id": job.account_id,
        "project_id": job.project_id,
        "environment_id": job.environment_id,
        "name": job.name,
        "description": "",
        "dbt_version": None,
        "execute_steps": list(job.execute_steps),
        "settings": {"threads": 4, "target_name": "default"},
        "state": 1,
        "deactivated": False,
        "generate_docs": job.generate_docs,
        "run_generate_sources": False,
        "triggers": {
            "github_webhook": False,
            "git_provider_webhook": False,
            "schedule": False,
            "on_merge": False,
        },
        "schedule": {"cron": "0 6 * * *", "date": {"type": "every_day"}, "time": {"type": "at_exact_hours"}},
        "job_type": "scheduled",
        "created_at": created,
        "updated_at": created,
        "next_run": None,
    }


def run_json(run: DbtRun, now: float, clock: SimClock, base_url: str) -> dict[str, Any]:
    """A run as `GET runs/{id}/` returns it (without `include_related`)."""
    line = run.timeline
    status = STATUS_CODES[run.status(now)]
    job = run.job
    dequeued, started = line.entered("STARTING", now), line.entered("RUNNING", now)
    finished = line.last.at if status >= 10 else None
    end = finished if finished is not None else now
    created_at = stamp(clock.wall_ms(run.created))
    trigger = {
        "id": run.trigger_id,
        "cause": run.cause,
        "job_definition_id": job.job_id,
        **{name: run.overrides.get(name) for name in OVERRIDES},
        "created_at": created_at,
        "cause_humanized": run.cause,
        "job": None,
    }
    body: dict[str, Any] = {
        "id": run.run_id,
        "trigger_id": run.trigger_id,
        "account_id": job.account_id,
        "environment_id": job.environment_id,
        "project_id": job.project_id,
        "job_definition_id": job.job_id,
        "job_id": job.job_id,
        "status": status,
        "status_humanized": HUMANIZED[status],
        "status_message": (line.last.message or None) if status >= 20 else None,
        "dbt_version": run.overrides.get("dbt_version_override") or DBT_VERSION,
        "git_branch": run.overrides.get("git_branch") or "main",
        "git_sha": run.overrides.get("git_sha") or "0f3c5a1e9b7d2c4a6e8f0b1d3c5e7a9b1d3f5a7c",
        "owner_thread_id": None,
        "executed_by_thread_id": "sim-runner-0" if started is not None else None,
        "deferring_run_id": None,
        "artifacts_saved": status in (10, 20),
        "artifact_s3_path": f"sim/runs/{run.run_id}" if status in (10, 20) else None,
        "has_docs_generated": status == 10 and job.generate_docs,
        "has_sources_generated": False,
        "notifications_sent": status >= 10,
        "blocked_by": [],
        "created_at": created_at,
        "updated_at": stamp(
            clock.wall_ms(max((m.at for m in line.marks if m.at <= now), default=run.created))
        ),
        "dequeued_at": stamp(clock.wall_ms(dequeued)) if dequeued is not None else None,
        "started_at": stamp(clock.wall_ms(started)) if started is not None else None,
        "finished_at": stamp(clock.wall_ms(finished)) if finished is not None else None,
        "last_checked_at": None,
        "last_heartbeat_at": None,
        "should_start_at": None,
        "trigger": trigger,
        "job": None,
        "environment": None,
        "run_steps": [],
        "in_progress": status < 10,
        "is_complete": status >= 10,
        "is_success": status == 10,
        "is_error": status == 20,
        "is_cancelled": status == 30,
        "is_running": status == 3,
        "duration": _duration(end - run.created),
        "queued_duration": _duration((dequeued if dequeued is not None else end) - run.created),
        "run_duration": _duration(end - started) if started is not None else "00:00:00",
        "duration_humanized": _humanized(end - run.created),
        "queued_duration_humanized": _humanized((dequeued if dequeued is not None else end) - run.created),
        "run_duration_humanized": _humanized(end - started) if started is not None else "0 seconds",
        "created_at_humanized": "just now",
        "finished_at_humanized": "just now" if finished is not None else "0 minutes from now",
        "retrying_run_id": None,
        "can_retry": status == 20,
        "href": f"{base_url}/deploy/{job.account_id}/projects/{job.project_id}/runs/{run.run_id}/",
    }
    return body


def artifact_names(run: DbtRun, now: float) -> list[str]:
    """Artifacts saved by a finished run (none while it runs or when it was cancelled)."""
    status = STATUS_CODES[run.status(now)]
    if status == 10:
        names = ["manifest.json", "run_results.json", "sources.json"]
        if run.job.generate_docs:
            names.insert(1, "catalog.json")
        return [*names, *(f"compiled/sim_project/models/{m}.sql" for m in MODELS)]
    if status == 20:
        return ["manifest.json", "run_results.json"]
    return []


def artifact_json(run: DbtRun, name: str, now: float, clock: SimClock) -> Any:
    """The content of one artifact (JSON documents as objects, compiled SQL as text)."""
    finished = stamp(clock.wall_ms(run.timeline.last.at)).replace(" ", "T")
    schema = name.removesuffix(".json").replace("_", "-")
    metadata: dict[str, Any] = {
        "dbt_schema_version": f"https://schemas.getdbt.com/dbt/{schema}/v1.json",
        "dbt_version": DBT_VERSION,
        "generated_at": finished,
        "invocation_id": f"00000000-0000-4000-8000-{run.run_id:012d}",
        "env": {},
    }
    failed = STATUS_CODES[run.status(now)] == 20
    if name == "run_results.json":
        results: list[dict[str, Any]] = [
            {
                "unique_id": f"model.sim_project.{m}",
                "status": "error" if failed and m == "stg_orders" else "success",
                "execution_time": 0.5,
                "message": "relation does not exist" if failed and m == "stg_orders" else "OK",
                "failures": None,
                "adapter_response": {},
                "thread_id": "Thread-1",
                "timing": [],
            }
            for m in MODELS
        ]
        return {"metadata": metadata, "results": results, "elapsed_time": 2.0, "args": {"which": "build"}}
    if name == "manifest.json":
        manifest_nodes = {f"model.sim_project.{m}": {"name": m, "resource_type": "model"} for m in MODELS}
        return {
            "metadata": metadata,
            "nodes": manifest_nodes,
            "sources": {},
            "macros": {},
            "exposures": {},
            "metrics": {},
        }
    if name == "catalog.json":
        nodes = {
            f"model.sim_project.{m}": {"metadata": {"name": m, "type": "table"}, "columns": {}}
            for m in MODELS
        }
        return {"metadata": metadata, "nodes": nodes, "sources": {}, "errors": None}
    if name == "sources.json":
        return {"metadata": metadata, "results": [], "elapsed_time": 0.1}
    model = name.rsplit("/", 1)[-1].removesuffix(".sql")
    return f"select * from raw.{model.removeprefix('stg_')}\n"  # noqa: S608 - fake compiled SQL, never run
