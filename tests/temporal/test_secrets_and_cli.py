"""Credentials never reach Temporal in clear text (read back from the server's own history); the
command line submits, follows, detaches and shows runs; without --temporal nothing imports temporalio."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from spola.drivers.temporal import client as tc
from spola.drivers.temporal.codec import EncryptionCodec, load_key
from spola.sim import create_combined_app, serve_in_thread
from tests.conftest import SEEDS, shared_or_skip
from tests.e2e.test_seeds_on_simulators import TOKEN, RequestClock, Sim, spola_run
from tests.integration.documents import write
from tests.stub_server import Reply, StubServer

SECRET_INPUT = "sim-token"


@pytest.fixture(scope="module")
def _sim_server() -> Iterator[tuple[Sim, RequestClock]]:
    shared_or_skip()
    clock = RequestClock()
    with serve_in_thread(clock.wrap(create_combined_app(clock=clock, seed=3))) as server:
        yield Sim(server.base_url), clock


@pytest.fixture
def sim(_sim_server: tuple[Sim, RequestClock]) -> Sim:
    """Simulated time moves one second per vendor request, not with the wall clock: each poll of the
    Databricks seed sees PENDING, RUNNING, then TERMINATED, however slowly a loaded machine schedules
    the run's activities. (On a wall clock, a poll delayed into the half-second TERMINATING window —
    a state the seed's loop does not cover — fell through to the output fetch with resultState null:
    the flakiness of test_credentials_and_secret_inputs_are_sealed_in_temporal_history.)"""
    server, clock = _sim_server
    clock.now = 0.0
    clock.step = 1.0
    return server


def _raw_history(address: str, run_id: str) -> bytes:
    """Every event of every run in the chain, as the server stores it (no codec: what an operator sees)."""

    async def main() -> bytes:
        plain = await Client.connect(address)
        blobs = []
        async for execution in plain.list_workflows(f"WorkflowId = '{run_id}'"):
            history = await plain.get_workflow_handle(run_id, run_id=execution.run_id).fetch_history()
            blobs.extend(e.SerializeToString() for e in history.events)
        return b"".join(blobs)

    return asyncio.run(main())


def _decoded_inputs(address: str, run_id: str) -> bytes:
    """The workflow and activity arguments of the history, opened with the shared key."""

    async def main() -> bytes:
        codec = EncryptionCodec(load_key())
        plain = await Client.connect(address)
        history = await plain.get_workflow_handle(run_id).fetch_history()
        blobs = []
        for event in history.events:
            for field in (
                "workflow_execution_started_event_attributes",
                "activity_task_scheduled_event_attributes",
            ):
                if event.HasField(field):
                    payloads = list(getattr(event, field).input.payloads)
                    blobs.extend(p.data for p in await codec.decode(payloads))
        return b"".join(blobs)

    return asyncio.run(main())


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, base64.b64encode(raw), base64.b64encode(b"x:" + raw)[4:-4]]


def test_credentials_and_secret_inputs_are_sealed_in_temporal_history(
    sim: Sim, temporal_address: str, shared_queue: str
) -> None:
    sim.reset()
    code, result, err = spola_run(
        SEEDS / "databricks-run-job-and-wait-workflow.yml",
        "-i", "job_id=42",
        "--server", f"databricksApi={sim.base_url}/api",
        "--auth", f"databricksApi={TOKEN}",
        "--temporal", temporal_address, "--task-queue", shared_queue,
    )  # fmt: skip
    assert code == 0, err
    assert result["outputs"]["resultState"] == "SUCCESS"
    raw = _raw_history(temporal_address, result["runId"])
    assert b"spola-aes256gcm" in raw  # the payloads are there, sealed
    for form in _forms(TOKEN):
        assert form not in raw
    # the check can fail: opened with the key, the same history does carry the credential
    assert TOKEN.encode() in _decoded_inputs(temporal_address, result["runId"])


def test_a_secret_input_is_sealed_and_redacted(sim: Sim, temporal_address: str, shared_queue: str) -> None:
    sim.reset()
    code, result, err = spola_run(
        SEEDS / "dbt-trigger-run-and-poll-workflow.yml",
        "-i", "accountId=1", "-i", "jobId=1", "-i", f"token={SECRET_INPUT}",
        "--server", f"dbtAdminApi={sim.base_url}/api/v2",
        "--temporal", temporal_address, "--task-queue", shared_queue,
    )  # fmt: skip
    assert code == 0, err
    assert SECRET_INPUT not in json.dumps(result)
    raw = _raw_history(temporal_address, result["runId"])
    for form in _forms(SECRET_INPUT):
        assert form not in raw


def _spola(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spola", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_detach_prints_the_run_id_and_runs_show_reads_its_state(
    tmp_path: Path, stub: StubServer, temporal_address: str, shared_queue: str
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "DONE"}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: once
            steps:
              - stepId: look
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 5}]
                outputs: {state: $response.body#/state}
            outputs: {state: $steps.look.outputs.state}
        """,
    )
    where = ["--temporal", temporal_address, "--task-queue", shared_queue]
    started = _spola("run", str(doc), "--server", f"jobs={stub.base_url}/api", "--detach", *where)
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    assert run_id and "\n" not in run_id

    async def wait() -> dict[str, Any]:
        client = await tc.connect(tc.Target(temporal_address))
        return (await tc.follow(client.get_workflow_handle(run_id))).to_dict()

    assert asyncio.run(wait())["outputs"] == {"state": "DONE"}
    shown = _spola("runs", "show", run_id, "--temporal", temporal_address, "--json")
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["status"] == "succeeded"
    assert state["temporalStatus"] == "COMPLETED"
    assert state["outputs"] == {"state": "DONE"}
    assert len(stub.received("GET", "/api/jobs/runs/get")) == 1
    text = _spola("runs", "show", run_id, "--temporal", temporal_address)
    assert text.returncode == 0 and "succeeded" in text.stdout


