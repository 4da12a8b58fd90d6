"""Leases: one process drives a run at a time; a copied store is noticed; a run whose owner is gone is stale."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import reaped, shared_or_skip, spola_cli, stop_outside_a_write
from tests.durable.test_resume import TOKEN, dbt_server, newest_run_id, polls, run_args, wait_for
from tests.stub_server import StubServer

TRIGGER = "/api/v2/accounts/1/jobs/2/run/"


@pytest.fixture
def cleanup() -> Iterator[ExitStack]:
    """Processes started by a test are ended, and their pipes closed, however the test ends."""
    with ExitStack() as stack:
        yield stack


def launch(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "spola", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def killed_mid_poll(stub: StubServer, store: Path, polls_until_done: int) -> tuple[str, int]:
    dbt_server(stub, polls_until_done=polls_until_done)
    proc = launch(*run_args(stub, store))
    wait_for(lambda: len(polls(stub)) >= 3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    return newest_run_id(store), proc.pid


def test_two_resumes_at_once_only_one_drives_and_the_job_is_triggered_once(
    stub: StubServer, tmp_path: Path
) -> None:
    shared_or_skip()
    store = tmp_path / "runs.db"
    run_id, dead = killed_mid_poll(stub, store, polls_until_done=100)
    args = [
        "resume",
        run_id,
        "--store",
        str(store),
        "-i",
        f"token={TOKEN}",
        "--json",
        "--poll-interval",
        "0.1",
    ]
    both = [launch(*args), launch(*args)]
    outcomes = [(p, *p.communicate(timeout=120)) for p in both]
    codes = sorted(p.returncode for p in both)
    assert codes == [0, 2], [err for _, _, err in outcomes]
    (winner, out, err) = next(o for o in outcomes if o[0].returncode == 0)
    (_, _, refused) = next(o for o in outcomes if o[0].returncode == 2)
    assert json.loads(out)["outputs"]["finalStatus"] == 10
    assert f"took over run {run_id} from pid {dead}" in err
    assert f"still running in process {winner.pid} on host" in refused
    assert "expires at" in refused and "Traceback" not in refused
    assert len(stub.received("POST", TRIGGER)) == 1
    assert len(polls(stub)) == 100


def test_a_stopped_owner_is_taken_over_and_sends_nothing_more_once_continued(
    tmp_path: Path, cleanup: ExitStack
) -> None:
    shared_or_skip()
    first, second = StubServer().start(), StubServer().start()
    try:
        dbt_server(first, polls_until_done=10_000)
        dbt_server(second, polls_until_done=3)
        store = tmp_path / "runs.db"
        owner = cleanup.enter_context(reaped(launch(*run_args(first, store), env={"SPOLA_LEASE_TTL": "1.5"})))
        wait_for(lambda: len(polls(first)) >= 3)
        stop_outside_a_write(owner, store)  # stopped mid-commit, it would keep the store locked
        try:
            run_id = newest_run_id(store)
            time.sleep(0.3)
            seen = len(first.requests)
            time.sleep(1.5)  # its lease expires: it is alive, but stopped and not renewing
            resumed = spola_cli(
                "resume", run_id, "--store", str(store), "-i", f"token={TOKEN}", "--json",
                "--server", f"dbtAdminApi={second.base_url}/api/v2", "--poll-interval", "0.05",
            )  # fmt: skip
            assert resumed.returncode == 0, resumed.stderr
            assert f"took over run {run_id} from pid {owner.pid}" in resumed.stderr
            assert "whose lease expired at" in resumed.stderr
            assert json.loads(resumed.stdout)["outputs"]["finalStatus"] == 10
            assert second.received("POST") == []
        finally:
            owner.send_signal(signal.SIGCONT)
        _, err = owner.communicate(timeout=30)
        assert owner.returncode == 75, err
        assert "taken over by another process" in err and "Traceback" not in err
        assert len(first.requests) == seen
        assert len(first.received("POST", TRIGGER)) == 1
        shown = json.loads(spola_cli("runs", "show", run_id, "--json", "--store", str(store)).stdout)
        assert shown["status"] == "succeeded"
    finally:
        first.stop()
        second.stop()


HOLD_THE_WRITE_LOCK = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE store_meta SET value = value")
print("holding", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)  # frozen mid-write, as a SIGSTOP or a paused container leaves one
"""


