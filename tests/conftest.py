"""Shared fixtures: the scripted stub server and paths to ../shared."""

from __future__ import annotations

import os
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
