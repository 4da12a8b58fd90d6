"""Durable runs: a crash (SIGKILL) or an interrupt (SIGINT) mid-poll, then ``spola resume``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS, shared_or_skip, spola_cli, wait_for
from tests.integration.documents import write
from tests.stub_server import Recorded, Reply, StubServer

DBT = SEEDS / "dbt-trigger-run-and-poll-workflow.yml"
TOKEN = "dbt-secret-token-6789"
AUTH_TOKEN = "auth-secret-4242"


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "spola", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def dbt_server(stub: StubServer, polls_until_done: int) -> None:
    def run(status: int) -> Reply:
        return Reply(body={"status": {"code": 200}, "data": {"id": 77, "status": status}})

    stub.add("POST", "/api/v2/accounts/1/jobs/2/run/", run(1))
    stub.add("GET", "/api/v2/accounts/1/runs/77/", lambda rec, n: run(3 if n + 1 < polls_until_done else 10))
    stub.add("GET", "/api/v2/accounts/1/runs/77/artifacts/", Reply(body={"data": ["manifest.json"]}))


def polls(stub: StubServer) -> list[Recorded]:
    return stub.received("GET", "/api/v2/accounts/1/runs/77/")


def newest_run_id(store: Path) -> str:
    proc = spola_cli("runs", "--json", "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)
    return str(runs[0]["runId"])


def run_args(stub: StubServer, store: Path) -> list[str]:
    return [
        "run",
        str(DBT),
        "-i",
        "accountId=1",
        "-i",
        "jobId=2",
        "-i",
        f"token={TOKEN}",
        "--server",
        f"dbtAdminApi={stub.base_url}/api/v2",
        "--poll-interval",
        "0.1",
        "--store",
        str(store),
        "--json",
    ]


def test_a_killed_run_resumes_without_triggering_the_job_twice(stub: StubServer, tmp_path: Path) -> None:
    shared_or_skip()
    dbt_server(stub, polls_until_done=12)
    store = tmp_path / "runs.db"
    proc = start(*run_args(stub, store))
    wait_for(lambda: len(polls(stub)) >= 4)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    seen_before = len(polls(stub))
    assert seen_before < 12
    run_id = newest_run_id(store)

    resumed = spola_cli(
        "resume", run_id, "--store", str(store), "-i", f"token={TOKEN}", "--json", "--poll-interval", "0.05"
    )
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["runId"] == run_id
    assert result["outputs"] == {"runId": 77, "finalStatus": 10, "artifacts": ["manifest.json"]}
    assert len(stub.received("POST", "/api/v2/accounts/1/jobs/2/run/")) == 1
    assert len(polls(stub)) == 12
    assert len(polls(stub)) > seen_before
    assert all(p.headers["authorization"] == f"Bearer {TOKEN}" for p in polls(stub))
    shown = json.loads(spola_cli("runs", "show", run_id, "--json", "--store", str(store)).stdout)
    assert shown["status"] == "succeeded"


def test_an_interrupted_run_is_marked_and_resumes(stub: StubServer, tmp_path: Path) -> None:
    shared_or_skip()
    dbt_server(stub, polls_until_done=10)
    store = tmp_path / "runs.db"
    proc = start(*run_args(stub, store))
    wait_for(lambda: len(polls(stub)) >= 3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "spola resume" in err
    assert json.loads(out)["status"] == "interrupted"
    run_id = newest_run_id(store)
    listed = json.loads(spola_cli("runs", "--json", "--store", str(store)).stdout)
    assert listed[0]["status"] == "interrupted"

    resumed = spola_cli(
        "resume",
        run_id[:12],
        "--store",
        str(store),
        "--json",
        "--poll-interval",
        "0",
        env={"SPOLA_INPUT_TOKEN": TOKEN},
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["outputs"]["finalStatus"] == 10
    assert len(stub.received("POST", "/api/v2/accounts/1/jobs/2/run/")) == 1


def test_resume_asks_for_withheld_secrets(stub: StubServer, tmp_path: Path) -> None:
    shared_or_skip()
    dbt_server(stub, polls_until_done=50)
    store = tmp_path / "runs.db"
    proc = start(*run_args(stub, store))
    wait_for(lambda: len(polls(stub)) >= 2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    run_id = newest_run_id(store)
    refused = spola_cli("resume", run_id, "--store", str(store))
    assert refused.returncode == 2
    assert "token" in refused.stderr and "Traceback" not in refused.stderr


def test_a_lost_response_to_a_non_idempotent_request_blocks_resume(tmp_path: Path) -> None:
    """Simulate a crash between sending POST run-now and recording its response."""
    shared_or_skip()
    server = StubServer().start()
    try:
        server.add("POST", "/api/v2/accounts/1/jobs/2/run/", Reply(body={"data": {"id": 1}}, delay=3))
        store = tmp_path / "runs.db"
        proc = start(*run_args(server, store))
        wait_for(lambda: len(server.received("POST")) == 1)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        run_id = newest_run_id(store)
        refused = spola_cli("resume", run_id, "--store", str(store), "-i", f"token={TOKEN}")
        assert refused.returncode == 2
        assert "--force-resend" in refused.stderr
        assert len(server.received("POST")) == 1
    finally:
        server.stop()


def test_secrets_are_nowhere_on_disk_or_in_output(stub: StubServer, tmp_path: Path) -> None:
    shared_or_skip()
    dbt_server(stub, polls_until_done=2)
    store = tmp_path / "runs.db"
    proc = spola_cli(*run_args(stub, store), "-v")
    assert proc.returncode == 0, proc.stderr
    # a second run where the credential comes through --auth and the security scheme
    stub.reset()
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"echo": AUTH_TOKEN}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - {stepId: s, operationId: getRun, parameters: [{name: run_id, in: query, value: 1}],
                 outputs: {echo: $response.body#/echo}}
            outputs: {echo: $steps.s.outputs.echo}
        """,
    )
    second = spola_cli(
        "run",
        str(doc),
        "--server",
        f"jobs={stub.base_url}/api",
        "--auth",
        f"jobs={AUTH_TOKEN}",
        "--store",
        str(store),
        "--json",
        "-v",
    )
    assert second.returncode == 0, second.stderr
    assert stub.requests[0].headers["authorization"] == f"Bearer {AUTH_TOKEN}"
    shows = [
        spola_cli("runs", "show", r["runId"], "--json", "--store", str(store)).stdout
        for r in json.loads(spola_cli("runs", "--json", "--store", str(store)).stdout)
    ]
    sqlite3.connect(store).execute("PRAGMA wal_checkpoint(FULL)").close()
    blobs = [p.read_bytes() for p in tmp_path.glob("runs.db*")]
    for secret in (TOKEN, AUTH_TOKEN):
        assert secret not in proc.stdout + proc.stderr + second.stdout + second.stderr
        assert all(secret not in s for s in shows)
        assert all(secret.encode() not in b for b in blobs)


@pytest.mark.parametrize("flag", ["--no-store"])
def test_no_store_leaves_no_journal(stub: StubServer, tmp_path: Path, flag: str) -> None:
    shared_or_skip()
    dbt_server(stub, polls_until_done=1)
    env_store = tmp_path / "default.db"
    proc = subprocess.run(
        [sys.executable, "-m", "spola", *run_args(stub, tmp_path / "x.db")[:-3], "--json", flag],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SPOLA_STORE": str(env_store)},
    )
    assert proc.returncode == 0, proc.stderr
    assert not env_store.exists()


def test_a_run_still_alive_elsewhere_is_not_resumed(stub: StubServer, tmp_path: Path) -> None:
    shared_or_skip()
    dbt_server(stub, polls_until_done=500)
    store = tmp_path / "runs.db"
    proc = start(*run_args(stub, store))
    try:
        wait_for(lambda: len(polls(stub)) >= 2)
        refused = spola_cli("resume", newest_run_id(store), "--store", str(store), "-i", f"token={TOKEN}")
        assert refused.returncode == 2
        assert "still running in process" in refused.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