def test_an_unreachable_temporal_server_is_one_paragraph_and_its_own_exit_status(tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: once
            steps:
              - {stepId: look, operationId: getRun, parameters: [{name: run_id, in: query, value: 5}]}
        """,
    )
    from tests.temporal.conftest import free_port

    done = _spola("run", str(doc), "--temporal", f"127.0.0.1:{free_port()}", "--json", timeout=60)
    assert done.returncode == tc.EXIT_UNAVAILABLE, done.stderr
    assert "cannot reach the Temporal server" in done.stderr
    assert "Traceback" not in done.stderr
    bad = _spola("run", str(doc), "--temporal", "nowhere", "--json")
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr


def test_without_temporal_nothing_imports_temporalio(tmp_path: Path, stub: StubServer) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "DONE"}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: once
            steps:
              - {stepId: look, operationId: getRun, parameters: [{name: run_id, in: query, value: 5}]}
        """,
    )
    probe = f"""
import sys
from spola.cli.app import main
import spola.api, spola.batch, spola.durable, spola.drivers.aio
try:
    main(["run", {str(doc)!r}, "--no-store", "--json", "--server", "jobs={stub.base_url}/api"])
except SystemExit as exit:
    code = exit.code
import spola
spola.run({str(doc)!r}, servers={{"jobs": "{stub.base_url}/api"}})
print("CODE", code, "LOADED", sorted(m for m in sys.modules if m.split(".")[0] == "temporalio"))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "CODE 0 LOADED []" in done.stdout, done.stdout
    assert len(stub.received("GET", "/api/jobs/runs/get")) == 2


def test_the_live_progress_is_the_embedded_runs(
    tmp_path: Path, stub: StubServer, temporal_address: str, shared_queue: str
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "RUNNING"}), Reply(body={"state": "DONE"}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: twice
            steps:
              - stepId: look
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 5}]
                onSuccess:
                  - {name: again, type: goto, stepId: look, criteria: [{condition: $response.body#/state == "RUNNING"}]}
                outputs: {state: $response.body#/state}
            outputs: {state: $steps.look.outputs.state}
        """,
    )
    base = ["run", str(doc), "--server", f"jobs={stub.base_url}/api", "--poll-interval", "1", "-v"]
    embedded = _spola(*base, "--no-store")
    stub.counts.clear()
    remote = _spola(*base, "--temporal", temporal_address, "--task-queue", shared_queue)
    assert embedded.returncode == remote.returncode == 0, remote.stderr

    def progress(text: str) -> list[str]:
        return [line.split()[0] for line in text.splitlines() if "look" in line]

    assert progress(remote.stderr) == progress(embedded.stderr)
    assert len(progress(remote.stderr)) >= 2
    assert "DONE" in remote.stdout


def test_batch_does_not_combine_with_temporal(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("{}\n")
    done = _spola("run", str(tmp_path / "x.yaml"), "--batch", str(rows), "--temporal", "127.0.0.1:1")
    assert done.returncode == 2 and "--batch does not combine with --temporal" in done.stderr


def test_report_files_do_not_combine_with_temporal_and_dry_run_sends_nothing(
    tmp_path: Path, stub: StubServer
) -> None:
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: once
            steps:
              - {stepId: look, operationId: getRun, parameters: [{name: run_id, in: query, value: 5}]}
        """,
    )
    server = ["--server", f"jobs={stub.base_url}/api", "--temporal", "127.0.0.1:1"]
    refused = _spola("run", str(doc), *server, "--junit", str(tmp_path / "j.xml"))
    assert refused.returncode == 2 and "do not combine with --temporal" in refused.stderr
    dry = _spola("run", str(doc), *server, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert stub.requests == []


def test_a_broken_workflow_elsewhere_does_not_stop_the_one_asked(
    tmp_path: Path, stub: StubServer, temporal_address: str, shared_queue: str
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "DONE"}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: good
            steps:
              - stepId: look
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 5}]
                outputs: {state: $response.body#/state}
            outputs: {state: $steps.look.outputs.state}
          - workflowId: broken
            steps:
              - {stepId: nowhere, operationId: noSuchOperation}
        """,
    )
    where = ["--temporal", temporal_address, "--task-queue", shared_queue, "--json"]
    good = _spola("run", str(doc), "-w", "good", "--server", f"jobs={stub.base_url}/api", *where)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["outputs"] == {"state": "DONE"}
    assert "noSuchOperation" in good.stderr  # a warning, as the embedded run gives
    bad = _spola("run", str(doc), "-w", "broken", "--server", f"jobs={stub.base_url}/api", *where)
    assert bad.returncode == 2 and "noSuchOperation" in bad.stderr
    assert len(stub.received("GET", "/api/jobs/runs/get")) == 1
