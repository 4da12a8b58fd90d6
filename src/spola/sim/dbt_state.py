"""dbt Cloud state: accounts, jobs and runs with the v2 status codes.

A run is queued (1), starting (2) and running (3), then ends success (10), error (20) or cancelled (30).
Timing (simulated seconds): queued 1, starting 1, running 2 (or the scripted duration).
`POST runs/{id}/cancel/` ends an unfinished run as cancelled at once.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spola.sim.clock import SimClock
from spola.sim.errors import ApiError
from spola.sim.script import RunScript, merge_scripts, script_from_text
from spola.sim.timeline import Mark, Timeline
from spola.sim.vendor import Simulator

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["STATUS_CODES", "DbtJob", "DbtRun", "DbtSimulator", "DbtTiming"]

STATUS_CODES = {"QUEUED": 1, "STARTING": 2, "RUNNING": 3, "SUCCESS": 10, "ERROR": 20, "CANCELLED": 30}
OUTCOMES = ("SUCCESS", "ERROR", "CANCELLED")
ERROR_MESSAGE = (
    "Database Error in model stg_orders (models/staging/stg_orders.sql)\n"
    '  relation "raw.orders" does not exist (scripted outcome: error)'
)
FIRST_RUN_ID = 70_001

# (job id, name, outcome, duration)
SEED_JOBS: tuple[tuple[int, str, str | None, float | None], ...] = (
    (1, "sim-daily-build", None, None),
    (2, "sim-failing-build", "ERROR", None),
    (3, "sim-long-build", None, 600.0),
    (4, "sim-cancelled-build", "CANCELLED", None),
    (5, "sim-random-build", "RANDOM", None),
)


@dataclass(frozen=True, slots=True)
class DbtTiming:
    """Simulated seconds in each non-final status."""

    queued: float = 1.0
    starting: float = 1.0
    running: float = 2.0


@dataclass(slots=True)
class DbtJob:
    """A job definition."""

    job_id: int
    account_id: int
    project_id: int
    environment_id: int
    name: str
    created_ms: int
    execute_steps: list[str] = field(default_factory=lambda: ["dbt build"])
    generate_docs: bool = True
    outcome: str | None = None
    duration: float | None = None


@dataclass(slots=True)
class DbtRun:
    """A run of a job; its status over time is `timeline` (states are the keys of `STATUS_CODES`)."""

    run_id: int
    trigger_id: int
    job: DbtJob
    cause: str
    overrides: dict[str, Any]
    created: float
    timeline: Timeline

    def status(self, now: float) -> str:
        """The status name at `now`."""
        return self.timeline.at(now).state


class DbtSimulator(Simulator):
    """Account 1 with project 1, environment 1 and the pre-seeded jobs listed in `spola.sim.dbt`."""

    def __init__(
        self, clock: SimClock | None = None, *, seed: int | None = None, timing: DbtTiming | None = None
    ) -> None:
        self.clock = clock or SimClock()
        self.timing = timing or DbtTiming()
        self._seed = seed
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the pre-seeded jobs, no runs."""
        with self._lock:
            self._rng = random.Random(self._seed)  # noqa: S311 - simulation, not security
            self.accounts: dict[int, str] = {1: "Sim Analytics"}
            self.jobs: dict[int, DbtJob] = {}
            self.runs: dict[int, DbtRun] = {}
            self._next_run = FIRST_RUN_ID
            self._next_job = 100
            for job_id, name, outcome, duration in SEED_JOBS:
                self.add_job(name, job_id=job_id, outcome=outcome, duration=duration)

    def add_job(
        self,
        name: str,
        *,
        job_id: int | None = None,
        account_id: int = 1,
        outcome: str | None = None,
        duration: float | None = None,
        execute_steps: list[str] | None = None,
    ) -> DbtJob:
        """Create a job; `outcome` (SUCCESS, ERROR, CANCELLED, RANDOM) and `duration` script its runs."""
        if outcome is not None and outcome.upper() not in (*OUTCOMES, "RANDOM"):
            raise ApiError(400, f"Unknown sim outcome {outcome!r}")
        with self._lock:
            if job_id is None:
                job_id = self._next_job
                self._next_job += 1
            job = DbtJob(
                job_id,
                account_id,
                1,
                1,
                name,
                self.clock.wall_ms(),
                outcome=outcome.upper() if outcome else None,
            )
            job.duration = duration
            if execute_steps:
                job.execute_steps = list(execute_steps)
            self.jobs[job_id] = job
            return job

    def all_jobs(self) -> list[DbtJob]:
        """Every job, by id."""
        with self._lock:
            return sorted(self.jobs.values(), key=lambda j: j.job_id)

    def all_runs(self) -> list[DbtRun]:
        """Every run, by id."""
        with self._lock:
            return sorted(self.runs.values(), key=lambda r: r.run_id)

    def account(self, account_id: int) -> str:
        """The account name, or a 404."""
        if account_id not in self.accounts:
            raise ApiError(404, "The requested resource was not found.")
        return self.accounts[account_id]

    def job(self, account_id: int, job_id: int) -> DbtJob:
        """The job of this account, or a 404."""
        self.account(account_id)
        with self._lock:
            job = self.jobs.get(job_id)
        if job is None or job.account_id != account_id:
            raise ApiError(404, "The requested resource was not found.")
        return job

    def run(self, account_id: int, run_id: int) -> DbtRun:
        """The run of this account, or a 404."""
        self.account(account_id)
        with self._lock:
            run = self.runs.get(run_id)
        if run is None or run.job.account_id != account_id:
            raise ApiError(404, "The requested resource was not found.")
        return run

    def trigger(self, job: DbtJob, cause: str, overrides: Mapping[str, Any]) -> DbtRun:
        """Queue a run of `job`."""
        with self._lock:
            now = self.clock.now()
            script = merge_scripts(
                script_from_text(cause), script_from_text(job.name), RunScript(job.outcome, job.duration)
            )
            outcome = (script.outcome or "SUCCESS").upper()
            outcome = {"CANCELED": "CANCELLED", "FAILED": "ERROR", "SUCCEEDED": "SUCCESS"}.get(
                outcome, outcome
            )
            if outcome == "RANDOM":
                outcome = self._rng.choice(("SUCCESS", "ERROR"))
            if outcome not in OUTCOMES:
                raise ApiError(400, f"Unknown sim outcome {outcome!r}")
            busy = self.timing.running if script.duration is None else script.duration
            steps = [("QUEUED", self.timing.queued), ("STARTING", self.timing.starting), ("RUNNING", busy)]
            if outcome == "CANCELLED":
                steps[-1] = ("RUNNING", busy / 2)
            final = Mark(0, outcome, None, ERROR_MESSAGE if outcome == "ERROR" else "")
            run = DbtRun(
                self._next_run,
                self._next_run + 500_000,
                job,
                cause,
                dict(overrides),
                now,
                Timeline.chain(now, steps, final),
            )
            self._next_run += 1
            self.runs[run.run_id] = run
            return run

    def cancel(self, run: DbtRun) -> None:
        """End an unfinished run as cancelled now."""
        with self._lock:
            now = self.clock.now()
            if STATUS_CODES[run.status(now)] < 10:
                run.timeline = run.timeline.cut(now, (Mark(now, "CANCELLED", None, "Cancelled by user."),))

    def snapshot(self) -> dict[str, Any]:
        """Jobs and runs with their current status."""
        now = self.clock.now()
        with self._lock:
            return {
                "now": now,
                "jobs": [{"id": j.job_id, "name": j.name, "outcome": j.outcome} for j in self.jobs.values()],
                "runs": [
                    {"id": r.run_id, "job_id": r.job.job_id, "status": STATUS_CODES[r.status(now)]}
                    for r in self.runs.values()
                ],
            }
