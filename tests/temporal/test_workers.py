"""Worker processes come and go: SIGKILL one mid-poll and a new one finishes the run with the job
triggered exactly once; two workers share the runs of one task queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from spola.api import astate_temporal, asubmit_temporal
from spola.drivers.temporal import client as tc
from spola.sim import create_combined_app, serve_in_thread
from tests.conftest import REPO
from tests.e2e.test_seeds_on_simulators import TOKEN, RequestClock, Sim
from tests.temporal.conftest import WorkerProcess

EXAMPLE = REPO / "examples" / "databricks" / "run-job-and-wait.arazzo.yaml"


@pytest.fixture(scope="module")
def sim_and_clock() -> Iterator[tuple[Sim, RequestClock]]:
    clock = RequestClock()
    with serve_in_thread(clock.wrap(create_combined_app(clock=clock, seed=3))) as server:
        yield Sim(server.base_url), clock


def _submit(address: str, queue: str, sim: Sim, poll: float, job_id: int = 123) -> str:
    return asyncio.run(
        asubmit_temporal(
            EXAMPLE,
            inputs={"job_id": job_id},
            temporal=address,
            task_queue=queue,
            servers={"databricks": f"{sim.base_url}/api"},
            auth={"databricks": TOKEN},
            poll_interval=poll,
            seed=1,
        )
    )


def _result(address: str, run_id: str) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        client = await tc.connect(tc.Target(address))
        result = await asyncio.wait_for(tc.follow(client.get_workflow_handle(run_id)), 120)
        return result.to_dict()

    return asyncio.run(main())


def _wait_for(predicate: Any, what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("poll", [1.0, 0.1], ids=["timers-between-polls", "polls-in-a-burst-activity"])
def test_a_worker_killed_mid_poll_is_replaced_and_the_job_runs_once(
    poll: float, sim_and_clock: tuple[Sim, RequestClock], temporal_address: str, task_queue: str
) -> None:
    sim, clock = sim_and_clock
    sim.reset()
    clock.now = 0.0
    clock.step = 0.5  # the job needs about ten polls
    first = WorkerProcess(temporal_address, task_queue)
    second: WorkerProcess | None = None
    try:
        run_id = _submit(temporal_address, task_queue, sim, poll)
        _wait_for(lambda: sim.count("runs/get") >= 3, "three polls")
        state = asyncio.run(astate_temporal(run_id, temporal=temporal_address))
        assert state["status"] == "running" and state["temporalStatus"] == "RUNNING", state
        assert state["currentStep"] == "waitForRun"
        assert {s["stepId"]: s["status"] for s in state["steps"]}["runNow"] == "succeeded"
        first.kill()
        polls_at_kill = sim.count("runs/get")
        second = WorkerProcess(temporal_address, task_queue)
        result = _result(temporal_address, run_id)
    finally:
        first.stop() if first.proc.poll() is None else None
        errors = second.stop() if second is not None else ""
    assert "Traceback" not in errors, errors
    assert result["status"] == "succeeded", result
    assert result["outputs"]["resultState"] == "SUCCESS"
    assert result["outputs"]["notebookResult"] is not None
    assert sim.count("run-now") == 1
    assert sim.count("runs/get") > polls_at_kill, "the new worker went on polling"
    steps = {s["stepId"]: s for s in result["steps"]}
    # every poll the simulator answered is one the run counted, but a poll lost with the worker
    assert sim.count("runs/get") - steps["waitForRun"]["executions"] in (0, 1, 2)


def _identities(address: str, run_ids: list[str]) -> set[str]:
    async def main() -> set[str]:
        client = await tc.connect(tc.Target(address))
        seen: set[str] = set()
        for run_id in run_ids:
            history = await client.get_workflow_handle(run_id).fetch_history()
            for event in history.events:
                for field in (
                    "activity_task_started_event_attributes",
                    "workflow_task_started_event_attributes",
                ):
                    if event.HasField(field):
                        seen.add(getattr(event, field).identity)
        return seen

    return asyncio.run(main())


def test_two_workers_share_the_runs_of_one_task_queue(
    sim_and_clock: tuple[Sim, RequestClock], temporal_address: str, task_queue: str
) -> None:
    sim, clock = sim_and_clock
    sim.reset()
    clock.now = 0.0
    clock.step = 0.5
    workers = [WorkerProcess(temporal_address, task_queue), WorkerProcess(temporal_address, task_queue)]
    try:
        run_ids = [_submit(temporal_address, task_queue, sim, 1.0, job_id=42) for _ in range(8)]
        results = [_result(temporal_address, r) for r in run_ids]
        identities = _identities(temporal_address, run_ids)
    finally:
        errors = [w.stop() for w in workers]
    assert all("Traceback" not in e for e in errors), errors
    assert all(r["status"] == "succeeded" and r["outputs"]["resultState"] == "SUCCESS" for r in results)
    assert sim.count("run-now") == 8
    pids = {w.pid for w in workers}
    served = {int(i.split("@", 1)[0]) for i in identities if i.split("@", 1)[0].isdigit()}
    assert pids <= served, (pids, identities)
