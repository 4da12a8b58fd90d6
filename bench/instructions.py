"""Benchmark 1 counted in instructions: the overhead table's contenders under callgrind, side by side.

Wall and CPU time move with whatever else the machine does; the number of instructions a process
executes does not. Each contender runs K workflows (trigger, 50 polls, fetch) in a fresh process
under ``valgrind --tool=callgrind``, once with K=1 and once with K=4 against the same bench server;
the difference divided by the requests in between is what one more request costs, start-up and
imports cancelled out. Callgrind counts user-space instructions of every thread (the journal's
writer included), not the kernel's (sockets, fsync): those are in the wall-time table.

    .venv/bin/python bench/instructions.py                 # every contender (raw with and without a limit)
    .venv/bin/python bench/instructions.py --vs OTHER/src  # the same for another checkout, in turn
    .venv/bin/python bench/instructions.py --steady        # each after a warm-up workflow and a freeze
    .venv/bin/python bench/instructions.py --per-poll      # one more poll: 2 workflows of 80 polls less 20

Needs valgrind (Debian: ``apt install valgrind``); takes a few minutes (callgrind runs ~50x slower).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
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
PER_POLL_K, POLLS_LOW, POLLS_HIGH = 2, 20, 80


async def _child(kind: str, workflows: int, api: str, steady: bool, polls: int = POLLS) -> None:
    """Run ``workflows`` workflows of ``polls`` polls as ``kind`` (in the process callgrind watches).

    ``steady`` (``--steady``): first run one workflow to warm up and freeze what the process
    holds, then the ``workflows``. The freeze (`gc.freeze`) takes the modules, the session and the
    warm-up's survivors out of the cyclic collector's full collections. Without it, whether a K=4
    run makes one more full collection than a K=1 run is chance: over every object imported, that
    one collection moves a row by ~10,000 instructions per request (bench/README.md, "eighth
    pass"). The young objects each request makes are still collected, and counted. spola's own
    contenders run through `Batch`, whose collector policy freezes what the process holds when a
    batch starts (and counts its own cost): they are only collected after the warm-up, and left
    to it.
    """
    import gc

    sys.path.insert(0, str(BENCH))
    from spola.drivers.aio import make_session

    async def settle() -> None:
        if steady:
            gc.collect()
            gc.freeze()

    if kind in ("raw", "raw-untimed", "specialised"):
        import aiohttp
        from raw_client import aiohttp_workflows
        from specialised import specialised_workflows

        loop = specialised_workflows if kind == "specialised" else aiohttp_workflows
        async with make_session() as session:
            if kind == "raw-untimed":  # aiohttp's default limit (300 s in all) off: no timer per request
                session._timeout = aiohttp.ClientTimeout()
            if steady:
                await loop(api, 1, polls, session)
                await settle()
            await loop(api, workflows, polls, session)
        return
    if kind == "specialised-journal":
        from specialised import specialised_workflows

        from spola.store import Journal

        with tempfile.TemporaryDirectory(prefix="spola-bench-") as tmp:
            async with await Journal.open(Path(tmp) / "runs.db") as journal, make_session() as session:
                if steady:
                    await specialised_workflows(api, 1, polls, session, journal)
                    await settle()
                await specialised_workflows(api, workflows, polls, session, journal)
        return
    import spola
    from spola.batch import Batch
    from spola.model import load

    document = load(BENCH / "workflows" / "spola.arazzo.yaml")
    options = spola.make_options(servers={"databricksApi": api}, poll_interval=0, seed=1)
    with tempfile.TemporaryDirectory(prefix="spola-bench-") as tmp:
        store = str(Path(tmp) / "runs.db") if kind == "journal" else None
        for count in (1, workflows) if steady else (workflows,):
            batch = Batch(
                document, document.default_workflow(), options=options, concurrency=1, store_path=store
            )
            await batch.run([{"job_id": polls}] * count, total=count)
            if batch.counts.succeeded != count:
                raise SystemExit(f"spola did not run the workflow as expected: {batch.counts}")
            if steady and count == 1:
                gc.collect()  # the batch's policy freezes the rest when the next batch starts


def _count(kind: str, workflows: int, api: str, src: str | None, steady: bool, polls: int = POLLS) -> int:
    """Instructions callgrind collected for one child process."""
    from common import callgrind_count

    arguments = [
        str(Path(__file__).resolve()),
        "--child",
        kind,
        str(workflows),
        api,
        str(int(steady)),
        str(polls),
    ]
    return callgrind_count(arguments, src, kind)


def per_request(kind: str, api: str, src: str | None, steady: bool = False) -> float:
    """Instructions one more request costs: (K=HIGH - K=LOW) / the requests in between."""
    low, high = _count(kind, LOW, api, src, steady), _count(kind, HIGH, api, src, steady)
    return (high - low) / ((HIGH - LOW) * (POLLS + 2))


def per_poll(kind: str, api: str, src: str | None) -> float:
    """Instructions one more poll costs: PER_POLL_K workflows of POLLS_HIGH polls less the same
    workflows of POLLS_LOW polls, over the polls in between. A workflow's own costs (its run's
    header, lease and end, the trigger and its durable intent, the fetch) cancel out: what is left
    is a poll loop's steady work, the hot path of a run that polls for hours."""
    low = _count(kind, PER_POLL_K, api, src, False, POLLS_LOW)
    high = _count(kind, PER_POLL_K, api, src, False, POLLS_HIGH)
    return (high - low) / (PER_POLL_K * (POLLS_HIGH - POLLS_LOW))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vs", metavar="SRC", help="another checkout's src folder, counted in turn")
    parser.add_argument("--kinds", default=",".join(KINDS), help="which contenders (comma-separated)")
    parser.add_argument("--steady", action="store_true", help="warm up and freeze first (see _child)")
    parser.add_argument(
        "--per-poll", action="store_true", help="one more poll, not one more workflow (see per_poll)"
    )
    parser.add_argument(
        "--child", nargs=5, metavar=("KIND", "K", "API", "STEADY", "POLLS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        kind, workflows, api, steady, polls = args.child
        asyncio.run(_child(kind, int(workflows), api, steady == "1", int(polls)))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt install valgrind)")
    sys.path.insert(0, str(BENCH))
    from common import bench_server

    kinds = [k for k in args.kinds.split(",") if k]
    trees = {"this tree": None} | ({f"--vs {args.vs}": args.vs} if args.vs else {})
    with bench_server() as server:
        counts = {
            (tree, kind): per_poll(kind, server.api, src)
            if args.per_poll
            else per_request(kind, server.api, src, args.steady)
            for tree, src in trees.items()
            for kind in kinds
        }
    raw = counts.get(("this tree", "raw"))
    unit = "instructions / poll" if args.per_poll else "instructions / request"
    print(f"| tree | contender | {unit} | vs raw aiohttp |")
    print("|---|---|---|---|")
    for (tree, kind), value in counts.items():
        versus = f"{value / raw:.2f}x" if raw else "-"
        print(f"| {tree} | {KINDS[kind]} | {value:,.0f} | {versus} |")


if __name__ == "__main__":
    main()
