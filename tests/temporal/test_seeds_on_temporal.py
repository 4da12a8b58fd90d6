"""The five seed workflows through Temporal (dev server + a ``spola worker`` process) give what the
embedded engine gives against the same simulators: outputs, status, every step's outcome, and the
remote job triggered exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spola.sim import create_combined_app, serve_in_thread
from tests.conftest import SEEDS, shared_or_skip
from tests.e2e.test_seeds_on_simulators import OTHER, TOKEN, RequestClock, Sim, spola_run


@pytest.fixture(scope="module")
def sim_and_clock() -> Iterator[tuple[Sim, RequestClock]]:
    shared_or_skip()
    clock = RequestClock()
    with serve_in_thread(clock.wrap(create_combined_app(clock=clock, seed=3))) as server:
        yield Sim(server.base_url), clock


def _prepare(sim: Sim, clock: RequestClock, step: float) -> None:
    sim.reset()
    clock.now = 0.0
    clock.step = step


def _shape(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": result["status"],
        "outputs": result["outputs"],
        "error": result["error"],
        "steps": [(s["stepId"], s["status"], s["executions"], s["lastStatusCode"]) for s in result["steps"]],
    }


def _cases(base: str) -> list[tuple[str, list[str], str, float]]:
    return [
        (
            "databricks-run-job-and-wait-workflow.yml",
            ["-i", "job_id=42", "--server", f"databricksApi={base}/api", "--auth", f"databricksApi={TOKEN}"],
            "run-now",
            1.0,
        ),
        (
            "azure-databricks-submit-one-time-run-workflow.yml",
            [
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
                f"azureDatabricksApi={base}/api",
            ],
            "runs/submit",
            1.0,
        ),
        (
            "azure-databricks-cancel-active-run-workflow.yml",
            ["-i", f"token={TOKEN}", "--server", f"azureDatabricksApi={base}/api"],
            "runs/cancel",
            1.0,
        ),
        (
            "dataiku-run-scenario-and-poll-workflow.yml",
            [
                "-i",
                f"apiKey={OTHER}",
                "-i",
                "projectKey=DKU_TUTORIAL",
                "-i",
                "scenarioId=BUILD_ALL",
                "--server",
                f"dssPublicApi={base}/public/api",
            ],
            "scenario/run",
            0.25,
        ),
        (
            "dbt-trigger-run-and-poll-workflow.yml",
            [
                "-i",
                "accountId=1",
                "-i",
                "jobId=1",
                "-i",
                f"token={OTHER}",
                "--server",
                f"dbtAdminApi={base}/api/v2",
            ],
            "jobs/run",
            1.0,
        ),
    ]


@pytest.mark.parametrize(
    "index", range(5), ids=["databricks", "azure-submit", "azure-cancel", "dataiku", "dbt"]
)
def test_a_seed_on_temporal_matches_the_embedded_engine(
    index: int, sim_and_clock: tuple[Sim, RequestClock], temporal_address: str, shared_queue: str
) -> None:
    sim, clock = sim_and_clock
    name, args, trigger, step = _cases(sim.base_url)[index]
    doc = Path(SEEDS / name)
    results = []
    for where in ([], ["--temporal", temporal_address, "--task-queue", shared_queue]):
        _prepare(sim, clock, step)
        extra = list(args)
        if trigger == "runs/cancel":
            run_id = sim.call("POST", "/api/2.1/jobs/run-now", {"job_id": 777})["run_id"]
            extra += ["-i", f"runId={run_id}"]
        code, result, err = spola_run(doc, *extra, *where)
        assert sim.count(trigger) == 1, (where, err)
        results.append((code, _shape(result)))
    (embedded_code, embedded), (temporal_code, on_temporal) = results
    assert temporal_code == embedded_code
    assert on_temporal == embedded
    assert embedded["steps"], "the run did something"
