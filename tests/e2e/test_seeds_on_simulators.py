"""The five seed workflows, unchanged, with ``spola run`` against the bundled simulators.

Each test asserts what the real service would give: outputs, polls seen by the simulator, the job
triggered exactly once, and — where the published workflow meets the vendors' awkward parts — the
faithful failure, next to the corrected example under ``examples/`` that succeeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spola.sim import create_combined_app, serve_in_thread
from tests.conftest import REPO, SEEDS, shared_or_skip

EXAMPLES = REPO / "examples"
TOKEN = "dapi-sim-token"
OTHER = "sim-token"


class Sim:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: Any = None, token: str | None = TOKEN) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def count(self, key: str, method: str | None = None) -> int:
        total = 0
        for per_vendor in self.call("GET", "/_sim/requests", token=None)["counts"].values():
            counts = per_vendor.get(key, {})
            total += counts.get(method, 0) if method else sum(counts.values())
        return total

    def reset(self) -> None:
        self.call("POST", "/_sim/reset", token=None)
        self.call("PUT", "/_sim/faults", {"spec": ""}, token=None)


class RequestClock:
    """Simulated time that moves ``step`` seconds per vendor request: runs progress deterministically,
    whatever the machine's speed, so each poll sees a predictable state."""

    def __init__(self) -> None:
        self.now = 0.0
        self.step = 1.0

    def __call__(self) -> float:
        return self.now

    def wrap(self, app: Any) -> Any:
        async def asgi(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and not scope["path"].startswith("/_sim"):
                self.now += self.step
            await app(scope, receive, send)

        return asgi


@pytest.fixture(scope="module")
def _sim_server() -> Iterator[tuple[Sim, RequestClock]]:
    shared_or_skip()
    clock = RequestClock()
    with serve_in_thread(clock.wrap(create_combined_app(clock=clock, seed=3))) as server:
        yield Sim(server.base_url), clock


@pytest.fixture
def sim(_sim_server: tuple[Sim, RequestClock]) -> Sim:
    server, clock = _sim_server
    server.reset()
    clock.step = 1.0
    return server


@pytest.fixture
def clock(_sim_server: tuple[Sim, RequestClock]) -> RequestClock:
    return _sim_server[1]


def spola_run(doc: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spola",
            "run",
            str(doc),
            "--json",
            "--no-store",
            "--poll-interval",
            "0.05",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def steps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["stepId"]: s for s in result["steps"]}


# --- Databricks: run a job and wait ------------------------------------------------------------


def test_databricks_seed_on_a_legacy_single_task_job_succeeds(sim: Sim) -> None:
    code, result, err = spola_run(
        SEEDS / "databricks-run-job-and-wait-workflow.yml",
        "-i",
        "job_id=42",
        "--server",
        f"databricksApi={sim.base_url}/api",
        "--auth",
        f"databricksApi={TOKEN}",
    )
    assert code == 0, err
    assert result["outputs"]["resultState"] == "SUCCESS"
    assert result["outputs"]["notebookResult"] is not None
    assert sim.count("run-now") == 1
    assert sim.count("runs/get") == steps(result)["pollRun"]["executions"] >= 2


def test_databricks_seed_fetches_output_too_early_when_a_poll_sees_terminating(
    sim: Sim, clock: RequestClock
) -> None:
    # polls every 0.25 simulated seconds: one lands in TERMINATING, a state the seed does not cover
    clock.step = 0.25
    code, result, err = spola_run(
        SEEDS / "databricks-run-job-and-wait-workflow.yml",
        "-i",
        "job_id=42",
        "--server",
        f"databricksApi={sim.base_url}/api",
        "--auth",
        f"databricksApi={TOKEN}",
    )
    assert code == 0, err
    assert result["outputs"]["resultState"] is None
    assert result["outputs"]["notebookResult"] is None
    assert sim.count("runs/get-output") == 1


def test_databricks_seed_on_a_multi_task_job_fails_at_get_output_as_databricks_does(
    sim: Sim, clock: RequestClock
) -> None:
    clock.step = 1.2  # polls land in PENDING, RUNNING, RUNNING, TERMINATED: none in the uncovered TERMINATING
    code, result, _ = spola_run(
        SEEDS / "databricks-run-job-and-wait-workflow.yml",
        "-i",
        "job_id=123",
        "--server",
        f"databricksApi={sim.base_url}/api",
        "--auth",
        f"databricksApi={TOKEN}",
    )
    assert code == 1
    assert result["error"]["stepId"] == "getRunOutput"
    assert "multiple tasks is not supported" in result["error"]["message"]
    assert result["outputs"]["resultState"] == "SUCCESS"
    assert sim.count("run-now") == 1


def test_the_corrected_databricks_example_reads_the_task_output(sim: Sim) -> None:
    code, result, err = spola_run(
        EXAMPLES / "databricks" / "run-job-and-wait.arazzo.yaml",
        "-i",
        "job_id=123",
        "--server",
        f"databricks={sim.base_url}/api",
        "--auth",
        f"databricks={TOKEN}",
    )
    assert code == 0, err
    assert result["outputs"]["resultState"] == "SUCCESS"
    assert result["outputs"]["notebookResult"] is not None
    assert sim.count("run-now") == 1


def test_a_failing_job_reports_its_failure(sim: Sim) -> None:
    code, result, err = spola_run(
        EXAMPLES / "databricks" / "run-job-and-wait.arazzo.yaml",
        "-i",
        "job_id=666",
        "--server",
        f"databricks={sim.base_url}/api",
        "--auth",
        f"databricks={TOKEN}",
    )
    assert code == 0, err
    assert result["outputs"]["resultState"] == "FAILED"


def test_a_wrong_token_fails_with_the_vendor_message(sim: Sim) -> None:
    code, result, _ = spola_run(
        SEEDS / "databricks-run-job-and-wait-workflow.yml",
        "-i",
        "job_id=42",
        "--server",
        f"databricksApi={sim.base_url}/api",
        "--auth",
        "databricksApi=dapi-wrong",
    )
    assert code == 1
    assert "Invalid access token" in result["error"]["message"]
    assert "dapi-wrong" not in json.dumps(result)


def test_a_429_storm_still_finishes_correctly(sim: Sim) -> None:
    sim.call("PUT", "/_sim/faults", {"spec": "runs/get:429@0.5:retry-after=0,run-now:429x2"}, token=None)
    code, result, err = spola_run(
        EXAMPLES / "databricks" / "run-job-and-wait.arazzo.yaml",
        "-i",
        "job_id=123",
        "--server",
        f"databricks={sim.base_url}/api",
        "--auth",
        f"databricks={TOKEN}",
    )
    assert code == 0, err
    assert result["outputs"]["resultState"] == "SUCCESS"
    log = sim.call("GET", "/_sim/requests", token=None)["requests"]
    assert sum(1 for r in log if r["status"] == 429) >= 2
    assert sum(1 for r in log if r["key"] == "run-now" and r["status"] == 200) == 1


# --- Azure Databricks: submit a one-time run; cancel an active run -------------------------------


def test_azure_submit_seed_fails_at_fetch_output_on_the_parent_run(sim: Sim) -> None:
    code, result, _ = spola_run(
        SEEDS / "azure-databricks-submit-one-time-run-workflow.yml",
        "-i",
        f"token={TOKEN}",
        "-i",
        "runName=once",
        "-i",
        "taskKey=main",
        "-i",
        "notebookPath=/Shared/x",
        "-i",
        "existingClusterId=0923-164208-simcl0ud",
        "--server",
        f"azureDatabricksApi={sim.base_url}/api",
    )
    assert code == 1
    assert result["error"]["stepId"] == "fetchOutput"
    assert result["outputs"]["resultState"] == "SUCCESS"
    assert sim.count("runs/submit") == 1


def test_azure_cancel_seed_cancels_a_run_that_really_is_running(sim: Sim) -> None:
    run_id = sim.call("POST", "/api/2.1/jobs/run-now", {"job_id": 777})["run_id"]
    code, result, err = spola_run(
        SEEDS / "azure-databricks-cancel-active-run-workflow.yml",
        "-i",
        f"token={TOKEN}",
        "-i",
        f"runId={run_id}",
        "--server",
        f"azureDatabricksApi={sim.base_url}/api",
    )
    assert code == 0, err
    assert result["outputs"] == {
        "runId": run_id,
        "finalLifeCycleState": "TERMINATED",
        "resultState": "CANCELED",
    }
    assert sim.count("runs/cancel") == 1
    assert steps(result)["pollRun"]["executions"] >= 1


# --- Dataiku ------------------------------------------------------------------------------------


def test_dataiku_seed_ends_before_the_scenario_starts_as_published(sim: Sim, clock: RequestClock) -> None:
    clock.step = 0.25
    code, result, err = spola_run(
        SEEDS / "dataiku-run-scenario-and-poll-workflow.yml",
        "-i",
        f"apiKey={OTHER}",
        "-i",
        "projectKey=DKU_TUTORIAL",
        "-i",
        "scenarioId=BUILD_ALL",
        "--server",
        f"dssPublicApi={sim.base_url}/public/api",
    )
    assert code == 0, err
    # /light says running: false until the delayed start, and has no lastRun; the fire has no `id`
    assert result["outputs"] == {"runId": None, "lastRun": None}
    assert steps(result)["pollStatus"]["executions"] == 1


def test_the_corrected_dataiku_example_waits_for_the_outcome(sim: Sim) -> None:
    code, result, err = spola_run(
        EXAMPLES / "dataiku" / "run-scenario-and-wait.arazzo.yaml",
        "-i",
        "projectKey=DKU_TUTORIAL",
        "-i",
        "scenarioId=BUILD_WITH_WARNINGS",
        "--server",
        f"dss={sim.base_url}/public/api",
        "--auth",
        f"dss={OTHER}",
    )
    assert code == 0, err
    assert result["outputs"]["outcome"] == "WARNING"
    assert result["outputs"]["runId"]
    assert sim.count("scenario/run") == 1


# --- dbt Cloud ----------------------------------------------------------------------------------


def test_dbt_seed_triggers_once_polls_and_lists_artifacts(sim: Sim) -> None:
    code, result, err = spola_run(
        SEEDS / "dbt-trigger-run-and-poll-workflow.yml",
        "-i",
        "accountId=1",
        "-i",
        "jobId=1",
        "-i",
        f"token={OTHER}",
        "--server",
        f"dbtAdminApi={sim.base_url}/api/v2",
    )
    assert code == 0, err
    assert result["outputs"]["finalStatus"] == 10
    assert "manifest.json" in result["outputs"]["artifacts"]
    assert sim.count("jobs/run") == 1
    assert sim.count("runs/get") == steps(result)["pollRun"]["executions"] >= 2
    (trigger,) = [
        r for r in sim.call("GET", "/_sim/requests", token=None)["requests"] if r["key"] == "jobs/run"
    ]
    assert trigger["body"] == {"cause": "Triggered via Arazzo workflow"}


def test_dbt_seed_on_an_erroring_job_ends_with_status_20(sim: Sim) -> None:
    code, result, err = spola_run(
        SEEDS / "dbt-trigger-run-and-poll-workflow.yml",
        "-i",
        "accountId=1",
        "-i",
        "jobId=2",
        "-i",
        f"token={OTHER}",
        "--server",
        f"dbtAdminApi={sim.base_url}/api/v2",
    )
    assert code == 0, err
    assert result["outputs"]["finalStatus"] == 20
    assert result["outputs"]["artifacts"] is None
    assert sim.count("runs/artifacts") == 0
