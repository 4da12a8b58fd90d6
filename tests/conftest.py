"""Shared fixtures: the scripted stub server and paths to ../shared."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.stub_server import StubServer

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds" / "arazzo"


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    """Poll ``predicate`` every 50 ms until it is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def stop_outside_a_write(proc: subprocess.Popen[str], store: Path, timeout: float = 30.0) -> None:
    """SIGSTOP ``proc`` at a moment it holds no write transaction on the run store ``store``.

    A process frozen mid-commit keeps the store's write lock until it is continued (a real case, with
    its own test: tests/durable/test_lease.py), which is not what a test of lease take-over means to
    stop. So: stop it, wait until the kernel says it is stopped, and probe the write lock without
    waiting; when the process holds it, continue it for a moment and stop it again.
    """
    deadline = time.monotonic() + timeout
    probe = sqlite3.connect(store, timeout=0, isolation_level=None)
    try:
        while True:
            proc.send_signal(signal.SIGSTOP)
            wait_for(lambda: _stopped(proc.pid), timeout=10)
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # stopped inside a write transaction
                proc.send_signal(signal.SIGCONT)
                if time.monotonic() > deadline:
                    raise AssertionError("the process was always stopped inside a write") from None
                time.sleep(0.005)
                continue
            probe.execute("ROLLBACK")
            return
    finally:
        probe.close()


def _stopped(pid: int) -> bool:
    """Every thread of ``pid`` is stopped (a group stop reaches each thread on its own)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            # "tid (comm) S ...": the comm may hold spaces and parentheses, not the last ")"
            if task.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0] not in ("T", "t"):
                return False
    return True


@contextlib.contextmanager
def reaped(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Make sure ``proc`` is gone and its pipes are closed when the block ends, however it ends: a
    failing test leaves no process or open pipe behind (ResourceWarnings failing a later test)."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGCONT)
                proc.kill()
        proc.wait(timeout=30)
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def spola_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m spola ARGS`` in a fresh process (colour off), capturing its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "spola", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=timeout,
    )


def shared_or_skip() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repository")
    return SHARED


@pytest.fixture(scope="session", autouse=True)
def _private_run_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs journalled by tests (and the `spola` processes they start) go to a temporary store."""
    import os

    before = os.environ.get("SPOLA_STORE")
    os.environ["SPOLA_STORE"] = str(tmp_path_factory.mktemp("store") / "runs.db")
    yield
    if before is None:
        os.environ.pop("SPOLA_STORE", None)
    else:
        os.environ["SPOLA_STORE"] = before


@pytest.fixture(scope="session")
def _server() -> Iterator[StubServer]:
    server = StubServer().start()
    yield server
    server.stop()


@pytest.fixture
def stub(_server: StubServer) -> Iterator[StubServer]:
    """A running stub server, emptied for each test."""
    _server.reset()
    yield _server
    _server.reset()
