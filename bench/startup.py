"""Benchmark 4, start-up: wall time of spola's commands in fresh processes, and of ``spola run DOC``
from the process's start to the first request the bench server sees."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common import PYTHON, WORKFLOWS, median, run_child

if TYPE_CHECKING:
    from common import Server


@dataclass(frozen=True, slots=True)
class StartupRow:
    """One command: median wall time over the repeats, peak RSS, and whether it exited 0."""

    command: str
    wall: float
    peak_rss: int
    ok: bool
    note: str = ""
    walls: tuple[float, ...] = ()


COMMANDS = {
    "python -c pass (interpreter alone)": [PYTHON, "-c", "pass"],
    "spola --help": [PYTHON, "-m", "spola", "--help"],
    "spola run --help": [PYTHON, "-m", "spola", "run", "--help"],
    "spola validate DOC": [PYTHON, "-m", "spola", "validate", str(WORKFLOWS / "spola.arazzo.yaml")],
    "spola workflows DOC": [PYTHON, "-m", "spola", "workflows", str(WORKFLOWS / "spola.arazzo.yaml")],
}
FIRST_REQUEST = "spola run DOC, to its first request"
GOAL = 0.3  # seconds, spola run DOC to its first request


def _run_doc(server: Server, folder: Path) -> list[str]:
    for name in ("spola.arazzo.yaml", "databricks.openapi.yaml"):
        text = (WORKFLOWS / name).read_text()
        (folder / name).write_text(text.replace("http://127.0.0.1:8765/api", server.api))
    return [PYTHON, "-m", "spola", "run", str(folder / "spola.arazzo.yaml"), "--input", "job_id=1",
            "--json", "--poll-interval", "0", "--store", str(folder / "runs.db")]  # fmt: skip


def measure_first_request(server: Server, repeats: int, *, warm: bool = True) -> StartupRow:
    """``spola run DOC`` (journalled, the default), from spawning the process to the first request
    the server saw (``launch.py``'s fork and exec included: a few ms)."""
    with tempfile.TemporaryDirectory(prefix="spola-startup-") as tmp:
        command = _run_doc(server, Path(tmp))
        if warm:
            run_child(command, timeout=120)
        walls, peak, ok, note = [], 0, True, ""
        for _ in range(repeats):
            server.reset()
            started = time.time()
            result = run_child(command, timeout=120)
            first = server.stats().first
            walls.append(first - started if first else float("nan"))
            peak = max(peak, result.peak_rss)
            if result.returncode != 0 or not first:
                ok = False
                lines = (result.stderr or result.stdout).strip().splitlines()
                note = f"exit {result.returncode}: {lines[-1][:100] if lines else ''}"
    return StartupRow(FIRST_REQUEST, median(walls), peak, ok, note, tuple(walls))


def measure_startup(repeats: int, *, quick: bool = False, server: Server | None = None) -> list[StartupRow]:
    """Each command ``repeats`` times (after one warm-up run that fills the OS file cache).

    ``quick``: the bare interpreter and ``spola run --help`` only, no warm-up. ``server``: also
    ``spola run DOC`` to its first request.
    """
    rows = []
    for name, command in COMMANDS.items():
        if quick and name not in ("python -c pass (interpreter alone)", "spola run --help"):
            continue
        if not quick:
            run_child(command, timeout=120)
        walls, peak, ok, note = [], 0, True, ""
        for _ in range(repeats):
            result = run_child(command, timeout=120)
            walls.append(result.wall)
            peak = max(peak, result.peak_rss)
            if result.returncode != 0:
                ok = False
                lines = (result.stderr or result.stdout).strip().splitlines()
                note = f"exit {result.returncode}: {lines[-1][:100] if lines else ''}"
        rows.append(StartupRow(name, median(walls), peak, ok, note, tuple(walls)))
    if server is not None:
        rows.append(measure_first_request(server, repeats, warm=not quick))
    return rows


if __name__ == "__main__":
    import sys

    from common import bench_server

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with bench_server() as srv:
        for row in measure_startup(n, server=srv):
            spread = ", ".join(f"{w * 1000:.0f}" for w in row.walls)
            print(f"{row.command:40s} {row.wall * 1000:6.0f} ms  [{spread}]  {row.note}")
