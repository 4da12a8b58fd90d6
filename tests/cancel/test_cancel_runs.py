"""Stopping a run cancels its remote work: the Databricks example's x-spola-cancel against the simulator.

In-process (a CancelSignal, task cancellation, --timeout) and as a user does it: Ctrl-C / SIGTERM to a
`spola run`, and `spola cancel` from a second process. The simulator then reports the run CANCELED.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

import spola
from spola.drivers.aio import RunInterrupted
from spola.store import RunStore
from tests.cancel.conftest import DBT_EXAMPLE, EXAMPLE, TOKEN, Sim, spola_process, spola_run, wait_until

LONG_JOB = 777  # the simulator's 600 s job


def example_args(sim: Sim, *extra: str) -> list[str]:
    return [
        "run", str(EXAMPLE), "-i", f"job_id={LONG_JOB}", "--server", f"databricks={sim.api}",
        "--auth", f"databricks={TOKEN}", "--poll-interval", "0.2", *extra,
    ]  # fmt: skip


def the_run_id(sim: Sim) -> int:
    (trigger,) = [r for r in sim.requests() if r["key"] == "run-now"]
    body = trigger["body"]
    assert isinstance(body, dict)
    runs = sim.get(f"/api/2.1/jobs/runs/list?job_id={LONG_JOB}")["runs"]
    return int(runs[0]["run_id"])


def assert_cancelled_remotely(sim: Sim) -> None:
    run_id = the_run_id(sim)
    assert sim.count("runs/cancel") == 1
    (cancel,) = [r for r in sim.requests() if r["key"] == "runs/cancel"]
    assert cancel["body"] == {"run_id": run_id}
    state = sim.databricks_run(run_id)["state"]
    assert state["life_cycle_state"] == "TERMINATED"
    assert state["result_state"] == "CANCELED"


async def polling(sim: Sim, at_least: int = 2) -> None:
    while sim.count("runs/get") < at_least:
        await asyncio.sleep(0.05)


async def test_a_cancel_signal_runs_the_cancel_workflow(sim: Sim) -> None:
    stop = spola.CancelSignal()
    task = asyncio.ensure_future(
        spola.arun(
            EXAMPLE, inputs={"job_id": LONG_JOB}, servers={"databricks": sim.api},
            auth={"databricks": TOKEN}, poll_interval=0.2, cancel=stop,
        )
    )  # fmt: skip
    await asyncio.wait_for(polling(sim), 30)
    stop.set("the test changed its mind")
    result = await asyncio.wait_for(task, 60)
    assert result.status == "cancelled"
    assert result.error is not None and "the test changed its mind" in result.error.message
    assert result.cancel is not None
    assert result.cancel.workflow_id == "cancel-run"
    assert result.cancel.status == "succeeded"
    assert result.cancel.outputs == {"lifeCycleState": "TERMINATED", "resultState": "CANCELED"}
    assert result.to_dict()["cancel"]["status"] == "succeeded"
    assert_cancelled_remotely(sim)


async def test_cancelling_the_task_runs_it_too_and_raises_run_interrupted(sim: Sim) -> None:
    task = asyncio.ensure_future(
        spola.arun(
            EXAMPLE, inputs={"job_id": LONG_JOB}, servers={"databricks": sim.api},
            auth={"databricks": TOKEN}, poll_interval=0.2,
        )
    )  # fmt: skip
    await asyncio.wait_for(polling(sim), 30)
    task.cancel()
    with pytest.raises(RunInterrupted) as stopped:
        await asyncio.wait_for(task, 60)
    result = stopped.value.result
    assert result.status == "cancelled"  # the remote work was cancelled: nothing left to resume
    assert result.cancel is not None and result.cancel.status == "succeeded"
    assert_cancelled_remotely(sim)


async def test_a_cancel_before_the_job_started_sends_nothing(sim: Sim) -> None:
    stop = spola.CancelSignal()
    stop.set("right away")
    result = await spola.arun(
        EXAMPLE, inputs={"job_id": LONG_JOB}, servers={"databricks": sim.api},
        auth={"databricks": TOKEN}, cancel=stop,
    )  # fmt: skip
    assert result.status == "cancelled"
    assert result.cancel is not None and result.cancel.status == "skipped"
    assert "run_id" in (result.cancel.message or "")
    assert sim.count("runs/cancel") == 0


async def test_the_timeout_runs_the_cancel_workflow(sim: Sim) -> None:
    result = await spola.arun(
        EXAMPLE, inputs={"job_id": LONG_JOB}, servers={"databricks": sim.api},
        auth={"databricks": TOKEN}, poll_interval=0.2, timeout=1.0,
    )  # fmt: skip
    assert result.status == "failed"
    assert result.error is not None and "--timeout" in result.error.message
    assert result.cancel is not None and result.cancel.status == "succeeded"
    assert "--timeout" in result.cancel.reason
    assert_cancelled_remotely(sim)


def test_a_slow_cancel_workflow_is_bounded(sim: Sim, tmp_path: Path) -> None:
    slow = tmp_path / "cancel-run.arazzo.yaml"
    text = (EXAMPLE.parent / "cancel-run.arazzo.yaml").read_text()
    slow.write_text(text.replace("./jobs.openapi.yaml", str(EXAMPLE.parent / "jobs.openapi.yaml")))
    doc = tmp_path / "flow.arazzo.yaml"
    doc.write_text(
        EXAMPLE.read_text()
        .replace("./jobs.openapi.yaml", str(EXAMPLE.parent / "jobs.openapi.yaml"))
        .replace("./cancel-run.arazzo.yaml", str(slow))
        .replace("timeout: 60", "timeout: 0.5")
    )
    sim.get("/_sim/faults")  # the admin API is up
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(
            f"{sim.server.base_url}/_sim/faults", data=b"runs/cancel:latency=3s", method="PUT"
        ),
        timeout=10,
    ).read()
    stop = spola.CancelSignal()

    async def main() -> spola.RunResult:
        task = asyncio.ensure_future(
            spola.arun(
                doc, inputs={"job_id": LONG_JOB}, servers={"databricks": sim.api},
                auth={"databricks": TOKEN}, poll_interval=0.2, cancel=stop,
            )
        )  # fmt: skip
        await asyncio.wait_for(polling(sim, 1), 30)
        stop.set("bounded")
        return await asyncio.wait_for(task, 30)

    result = asyncio.run(main())
    assert result.status == "cancelled"
    assert result.cancel is not None and result.cancel.status == "timed out"
    assert "0.5 s" in (result.cancel.message or "")
    assert "remote work may go on" in (result.error.message if result.error else "")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_spola_run_cancels_the_databricks_run(sim: Sim, tmp_path: Path, sig: int) -> None:
    store = tmp_path / "runs.db"
    proc = spola_process(*example_args(sim, "--json"), store=store)
    try:
        wait_until(lambda: sim.count("runs/get") >= 2, "the poll loop")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    result = json.loads(out)
    assert result["status"] == "cancelled"
    assert result["cancel"]["status"] == "succeeded"
    assert result["cancel"]["outputs"]["resultState"] == "CANCELED"
    assert_cancelled_remotely(sim)
    with RunStore.open(store) as runs:
        record = runs.get_run(result["runId"])
    assert record.status == "cancelled"
    kinds = [e.kind for e in record.events]
    assert "cancel-started" in kinds and "cancel-finished" in kinds
    paths = [e.step_path for e in record.exchanges if e.step_path.startswith("cancel>")]
    assert any(p.endswith("/cancel") for p in paths)


def test_spola_cancel_from_a_second_process(sim: Sim, tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    proc = spola_process(*example_args(sim, "--json"), store=store)
    try:
        wait_until(lambda: sim.count("runs/get") >= 2, "the poll loop")
        with RunStore.open(store) as runs:
            (summary,) = runs.list_runs()
        prefix = summary.run_id[:-3]
        cancel = spola_run("cancel", prefix, "--reason", "wrong job", store=store)
        assert cancel.returncode == 0, cancel.stdout + cancel.stderr
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert cancel.returncode == 0, cancel.stderr
    assert f"run {summary.run_id}: cancelled" in cancel.stdout
    assert "wrong job" in cancel.stdout
    assert "cancel workflow cancel-run: succeeded" in cancel.stdout
    assert "CANCELED" in cancel.stdout
    assert proc.returncode == 130, err
    result = json.loads(out)
    assert result["status"] == "cancelled"
    assert "wrong job" in result["error"]["message"]
    assert_cancelled_remotely(sim)


def test_spola_cancel_marks_a_run_whose_process_is_gone(sim: Sim, tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    proc = spola_process(*example_args(sim), store=store)
    wait_until(lambda: sim.count("runs/get") >= 1, "the poll loop")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with RunStore.open(store) as runs:
        (summary,) = runs.list_runs()
    assert summary.status == "running"
    cancel = spola_run("cancel", summary.run_id, "--json", store=store)
    assert cancel.returncode == 0, cancel.stderr
    outcome = json.loads(cancel.stdout)
    assert outcome["action"] == "marked"
    assert outcome["status"] == "cancelled"
    # the credential is never stored, so the cancel workflow could not run without it
    assert "not run" in outcome["message"] and "--auth" in outcome["message"]
    assert "may still be going" in outcome["message"]
    assert sim.count("runs/cancel") == 0
    with RunStore.open(store) as runs:
        assert runs.get_run(summary.run_id).status == "cancelled"
    again = spola_run("cancel", summary.run_id, store=store)
    assert again.returncode == 0  # cancelling twice is harmless
    assert "already cancelled" in again.stdout
    resume = spola_run("resume", summary.run_id, store=store)
    assert resume.returncode == 2 and "cancelled" in resume.stderr


def test_spola_cancel_of_an_unknown_run_is_a_clean_error(tmp_path: Path) -> None:
    proc = spola_run("cancel", "no-such-run", store=tmp_path / "runs.db")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "no run with id no-such-run" in proc.stderr


def test_ctrl_c_cancels_the_dbt_example_run(sim: Sim, tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    dbt_api = f"{sim.server.base_url}/api/v2"
    args = [
        "run", str(DBT_EXAMPLE), "-i", "accountId=1", "-i", "jobId=3", "--server", f"dbt={dbt_api}",
        "--auth", "dbt=sim-token", "--poll-interval", "0.2", "--json",
    ]  # fmt: skip
    proc = spola_process(*args, store=store)
    try:
        wait_until(lambda: sim.count("runs/get", vendor="dbt") >= 2, "the dbt poll loop")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    result = json.loads(out)
    assert result["status"] == "cancelled"
    assert result["cancel"]["status"] == "succeeded"
    assert result["cancel"]["outputs"]["status"] == 30
    run_id = result["outputs"]["runId"]
    assert sim.count("runs/cancel", vendor="dbt") == 1
    remote = sim.get(f"/api/v2/accounts/1/runs/{run_id}/", token="sim-token")["data"]
    assert remote["status"] == 30 and remote["is_cancelled"] is True


def test_spola_cancel_of_a_dead_run_runs_its_cancel_workflow_here(sim: Sim, tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    proc = spola_process(*example_args(sim), store=store)
    wait_until(lambda: sim.count("runs/get") >= 1, "the poll loop")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with RunStore.open(store) as runs:
        (summary,) = runs.list_runs()
    cancel = spola_run("cancel", summary.run_id, "--auth", f"databricks={TOKEN}", store=store)
    assert cancel.returncode == 0, cancel.stderr
    assert "spola ran its cancel workflow here" in cancel.stdout
    assert "cancel workflow cancel-run: succeeded" in cancel.stdout
    assert_cancelled_remotely(sim)
    with RunStore.open(store) as runs:
        record = runs.get_run(summary.run_id)
    assert record.status == "cancelled"
    assert "cancel-finished" in [e.kind for e in record.events]
    assert any(e.step_path.startswith("cancel>") for e in record.exchanges)
