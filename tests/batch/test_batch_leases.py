"""A journalled batch holds each run's lease: a resume of a run it drives is refused, the trigger sent once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.batch.conftest import CountingStub, JobsServer
from tests.conftest import reaped, spola_cli, stop_outside_a_write, wait_for


@pytest.fixture
def cleanup() -> Iterator[ExitStack]:
    """Processes started by a test are ended, and their pipes closed, however the test ends."""
    with ExitStack() as stack:
        yield stack


def start_batch(
    cleanup: ExitStack, flow: Path, jobs: JobsServer, store: Path, rows: list[dict], **env: str
) -> subprocess.Popen[str]:
    lines = flow.parent / "rows.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "spola", "run", str(flow), "--batch", str(lines), "--concurrency", "2",
            "--server", f"jobs={jobs.base_url}", "--poll-interval", "0.05", "--store", str(store),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1", **env},
    )  # fmt: skip
    return cleanup.enter_context(reaped(proc))


def running_ids(store: Path) -> list[str]:
    proc = spola_cli("runs", "--json", "--status", "running", "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    return [row["runId"] for row in json.loads(proc.stdout)]


def triggers(jobs: JobsServer, job: int) -> int:
    return sum(1 for r in jobs.stub.received("POST", "/jobs/run") if r.json["job_id"] == job)


def polls(jobs: JobsServer) -> int:
    return len(jobs.stub.received("GET", "/jobs/get"))


def test_a_run_a_live_batch_drives_is_not_resumed_and_its_job_is_triggered_once(
    flow: Path, jobs: JobsServer, tmp_path: Path, cleanup: ExitStack
) -> None:
    store = tmp_path / "runs.db"
    batch = start_batch(cleanup, flow, jobs, store, [{"job_id": 1}, {"job_id": 2, "polls": 400}])
    try:
        wait_for(lambda: polls(jobs) >= 4 and len(running_ids(store)) == 1)
        (run_id,) = running_ids(store)
        shown = json.loads(spola_cli("runs", "show", run_id, "--json", "--store", str(store)).stdout)
        assert shown["inputs"]["job_id"] == 2
        assert shown["lease"]["pid"] == batch.pid  # the batch holds the run's lease
        seen = len(jobs.stub.requests)
        refused = spola_cli("resume", run_id, "--store", str(store), "--poll-interval", "0")
        assert refused.returncode == 2, refused.stderr
        assert f"still running in process {batch.pid} on host" in refused.stderr
        assert "its lease" in refused.stderr and "expires at" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not [r for r in jobs.stub.requests[seen:] if r.method == "POST"]
    finally:
        batch.send_signal(signal.SIGINT)
        out, err = batch.communicate(timeout=30)
    assert batch.returncode == 130, err
    assert triggers(jobs, 2) == 1
    shown = json.loads(spola_cli("runs", "show", run_id, "--json", "--store", str(store)).stdout)
    assert shown["status"] == "interrupted" and shown["lease"] is None  # released on the way out

    resumed = spola_cli("resume", run_id, "--store", str(store), "--poll-interval", "0", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["outputs"] == {"jobId": 2, "state": "TERMINATED"}
    assert triggers(jobs, 1) == 1 and triggers(jobs, 2) == 1


def test_a_stopped_batch_whose_run_was_taken_over_sends_nothing_more_for_it(
    flow: Path, jobs: JobsServer, tmp_path: Path, cleanup: ExitStack
) -> None:
    store = tmp_path / "runs.db"
    second = CountingStub().start()
    try:
        other = JobsServer(second, polls={5: 3}, delays={5: 0.0})
        second.add("GET", "/jobs/get", other.get)
        batch = start_batch(
            cleanup, flow, jobs, store, [{"job_id": 5, "polls": 100_000}], SPOLA_LEASE_TTL="1.5"
        )
        wait_for(lambda: polls(jobs) >= 3)
        (run_id,) = running_ids(store)
        stop_outside_a_write(batch, store)  # stopped mid-commit, it would keep the store locked
        try:
            time.sleep(0.3)
            seen = len(jobs.stub.requests)
            time.sleep(1.5)  # the lease expires: the batch is alive, but stopped and not renewing
            resumed = spola_cli(
                "resume", run_id, "--store", str(store), "--json", "--poll-interval", "0",
                "--server", f"jobs={second.base_url}",
            )  # fmt: skip
            assert resumed.returncode == 0, resumed.stderr
            assert f"took over run {run_id} from pid {batch.pid}" in resumed.stderr
            assert json.loads(resumed.stdout)["outputs"] == {"jobId": 5, "state": "TERMINATED"}
            assert second.received("POST") == []
        finally:
            batch.send_signal(signal.SIGCONT)
        out, err = batch.communicate(timeout=30)
        assert batch.returncode == 1, err
        (line,) = [json.loads(x) for x in out.splitlines()]
        assert line["runId"] == run_id and line["status"] == "failed"
        assert "taken over by another process" in line["error"]["message"]
        assert "Traceback" not in err
        assert len(jobs.stub.requests) == seen  # nothing more was sent from the batch
        assert triggers(jobs, 5) == 1
        shown = json.loads(spola_cli("runs", "show", run_id, "--json", "--store", str(store)).stdout)
        assert shown["status"] == "succeeded"  # the batch did not overwrite the resumed run's end
    finally:
        second.stop()