def test_a_resume_while_a_stopped_process_holds_the_store_write_lock_is_refused_clearly(
    stub: StubServer, tmp_path: Path, cleanup: ExitStack
) -> None:
    shared_or_skip()
    store = tmp_path / "runs.db"
    run_id, dead = killed_mid_poll(stub, store, polls_until_done=8)
    holder = cleanup.enter_context(
        reaped(
            subprocess.Popen(
                [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(store)], stdout=subprocess.PIPE, text=True
            )
        )
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    seen = len(stub.requests)
    # reading needs no write lock: the store opens, lists and shows its runs
    listed = spola_cli("runs", "--json", "--store", str(store))
    assert listed.returncode == 0, listed.stderr
    assert [row["runId"] for row in json.loads(listed.stdout)] == [run_id]
    shown = spola_cli("runs", "show", run_id, "--json", "--store", str(store))
    assert shown.returncode == 0 and json.loads(shown.stdout)["lease"]["pid"] == dead, shown.stderr

    args = ["resume", run_id, "--store", str(store), "-i", f"token={TOKEN}", "--poll-interval", "0"]
    refused = spola_cli(*args)
    assert refused.returncode == 2, refused.stderr
    assert f"cannot take the lease of run {run_id}, nothing was sent" in refused.stderr
    assert f"the run store {store} is locked" in refused.stderr
    assert "a process stopped in the middle of a write" in refused.stderr
    assert f"last held by pid {dead} on host" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert len(stub.requests) == seen  # nothing was sent

    holder.send_signal(signal.SIGCONT)  # continued, it ends and its transaction with it
    holder.wait(timeout=30)
    resumed = spola_cli(*args, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["outputs"]["finalStatus"] == 10
    assert len(stub.received("POST", TRIGGER)) == 1


def test_a_run_in_a_copy_of_its_store_is_refused_unless_the_copy_is_adopted(
    stub: StubServer, tmp_path: Path
) -> None:
    shared_or_skip()
    store = tmp_path / "runs.db"
    run_id, _ = killed_mid_poll(stub, store, polls_until_done=8)
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "copy.db"
    shutil.copyfile(store, copy)
    seen = len(stub.requests)
    args = ["resume", run_id, "--store", str(copy), "-i", f"token={TOKEN}", "--poll-interval", "0"]
    refused = spola_cli(*args)
    assert refused.returncode == 2, refused.stderr
    assert str(store) in refused.stderr and "a copy of that store" in refused.stderr
    assert "second time" in refused.stderr and "--adopt-copy" in refused.stderr
    assert len(stub.requests) == seen

    adopted = spola_cli(*args, "--adopt-copy", "--json")
    assert adopted.returncode == 0, adopted.stderr
    assert json.loads(adopted.stdout)["outputs"]["finalStatus"] == 10
    assert len(stub.received("POST", TRIGGER)) == 1


def test_a_killed_run_is_listed_as_stale_not_running(stub: StubServer, tmp_path: Path) -> None:
    shared_or_skip()
    store = tmp_path / "runs.db"
    run_id, dead = killed_mid_poll(stub, store, polls_until_done=50)
    listed = json.loads(spola_cli("runs", "--json", "--store", str(store)).stdout)
    assert listed[0]["runId"] == run_id and listed[0]["status"] == "stale"
    shown = json.loads(spola_cli("runs", "show", run_id, "--json", "--store", str(store)).stdout)
    assert shown["status"] == "stale"
    assert shown["lease"]["pid"] == dead
    table = spola_cli("runs", "--store", str(store))
    assert "stale" in table.stdout and "running" not in table.stdout


def test_status_running_leaves_stale_runs_out_and_status_stale_selects_them(
    stub: StubServer, tmp_path: Path
) -> None:
    shared_or_skip()
    store = tmp_path / "runs.db"
    dead_id, _ = killed_mid_poll(stub, store, polls_until_done=10_000)
    live = launch(*run_args(stub, store))
    try:
        wait_for(lambda: newest_run_id(store) != dead_id)
        live_id = newest_run_id(store)
        seen = len(polls(stub))
        wait_for(lambda: len(polls(stub)) > seen + 2)  # the live run is polling

        def listed(*args: str) -> list[str]:
            proc = spola_cli("runs", "--json", "--store", str(store), *args)
            assert proc.returncode == 0, proc.stderr
            return [row["runId"] for row in json.loads(proc.stdout)]

        assert listed("--status", "running") == [live_id]
        assert listed("--status", "stale") == [dead_id]
        assert listed("--status", "stale", "--limit", "1") == [dead_id]
        assert listed() == [live_id, dead_id]
        table = spola_cli("runs", "--status", "running", "--store", str(store))
        assert live_id in table.stdout and dead_id not in table.stdout and "stale" not in table.stdout
        table = spola_cli("runs", "--status", "stale", "--store", str(store))
        assert dead_id in table.stdout and live_id not in table.stdout and "running" not in table.stdout
        bad = spola_cli("runs", "--status", "stuck", "--store", str(store))
        assert bad.returncode == 2 and "stale" in bad.stderr and "Traceback" not in bad.stderr
    finally:
        live.send_signal(signal.SIGINT)
        live.communicate(timeout=30)
    assert listed("--status", "running") == []
    assert listed("--status", "stale") == [dead_id]
