"""Shared pieces of the benchmarks: the local server, its counters, child processes and their peak memory."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKFLOWS = BENCH / "workflows"
PEERS = BENCH / ".peers"
PYTHON = sys.executable


@dataclass(frozen=True, slots=True)
class ServerStats:
    """What the bench server counted since its last reset."""

    requests: int
    first: float
    last: float
    peak_open: int

    @property
    def span(self) -> float:
        """Seconds from the first request to the last."""
        return max(self.last - self.first, 1e-9)

    @property
    def rate(self) -> float:
        """Requests per second as the server saw them (start-up of the client excluded)."""
        return (self.requests - 1) / self.span if self.requests > 1 else 0.0


class Server:
    """The bench server (``bench/server.py``) in a child process."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        """The base URL of the Databricks API source (what ``--server databricksApi=`` takes)."""
        return f"{self.base_url}/api"

    def reset(self) -> None:
        """Zero the counters."""
        urllib.request.urlopen(urllib.request.Request(f"{self.base_url}/_reset", method="POST"), timeout=10)

    def stats(self) -> ServerStats:
        """The counters since the last reset."""
        with urllib.request.urlopen(f"{self.base_url}/_stats", timeout=10) as reply:
            data = json.loads(reply.read())
        return ServerStats(data["requests"], data["first"], data["last"], data["peakOpen"])


@contextmanager
def bench_server() -> Iterator[Server]:
    """Start ``bench/server.py`` on a free port; stop it on exit."""
    process = subprocess.Popen(
        [PYTHON, str(BENCH / "server.py"), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the bench server did not start: {line!r}")
        yield Server(process, int(line.split()[1]))
    finally:
        process.terminate()
        process.wait(10)


@dataclass(frozen=True, slots=True)
class ChildResult:
    """A finished child process: exit status, output, wall time and peak resident memory."""

    returncode: int
    stdout: str
    stderr: str
    wall: float
    peak_rss: int


_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_child(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 600,
) -> ChildResult:
    """Run a command to the end through ``launch.py``, which reports the command's own peak RSS.

    The child may write bytecode caches even where ``PYTHONDONTWRITEBYTECODE`` is set (as on the
    shared development machine): an installed package has its ``.pyc`` files, and a start-up
    measured without them would time the compiler, not the program (~0.14 s for spola).
    """
    with tempfile.TemporaryDirectory(prefix="spola-child-") as tmp:
        folder = Path(tmp)
        report = folder / "maxrss"
        (folder / "in").write_text(stdin or "")
        given, out, err = open(folder / "in"), open(folder / "out", "w+"), open(folder / "err", "w+")  # noqa: SIM115
        with given, out, err:
            started = time.perf_counter()
            process = subprocess.Popen(
                [PYTHON, "-I", "-S", str(BENCH / "launch.py"), str(report), *args],
                stdin=given, stdout=out, stderr=err, env={**_ENV, **(env or {})}, cwd=cwd,
                start_new_session=True,
            )  # fmt: skip
            # Popen.wait(timeout) polls (sleeps of up to 50 ms), which rounds every wall time up to a
            # step of ~50 ms; a timer kills the child instead, and wait() blocks in waitpid.
            killer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
            killer.start()
            try:
                code = process.wait()
            finally:
                killer.cancel()
            wall = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            peak = int(report.read_text() or 0) * 1024 if report.exists() else 0
            return ChildResult(code, out.read(), err.read(), wall, peak)


def callgrind_count(arguments: Sequence[str], src: str | None, what: str) -> int:
    """The instructions valgrind's callgrind counts for ``python ARGUMENTS`` (every thread, user
    space), with string hashing fixed (``PYTHONHASHSEED=0``) and ``src`` first on the path when given
    (another checkout); ``what`` names the process when it fails."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    if src:
        env["PYTHONPATH"] = src
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *arguments]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, check=False)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{what} under callgrind failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def median(values: Sequence[float]) -> float:
    """The median (NaN for none)."""
    return statistics.median(values) if values else float("nan")


def mib(size: float) -> str:
    """Bytes as MiB with one decimal."""
    return f"{size / 1024 / 1024:.1f} MiB"


def rss_now() -> int:
    """This process's resident set size now, in bytes (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
