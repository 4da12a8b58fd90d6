"""Benchmark 1, overhead: one poll workflow at a time, spola against a raw aiohttp loop, side by side.

Rounds alternate the contenders (order rotated each round) so a busy machine hurts them alike; the
median per request is reported. spola runs through `spola.batch.Batch` with ``concurrency=1``: the
run, its engine, the driver, the shared session, and (journalled) the group-commit SQLite journal.
Optional context rows: httpx and requests loops, run with the peers' interpreter when it has them.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common import BENCH, PEERS, WORKFLOWS, median, run_child
from raw_client import aiohttp_workflows

if TYPE_CHECKING:
    from common import Server


@dataclass(frozen=True, slots=True)
class OverheadRow:
    """One contender: microseconds per request (median of rounds) and what it is."""

    name: str
    per_request_us: float
    note: str = ""


async def _spola(server: Server, workflows: int, polls: int, store: str | None) -> float:
    import spola
    from spola.batch import Batch
    from spola.model import load

    document = load(WORKFLOWS / "spola.arazzo.yaml")
    options = spola.make_options(servers={"databricksApi": server.api}, poll_interval=0, seed=1)
    batch = Batch(document, document.default_workflow(), options=options, concurrency=1, store_path=store)
    server.reset()
    started = time.perf_counter()
    await batch.run([{"job_id": polls}] * workflows, total=workflows)
    elapsed = time.perf_counter() - started
    sent = server.stats().requests
    if batch.counts.succeeded != workflows or sent != workflows * (polls + 2):
        raise RuntimeError(f"spola did not run the workflow as expected: {batch.counts}, {sent} requests")
    return elapsed / sent * 1e6


async def _raw(server: Server, workflows: int, polls: int) -> float:
    from spola.drivers.aio import make_session

    async with make_session() as session:
        started = time.perf_counter()
        sent = await aiohttp_workflows(server.api, workflows, polls, session)
        return (time.perf_counter() - started) / sent * 1e6


def measure_overhead(
    server: Server, *, rounds: int, workflows: int, polls: int, context: bool = True
) -> list[OverheadRow]:
    """The overhead table's rows: raw aiohttp, spola in memory, spola journalled, then context rows."""
    samples: dict[str, list[float]] = {"raw": [], "memory": [], "journal": []}
    with tempfile.TemporaryDirectory(prefix="spola-bench-") as tmp:
        store = str(Path(tmp) / "runs.db")

        async def one(kind: str) -> float:
            if kind == "raw":
                return await _raw(server, workflows, polls)
            return await _spola(server, workflows, polls, store if kind == "journal" else None)

        async def all_rounds() -> None:
            await one("memory")  # warm-up: imports, first connection
            order = list(samples)
            for index in range(rounds):
                for kind in order[index % 3 :] + order[: index % 3]:
                    samples[kind].append(await one(kind))

        asyncio.run(all_rounds())
    raw = median(samples["raw"])
    rows = [
        OverheadRow("raw aiohttp loop (the limit)", raw, "keep-alive GET + JSON, no engine"),
        OverheadRow("spola, in memory (--no-store)", median(samples["memory"])),
        OverheadRow("spola, journalled (SQLite)", median(samples["journal"])),
    ]
    if context:
        rows.extend(_context_rows(server, polls, rounds))
    return rows


def _context_rows(server: Server, polls: int, rounds: int) -> list[OverheadRow]:
    python = PEERS / "py" / "bin" / "python"
    if not python.exists():
        return []
    rows = []
    for client in ("httpx-sync", "httpx-async", "requests"):
        result = run_child(
            [str(python), str(BENCH / "raw_client.py"), "--client", client, "--api", server.api,
             "--workflows", "3", "--polls", str(polls), "--rounds", str(max(rounds // 2, 1))],
            timeout=300,
        )  # fmt: skip
        if result.returncode == 0:
            value = json.loads(result.stdout.strip().splitlines()[-1])["perRequestUs"]
            rows.append(OverheadRow(f"raw {client} loop (context)", value, "peers' venv"))
    return rows
