"""A bounded load test: many workflows at once against the Databricks simulator with faults on.

Every run reaches a terminal state, none is lost, no job is triggered twice, and the only runs that
fail are those whose unsafe trigger (run-now without an idempotency token) met a fault — spola
never re-sends that one. 200 runs in CI; ``SPOLA_LOAD_RUNS=3000`` (or more) for the long form.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spola.batch import arun_many
from spola.options import PollPolicy
from spola.sim import create_app, serve_in_thread
from spola.store import Journal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "databricks" / "run-job-and-wait.arazzo.yaml"
TOKEN = "dapi-sim-token"
RUNS = int(os.environ.get("SPOLA_LOAD_RUNS", "200"))
FAULTS = ",".join(
    [
        "runs/get:429@0.05:retry-after=0",
        "runs/get:503@0.05",
        "runs/get:drop@0.02",
        "runs/get-output:500@0.05",
        "run-now:503@0.03:late",
        "run-now:drop@0.02:late",
        "run-now:429@0.03:retry-after=0",
        "*:latency=2ms@0.1",
    ]
)


class RequestClock:
    """Simulated time that moves a second per vendor request: jobs progress whatever the machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def wrap(self, app: Any) -> Any:
        async def asgi(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and not scope["path"].startswith("/_sim"):
                self.now += 1.0
            await app(scope, receive, send)

        return asgi


def _admin(base: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


@pytest.mark.timeout(1800)
async def test_many_runs_with_faults_all_end_none_lost_no_job_triggered_twice(tmp_path: Path) -> None:
    clock = RequestClock()
    with serve_in_thread(clock.wrap(create_app("databricks", clock=clock, faults=FAULTS, seed=11))) as server:
        base = server.base_url
        jobs = {j["job_id"]: j["settings"] for j in _admin(base, "GET", "/_sim/state")["jobs"]}
        template = {k: v for k, v in jobs[123].items() if k != "format"}
        job_ids = [_admin(base, "POST", "/_sim/jobs", {"settings": template})["job_id"] for _ in range(RUNS)]
        rows = [
            {"job_id": job_id, **({"idempotency_token": f"load-{i}"} if i % 2 == 0 else {})}
            for i, job_id in enumerate(job_ids)
        ]
        store = tmp_path / "runs.db"
        results = await arun_many(
            EXAMPLE,
            None,
            rows,
            concurrency=50,
            store_path=store,
            servers={"databricks": base + "/api"},
            auth={"databricks": TOKEN},
            poll_interval=0,
            retry_backoff=PollPolicy(fixed=0.0),
            seed=5,
        )
        runs = _admin(base, "GET", "/_sim/state")["runs"]

    assert len(results) == RUNS
    statuses = Counter(r.status for r in results)
    assert set(statuses) <= {"succeeded", "failed"}, statuses
    triggers = Counter(run["job_id"] for run in runs)
    assert all(triggers[job_id] <= 1 for job_id in job_ids), "a job was triggered twice"
    for i, (row, result) in enumerate(zip(rows, results, strict=True)):
        if result.status == "succeeded":
            assert triggers[row["job_id"]] == 1
            assert result.outputs["resultState"] == "SUCCESS", result.outputs
        else:
            # only an unsafe trigger that met a fault may fail the run; safe steps ride faults out
            assert result.error is not None and result.error.step_id == "runNow", (i, result.error)
            assert "idempotency_token" not in row, (i, result.error)
    assert statuses["succeeded"] >= RUNS * 0.8, statuses

    journal = await Journal.open(str(store))
    try:
        listed = await journal.list_runs(limit=RUNS * 2)
    finally:
        await journal.close()
    assert len(listed) == RUNS  # none lost
    assert {s.status for s in listed} <= {"succeeded", "failed"}
