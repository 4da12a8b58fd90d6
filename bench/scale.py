"""Benchmark 3, scale: N poll workflows in flight at once in one process, with a poll interval.

The parent (`measure_scale`) starts this file as a child process per size, so each size has a
fresh process and its own peak RSS. The child runs ``N`` rows through `spola.batch.Batch` with
``concurrency=N`` (journalled unless ``--no-store``) and samples, every 50 ms: event-loop lag (how
late a 50 ms timer fires), runs in flight and RSS. It prints one JSON object.

    python bench/scale.py --api http://127.0.0.1:PORT/api --workflows 1000 --polls 3 --interval 2
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import PYTHON, WORKFLOWS, rss_now, run_child

if TYPE_CHECKING:
    from common import Server

TICK = 0.05


@dataclass(frozen=True, slots=True)
class ScaleRow:
    """One size: what the child measured and what the server saw."""

    workflows: int
    polls: int
    interval: float
    ok: bool
    peak_in_flight: int
    peak_rss: int
    base_rss: int
    rate: float
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    wall: float
    commits: int
    largest_batch: int
    note: str = ""

    @property
    def rss_per_workflow(self) -> float:
        """Bytes of RSS per workflow in flight, over the process's RSS before the batch."""
        return (self.peak_rss - self.base_rss) / self.peak_in_flight if self.peak_in_flight else 0.0


def measure_scale(server: Server, *, workflows: int, polls: int, interval: float, store: bool) -> ScaleRow:
    """Run the child for one size and read the server's counters."""
    server.reset()
    with tempfile.TemporaryDirectory(prefix="spola-scale-") as tmp:
        args = [PYTHON, str(Path(__file__)), "--api", server.api, "--workflows", str(workflows),
                "--polls", str(polls), "--interval", str(interval)]  # fmt: skip
        args += ["--store", str(Path(tmp) / "runs.db")] if store else ["--no-store"]
        result = run_child(args, timeout=3600)
    stats = server.stats()
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["?"])[-1]
        return ScaleRow(workflows, polls, interval, False, 0, result.peak_rss, 0, stats.rate, 0, 0, 0,
                        result.wall, 0, 0, f"exit {result.returncode}: {tail}")  # fmt: skip
    data = json.loads(result.stdout.strip().splitlines()[-1])
    expected = workflows * (polls + 2)
    ok = data["succeeded"] == workflows and stats.requests == expected
    note = (
        "" if ok else f"{data['succeeded']} of {workflows} succeeded, {stats.requests} of {expected} requests"
    )
    return ScaleRow(
        workflows, polls, interval, ok, data["peakInFlight"], result.peak_rss, data["baseRss"], stats.rate,
        data["lagP50Ms"], data["lagP99Ms"], data["lagMaxMs"], data["wall"], data["commits"],
        data["largestBatch"], note,
    )  # fmt: skip


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _child(args: argparse.Namespace) -> dict[str, Any]:
    import spola
    from spola.batch import Batch
    from spola.drivers import aio  # noqa: F401 - imported before the baseline is taken
    from spola.model import load

    document = load(WORKFLOWS / "spola.arazzo.yaml")
    options = spola.make_options(servers={"databricksApi": args.api}, poll_interval=args.interval, seed=1)
    batch = Batch(
        document,
        document.default_workflow(),
        options=options,
        concurrency=args.workflows,
        store_path=None if args.no_store else args.store,
    )
    gc.collect()
    base = rss_now()
    lags: list[float] = []
    peak_in_flight = 0
    finished = asyncio.Event()

    async def monitor() -> None:
        nonlocal peak_in_flight
        while not finished.is_set():
            started = time.perf_counter()
            await asyncio.sleep(TICK)
            lags.append(time.perf_counter() - started - TICK)
            peak_in_flight = max(peak_in_flight, batch.counts.running)

    watcher = asyncio.ensure_future(monitor())
    started = time.perf_counter()
    await batch.run([{"job_id": args.polls}] * args.workflows, total=args.workflows)
    wall = time.perf_counter() - started
    finished.set()
    await watcher
    stats = batch.journal_stats
    return {
        "succeeded": batch.counts.succeeded,
        "failed": batch.counts.failed,
        "peakInFlight": peak_in_flight,
        "baseRss": base,
        "peakRss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "lagP50Ms": _percentile(lags, 0.5) * 1000,
        "lagP99Ms": _percentile(lags, 0.99) * 1000,
        "lagMaxMs": max(lags, default=0.0) * 1000,
        "wall": wall,
        "commits": stats.commits if stats else 0,
        "largestBatch": stats.largest_batch if stats else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", required=True)
    parser.add_argument("--workflows", type=int, required=True)
    parser.add_argument("--polls", type=int, default=3)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--store")
    parser.add_argument("--no-store", action="store_true")
    args = parser.parse_args()
    if not args.no_store and not args.store:
        parser.error("give --store PATH or --no-store")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sys.stdout.write(json.dumps(asyncio.run(_child(args))) + "\n")


if __name__ == "__main__":
    main()
