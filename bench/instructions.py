"""Benchmark 1 counted in instructions: the overhead table's contenders under callgrind, side by side.

Wall and CPU time move with whatever else the machine does; the number of instructions a process
executes does not. Each contender runs K workflows (trigger, 50 polls, fetch) in a fresh process
under ``valgrind --tool=callgrind``, once with K=1 and once with K=4 against the same bench server;
the difference divided by the requests in between is what one more request costs, start-up and
imports cancelled out. Callgrind counts user-space instructions of every thread (the journal's
writer included), not the kernel's (sockets, fsync): those are in the wall-time table.

    .venv/bin/python bench/instructions.py                 # every contender (raw with and without a limit)
    .venv/bin/python bench/instructions.py --vs OTHER/src  # the same for another checkout, in turn

Needs valgrind (Debian: ``apt install valgrind``); takes a few minutes (callgrind runs ~50x slower).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
KINDS = {
    "raw": "raw aiohttp loop (the limit)",
    "raw-untimed": "raw aiohttp loop with no time limit at all (context: what aiohttp's limit costs)",
    "specialised": "hand-specialised steps over spola's send",
    "specialised-journal": "hand-specialised steps, journalled as spola does",
    "memory": "spola, in memory (--no-store)",
    "journal": "spola, journalled (SQLite)",
}
POLLS = 50
LOW, HIGH = 1, 4


async def _child(kind: str, workflows: int, api: str) -> None:
    """Run ``workflows`` workflows as ``kind`` (in the process callgrind watches)."""
    sys.path.insert(0, str(BENCH))
    from spola.drivers.aio import make_session

    if kind in ("raw", "raw-untimed", "specialised"):
        import aiohttp
        from raw_client import aiohttp_workflows
        from specialised import specialised_workflows

        loop = specialised_workflows if kind == "specialised" else aiohttp_workflows
        async with make_session() as session:
            if kind == "raw-untimed":  # aiohttp's default limit (300 s in all) off: no timer per request
                session._timeout = aiohttp.ClientTimeout()
            await loop(api, workflows, POLLS, session)
        return
    if kind == "specialised-journal":
        from specialised import specialised_workflows

        from spola.store import Journal

        with tempfile.TemporaryDirectory(prefix="spola-bench-") as tmp:
            async with await Journal.open(Path(tmp) / "runs.db") as journal, make_session() as session:
                await specialised_workflows(api, workflows, POLLS, session, journal)
        return
    import spola
    from spola.batch import Batch
    from spola.model import load

    document = load(BENCH / "workflows" / "spola.arazzo.yaml")
    options = spola.make_options(servers={"databricksApi": api}, poll_interval=0, seed=1)
    with tempfile.TemporaryDirectory(prefix="spola-bench-") as tmp:
        store = str(Path(tmp) / "runs.db") if kind == "journal" else None
        batch = Batch(document, document.default_workflow(), options=options, concurrency=1, store_path=store)
        await batch.run([{"job_id": POLLS}] * workflows, total=workflows)
    if batch.counts.succeeded != workflows:
        raise SystemExit(f"spola did not run the workflow as expected: {batch.counts}")


def _count(kind: str, workflows: int, api: str, src: str | None) -> int:
    """Instructions callgrind collected for one child process."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               str(Path(__file__).resolve()), "--child", kind, str(workflows), api]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, check=False)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{kind} under callgrind failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(kind: str, api: str, src: str | None) -> float:
    """Instructions one more request costs: (K=HIGH - K=LOW) / the requests in between."""
    low, high = _count(kind, LOW, api, src), _count(kind, HIGH, api, src)
    return (high - low) / ((HIGH - LOW) * (POLLS + 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs", metavar="SRC", help="another checkout's src folder, counted in turn")
    parser.add_argument("--kinds", default=",".join(KINDS), help="which contenders (comma-separated)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "K", "API"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, workflows, api = args.child
        asyncio.run(_child(kind, int(workflows), api))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt install valgrind)")
    sys.path.insert(0, str(BENCH))
    from common import bench_server

    kinds = [k for k in args.kinds.split(",") if k]
    trees = {"this tree": None} | ({f"--vs {args.vs}": args.vs} if args.vs else {})
    with bench_server() as server:
        counts = {
            (tree, kind): per_request(kind, server.api, src) for tree, src in trees.items() for kind in kinds
        }
    raw = counts.get(("this tree", "raw"))
    print("| tree | contender | instructions / request | vs raw aiohttp |")
    print("|---|---|---|---|")
    for (tree, kind), value in counts.items():
        versus = f"{value / raw:.2f}x" if raw else "-"
        print(f"| {tree} | {KINDS[kind]} | {value:,.0f} | {versus} |")


if __name__ == "__main__":
    main()
