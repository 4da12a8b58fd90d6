"""Benchmark 4, start-up: wall time of spola's commands in fresh processes, and of ``spola run DOC``
from the process's start to the first request the bench server sees.

``python bench/startup.py [N] [--vs OTHER/src]``: N repeats (default 5); ``--vs`` also times another
checkout's spola (its ``src`` folder, put first on ``PYTHONPATH``) pair by pair, A B A B ..., and
prints the ratio of each command's medians (a shared machine drifts less within a pair).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common import BENCH, PYTHON, WORKFLOWS, median, run_child

if TYPE_CHECKING:
    from collections.abc import Sequence

    from common import ChildResult, Server


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
FLOOR = "raw aiohttp client, to its first request (the floor)"
GOAL = 0.3  # seconds, spola run DOC to its first request


def _run_doc(server: Server, folder: Path) -> list[str]:
    for name in ("spola.arazzo.yaml", "databricks.openapi.yaml"):
        text = (WORKFLOWS / name).read_text()
        (folder / name).write_text(text.replace("http://127.0.0.1:8765/api", server.api))
    return [PYTHON, "-m", "spola", "run", str(folder / "spola.arazzo.yaml"), "--input", "job_id=1",
            "--json", "--poll-interval", "0", "--store", str(folder / "runs.db")]  # fmt: skip


def _raw_first(server: Server) -> list[str]:
    return [PYTHON, str(BENCH / "raw_client.py"), "--client", "aiohttp", "--api", server.api,
            "--workflows", "1", "--polls", "1", "--rounds", "1"]  # fmt: skip


def measure_first_request(
    server: Server, repeats: int, *, warm: bool = True, envs: Sequence[dict[str, str] | None] = (None,)
) -> list[list[StartupRow]]:
    """``spola run DOC`` (journalled, the default), from spawning the process to the first request
    the server saw (``launch.py``'s fork and exec included: a few ms), and beside it the floor: the
    bench's raw aiohttp client (Python, asyncio and aiohttp imported, one session, one POST) in a
    fresh process, timed the same way. One pair of rows per environment, all sampled in turn."""
    with tempfile.TemporaryDirectory(prefix="spola-startup-") as tmp:
        command = _run_doc(server, Path(tmp))
        runs = [(FLOOR, _raw_first(server), None)] + [(FIRST_REQUEST, command, env) for env in envs]
        if warm:
            for _, args, env in runs:
                run_child(args, env=env, timeout=120)
        samples: list[list[tuple[float, ChildResult]]] = [[] for _ in runs]
        for _ in range(repeats):
            for (_, args, env), taken in zip(runs, samples, strict=True):
                server.reset()
                started = time.time()
                result = run_child(args, env=env, timeout=120)
                first = server.stats().first
                ok = result.returncode == 0 and bool(first)
                taken.append((first - started if ok else float("nan"), result))
    floor = _row(FLOOR, samples[0])
    return [[floor, _row(FIRST_REQUEST, taken)] for taken in samples[1:]]


def _row(name: str, taken: list[tuple[float, ChildResult]]) -> StartupRow:
    walls = [wall for wall, _ in taken]
    failed = [result for wall, result in taken if result.returncode != 0 or wall != wall]  # NaN: no request
    note = ""
    if failed:
        lines = (failed[-1].stderr or failed[-1].stdout).strip().splitlines()
        note = f"exit {failed[-1].returncode}: {lines[-1][:100] if lines else ''}"
    peak = max((result.peak_rss for _, result in taken), default=0)
    return StartupRow(name, median(walls), peak, not failed, note, tuple(walls))


def measure_startup(
    repeats: int,
    *,
    quick: bool = False,
    server: Server | None = None,
    envs: Sequence[dict[str, str] | None] = (None,),
) -> list[list[StartupRow]]:
    """Each command ``repeats`` times (after one warm-up run that fills the OS file cache), in each
    environment in turn (``envs``: one table of rows per environment; the default, this checkout).

    ``quick``: the bare interpreter and ``spola run --help`` only, no warm-up. ``server``: also
    ``spola run DOC`` to its first request.
    """
    tables: list[list[StartupRow]] = [[] for _ in envs]
    for name, command in COMMANDS.items():
        if quick and name not in ("python -c pass (interpreter alone)", "spola run --help"):
            continue
        if not quick:
            for env in envs:
                run_child(command, env=env, timeout=120)
        samples: list[list[tuple[float, ChildResult]]] = [[] for _ in envs]
        for _ in range(repeats):
            for env, taken in zip(envs, samples, strict=True):
                result = run_child(command, env=env, timeout=120)
                taken.append((result.wall, result))
        for table, taken in zip(tables, samples, strict=True):
            table.append(_row(name, taken))
    if server is not None:
        firsts = measure_first_request(server, repeats, warm=not quick, envs=envs)
        for table, rows in zip(tables, firsts, strict=True):
            table.extend(rows)
    return tables


def _main() -> None:
    import argparse
    import os

    from common import bench_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeats", nargs="?", type=int, default=5)
    parser.add_argument("--vs", metavar="SRC", help="another checkout's src folder, timed in turn")
    args = parser.parse_args()
    envs: list[dict[str, str] | None] = [None]
    if args.vs:
        envs.append({"PYTHONPATH": os.path.abspath(args.vs)})
    with bench_server() as srv:
        tables = measure_startup(args.repeats, server=srv, envs=envs)
    vs = f"; B = {args.vs}" if args.vs else ""
    print(f"load average {os.getloadavg()[0]:.1f}; {args.repeats} repeats{vs}")
    for i, row in enumerate(tables[0]):
        spread = ", ".join(f"{w * 1000:.0f}" for w in row.walls)
        line = f"{row.command:40s} {row.wall * 1000:6.0f} ms  [{spread}]"
        if args.vs:
            other = tables[1][i]
            line += f"  B {other.wall * 1000:6.0f} ms  A/B {row.wall / other.wall:.2f}"
        print(line + (f"  {row.note}" if row.note else ""))


if __name__ == "__main__":
    _main()
