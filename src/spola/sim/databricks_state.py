"""Databricks Jobs state: jobs, runs, task runs, idempotency tokens; thread-safe, time-driven."""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Mapping
from typing import Any

from spola.sim.clock import SimClock
from spola.sim.databricks_model import (
    LEGACY_PARAMS,
    TASK_TYPES,
    Job,
    Run,
    TaskRun,
    check_task,
    check_task_keys,
    concurrency,
    depends,
    invalid,
    job_parameters,
    make_task_run,
)
from spola.sim.databricks_plan import (
    OUTCOMES,
    TERMINAL,
    TaskSpec,
    Timing,
    interrupt,
    plan_run,
)
from spola.sim.databricks_seed import SEED_JOBS
from spola.sim.script import RunScript, merge_scripts, script_from_params, script_from_text
from spola.sim.vendor import Simulator

__all__ = ["FIRST_EPHEMERAL_JOB_ID", "FIRST_RUN_ID", "DatabricksSimulator"]

FIRST_RUN_ID = 1001
FIRST_EPHEMERAL_JOB_ID = 900_001


class DatabricksSimulator(Simulator):
    """Jobs API state. Pre-seeded jobs are listed in `spola.sim.databricks`."""

    def __init__(
        self, clock: SimClock | None = None, *, seed: int | None = None, timing: Timing | None = None
    ) -> None:
        self.clock = clock or SimClock()
        self.timing = timing or Timing()
        self._seed = seed
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the pre-seeded jobs, no runs."""
        with self._lock:
            self._rng = random.Random(self._seed)  # noqa: S311 - simulation, not security
            self.jobs: dict[int, Job] = {}
            self.runs: dict[int, Run] = {}
            self._tokens: dict[str, int] = {}
            self._next_run_id = FIRST_RUN_ID
            self._next_job_id = 1000
            self._next_ephemeral = FIRST_EPHEMERAL_JOB_ID
            for job_id, fmt, settings in SEED_JOBS:
                self.create_job(copy.deepcopy(settings), job_id=job_id, format=fmt)

    # -- jobs -----------------------------------------------------------------------------------------

    def create_job(
        self, settings: Mapping[str, Any], *, job_id: int | None = None, format: str | None = None
    ) -> int:
        """Create a job; its format is MULTI_TASK when it has `tasks`, SINGLE_TASK for a top-level task."""
        body = dict(settings)
        fmt = format or (
            "SINGLE_TASK" if any(t in body for t in TASK_TYPES) and "tasks" not in body else "MULTI_TASK"
        )
        tasks = body.get("tasks") or []
        if not isinstance(tasks, list):
            raise invalid("Invalid value for tasks: expected an array")
        check_task_keys(tasks)
        body.setdefault("name", "Untitled")
        body.setdefault("max_concurrent_runs", 1)
        body.setdefault("timeout_seconds", 0)
        body.setdefault("email_notifications", {})
        body["format"] = fmt
        with self._lock:
            if job_id is None:
                job_id = self._next_job_id
                self._next_job_id += 1
            self.jobs[job_id] = Job(job_id, body, fmt, self.clock.wall_ms())
        return job_id

    def all_jobs(self) -> list[Job]:
        """Every job, by id."""
        with self._lock:
            return sorted(self.jobs.values(), key=lambda j: j.job_id)

    def all_runs(self) -> list[Run]:
        """Every run, newest first."""
        with self._lock:
            return sorted(self.runs.values(), key=lambda r: r.run_id, reverse=True)

    def job(self, job_id: int) -> Job:
        """The job, or the vendor's 400 for an unknown id."""
        with self._lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise invalid(f"Job {job_id} does not exist.")
        return job

    def delete_job(self, job_id: int) -> None:
        """Remove a job (its runs stay readable)."""
        with self._lock:
            self.job(job_id)
            del self.jobs[job_id]

    # -- runs -----------------------------------------------------------------------------------------

    def run_now(self, job_id: int, request: Mapping[str, Any]) -> Run:
        """Trigger a job run; a repeated `idempotency_token` returns the run it first started."""
        with self._lock:
            token = request.get("idempotency_token")
            if token is not None and str(token) in self._tokens:
                return self.runs[self._tokens[str(token)]]
            job = self.job(job_id)
            given = [name for name in LEGACY_PARAMS if request.get(name) is not None]
            if len(given) > 1:
                raise invalid(
                    f"Only one of {', '.join(LEGACY_PARAMS)} may be set, got {' and '.join(given)}."
                )
            if given and request.get("job_parameters") is not None:
                raise invalid("job_parameters cannot be used together with the legacy task parameters.")
            overriding = {name: request[name] for name in given}
            job_params = job_parameters(job.settings, request.get("job_parameters"))
            notebook = dict(request.get("notebook_params") or {})
            named = dict(request.get("python_named_params") or {})
            values = {p["name"]: p["value"] for p in job_params or []}
            tags = job.settings.get("tags") or {}
            script = merge_scripts(
                script_from_params({**values, **notebook, **named}),
                script_from_text(job.settings.get("name")),
                script_from_params(tags if isinstance(tags, Mapping) else {}),
            )
            specs = job.settings.get("tasks") or []
            if job.format == "SINGLE_TASK":
                specs = [
                    {
                        **{k: v for k, v in job.settings.items() if k not in ("name", "tags")},
                        "task_key": job.settings["name"],
                    }
                ]
            number = job.next_number
            job.next_number += 1
            run = self._start(
                job_id=job_id,
                number=number,
                name=str(job.settings.get("name")),
                run_type="JOB_RUN",
                fmt=job.format,
                specs=specs,
                params={**values, **notebook},
                script=script,
                timeout=float(job.settings.get("timeout_seconds") or 0),
                limit=concurrency(job.settings),
            )
            run.overriding = overriding
            run.job_parameters = job_params
            self._remember(run, token)
            return run

    def submit(self, request: Mapping[str, Any]) -> Run:
        """Start a one-time run (`runs/submit`); MULTI_TASK when it has `tasks`."""
        with self._lock:
            token = request.get("idempotency_token")
            if token is not None and str(token) in self._tokens:
                return self.runs[self._tokens[str(token)]]
            name = str(request.get("run_name") or "Untitled")
            if request.get("tasks") is not None:
                specs = request["tasks"]
                if not isinstance(specs, list) or not specs:
                    raise invalid("Invalid value for tasks: at least one task is required.")
                fmt = "MULTI_TASK"
            elif any(t in request for t in TASK_TYPES):
                specs = [{**dict(request), "task_key": name}]
                fmt = "SINGLE_TASK"
            else:
                raise invalid("Missing required field: tasks")
            check_task_keys(specs)
            for spec in specs:
                check_task(spec)
            base: dict[str, Any] = {}
            for spec in specs:
                base.update((spec.get("notebook_task") or {}).get("base_parameters") or {})
            script = merge_scripts(script_from_params(base), script_from_text(name))
            job_id = self._next_ephemeral
            self._next_ephemeral += 1
            run = self._start(
                job_id=job_id,
                number=0,
                name=name,
                run_type="SUBMIT_RUN",
                fmt=fmt,
                specs=specs,
                params={},
                script=script,
                timeout=float(request.get("timeout_seconds") or 0),
                limit=None,
            )
            run.number_in_job = run.run_id
            self._remember(run, token)
            return run

    def run(self, run_id: int) -> Run:
        """The run, or the vendor's 400 for an unknown id."""
        with self._lock:
            run = self.runs.get(run_id)
        if run is None:
            raise invalid(f"Run {run_id} does not exist.")
        return run

    def task_run(self, run_id: int) -> tuple[Run, TaskRun] | None:
        """The parent run and task run of a task-run id, if it is one."""
        with self._lock:
            for run in self.runs.values():
                for task in run.tasks:
                    if task.run_id == run_id:
                        return run, task
        return None

    def cancel(self, run_id: int) -> None:
        """Cancel a run: TERMINATING now, TERMINATED/CANCELED shortly after; no-op when already done."""
        with self._lock:
            run = self.run(run_id)
            now = self.clock.now()
            if run.plan.parent.at(now).state in TERMINAL:
                return
            run.plan = interrupt(run.plan, now, "CANCELED", "Run cancelled.", self.timing)
            run.cancelled = True

    def is_active(self, run: Run, now: float | None = None) -> bool:
        """Whether the run has not reached a terminal life cycle state."""
        t = self.clock.now() if now is None else now
        return run.plan.parent.at(t).state not in TERMINAL

    def pick_outcome(self, script: RunScript) -> str:
        """The outcome a run will have (RANDOM resolved with the seeded generator)."""
        outcome = (script.outcome or "SUCCESS").upper()
        if outcome == "CANCELLED":
            outcome = "CANCELED"
        if outcome == "RANDOM":
            return self._rng.choice(("SUCCESS", "FAILED", "TIMEDOUT", "INTERNAL_ERROR"))
        if outcome not in OUTCOMES:
            raise invalid(f"Unknown sim_outcome {outcome!r}; known: {', '.join(OUTCOMES)}, RANDOM.")
        return outcome

    def _start(
        self,
        *,
        job_id: int,
        number: int,
        name: str,
        run_type: str,
        fmt: str,
        specs: list[dict[str, Any]],
        params: dict[str, Any],
        script: RunScript,
        timeout: float,
        limit: tuple[int, bool] | None,
    ) -> Run:
        now = self.clock.now()
        outcome = self.pick_outcome(script)
        start, skip = now, ""
        if limit is not None:
            start, skip = self._slot(job_id, now, *limit)
        if skip:
            outcome = "SKIPPED"
        run_id = self._new_id()
        tasks = [
            make_task_run(run_id if fmt == "SINGLE_TASK" else self._new_id(), spec, params, script)
            for spec in specs
        ]
        plan = plan_run(
            [TaskSpec(t.key, depends(t.spec)) for t in tasks],
            created=now,
            start=start,
            outcome=outcome,
            timing=self.timing,
            duration=script.duration,
            skip_message=skip,
        )
        if timeout > 0 and plan.parent.last.at > start + timeout and outcome != "SKIPPED":
            plan = interrupt(plan, start + timeout, "TIMEDOUT", "Run timed out", self.timing)
        run = Run(run_id, job_id, number, name, run_type, fmt, now, plan, tasks, script)
        self.runs[run_id] = run
        return run

    def _slot(self, job_id: int, now: float, limit: int, queue: bool) -> tuple[float, str]:
        ends = sorted(
            r.plan.parent.last.at for r in self.runs.values() if r.job_id == job_id and self.is_active(r, now)
        )
        if len(ends) < limit:
            return now, ""
        if not queue:
            return (
                now,
                f"Skipping this run because the limit of {limit} maximum concurrent runs has been reached.",
            )
        return ends[len(ends) - limit], ""

    def _new_id(self) -> int:
        run_id = self._next_run_id
        self._next_run_id += 1
        return run_id

    def _remember(self, run: Run, token: object) -> None:
        if token is not None:
            run.idempotency_token = str(token)
            self._tokens[str(token)] = run.run_id

    def snapshot(self) -> dict[str, Any]:
        """Jobs and runs with their current life cycle states."""
        with self._lock:
            now = self.clock.now()
            return {
                "now": now,
                "jobs": [
                    {"job_id": j.job_id, "format": j.format, "settings": j.settings}
                    for j in self.jobs.values()
                ],
                "runs": [
                    {
                        "run_id": r.run_id,
                        "job_id": r.job_id,
                        "run_type": r.run_type,
                        "life_cycle_state": r.plan.parent.at(now).state,
                        "result_state": r.plan.parent.at(now).result,
                        "tasks": {t.key: t.run_id for t in r.tasks},
                    }
                    for r in self.runs.values()
                ],
            }
