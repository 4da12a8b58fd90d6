"""A run store that cannot be written mid-run (disk full) stops the run with exit 74 and says what was sent."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_or_skip, spola_cli
from tests.durable.test_resume import run_args
from tests.stub_server import Reply, StubServer

PADDING = "x" * 3000  # each poll's journalled response takes most of a page


def padded_dbt_server(stub: StubServer) -> None:
    def run(status: int) -> Reply:
        return Reply(body={"status": {"code": 200}, "data": {"id": 77, "status": status, "log": PADDING}})

    stub.add("POST", "/api/v2/accounts/1/jobs/2/run/", run(1))
    stub.add("GET", "/api/v2/accounts/1/runs/77/", run(3))  # never done: the store fills first


def run_until_the_store_is_full(
    stub: StubServer, store: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    args = [a if a != "0.1" else "0.01" for a in run_args(stub, store)]
    return subprocess.run(
        [sys.executable, "-m", "spola", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", **env},
    )


def check_stopped_with_requests_counted(stub: StubServer, proc: subprocess.CompletedProcess[str]) -> None:
    print(proc.stderr)
    assert proc.returncode == 74, proc.stderr
    assert "Traceback" not in proc.stderr and "nothing was sent" not in proc.stderr
    sent = len(stub.requests)
    assert sent >= 2  # the trigger and at least one poll went out before the store filled
    assert f"{sent} requests had been sent by this process" in proc.stderr
    assert len(stub.received("POST", "/api/v2/accounts/1/jobs/2/run/")) == 1


def test_a_full_store_stops_the_run_with_exit_74_and_counts_what_was_sent(
    stub: StubServer, tmp_path: Path
) -> None:
    """``SPOLA_TEST_MAX_PAGE_COUNT`` (test-only) caps the store's pages: SQLITE_FULL mid-run."""
    shared_or_skip()
    padded_dbt_server(stub)
    store = tmp_path / "runs.db"
    assert spola_cli("runs", "--store", str(store)).returncode == 0  # create the empty store
    with sqlite3.connect(store) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    proc = run_until_the_store_is_full(stub, store, {"SPOLA_TEST_MAX_PAGE_COUNT": str(pages + 6)})
    check_stopped_with_requests_counted(stub, proc)
    assert "full" in proc.stderr


def test_a_full_tmpfs_stops_the_run_with_exit_74(stub: StubServer, tmp_path: Path) -> None:
    """The real thing, where a tmpfs can be mounted (root): ENOSPC from the file system."""
    shared_or_skip()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        padded_dbt_server(stub)
        proc = run_until_the_store_is_full(stub, mnt / "runs.db", {})
        check_stopped_with_requests_counted(stub, proc)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
