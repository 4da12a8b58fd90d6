"""Benchmark 1, overhead: one poll workflow at a time, spola against a raw aiohttp loop, side by side.

Rounds alternate the contenders (order rotated each round) so a busy machine hurts them alike; the
median per request is reported. spola runs through `spola.batch.Batch` with ``concurrency=1``: the
run, its engine, the driver, the shared session, and (journalled) the group-commit SQLite journal.
Optional context rows: httpx and requests loops, run with the peers' interpreter when it has them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import BENCH, PEERS, WORKFLOWS, median, run_child
from raw_client import aiohttp_workflows
from specialised import specialised_workflows

if TYPE_CHECKING:
    from common import Server


@dataclass(frozen=True, slots=True)
class OverheadRow:
    """One contender: microseconds per request (median of rounds) and what it is; with
    ``per_poll_us`` / ``per_poll_cpu_us`` also what one more poll costs (see `measure_overhead`)."""

    name: str
    per_request_us: float
    note: str = ""
    cpu_us: float = float("nan")
    per_poll_us: float = float("nan")
    per_poll_cpu_us: float = float("nan")


async def _spola(server: Server, workflows: int, polls: int, store: str | None) -> tuple[float, float]:
    import spola
    from spola.batch import Batch
    from spola.model import load

    document = load(WORKFLOWS / "spola.arazzo.yaml")
    options = spola.make_options(servers={"databricksApi": server.api}, poll_interval=0, seed=1)
    batch = Batch(document, document.default_workflow(), options=options, concurrency=1, store_path=store)
    server.reset()
    started, cpu = time.perf_counter(), time.process_time()
    await batch.run([{"job_id": polls}] * workflows, total=workflows)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    sent = server.stats().requests
    if batch.counts.succeeded != workflows or sent != workflows * (polls + 2):
        raise RuntimeError(f"spola did not run the workflow as expected: {batch.counts}, {sent} requests")
    return elapsed / sent * 1e6, cpu / sent * 1e6


async def _raw(
    server: Server, workflows: int, polls: int, *, specialised: bool = False, store: str | None = None
) -> tuple[float, float]:
    from spola.drivers.aio import make_session
    from spola.store import Journal

    async with make_session() as session:
        if store is not None:  # hand-specialised, journalled as spola does (open and close timed too)
            started, cpu = time.perf_counter(), time.process_time()
            async with await Journal.open(store) as journal:
                sent = await specialised_workflows(server.api, workflows, polls, session, journal)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            return elapsed / sent * 1e6, cpu / sent * 1e6
        loop = specialised_workflows if specialised else aiohttp_workflows
        started, cpu = time.perf_counter(), time.process_time()
        sent = await loop(server.api, workflows, polls, session)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return elapsed / sent * 1e6, cpu / sent * 1e6


def _uvloop_factory() -> Any:
    """uvloop's loop factory when it is installed (the dev extra has it), else None."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


LOOPS = ("asyncio", "uvloop")
KINDS = ("raw", "specialised", "specialised-journal", "memory", "journal")


def measure_overhead(
    server: Server,
    *,
    rounds: int,
    workflows: int,
    polls: int,
    context: bool = True,
    long_polls: int | None = None,
) -> list[OverheadRow]:
    """The overhead table's rows: raw aiohttp, spola in memory, spola journalled (each on asyncio's
    loop, then on uvloop when it is installed, against a raw loop on the same loop), then context rows.

    Every round runs each contender once on each loop (a fresh loop per round and loop kind), the
    order rotated each round, so a busy machine hurts them alike.

    ``long_polls``: each contender also runs, right after, the same workflows with that many polls;
    the difference over the polls in between (the median of the rounds' differences) is what one
    more poll costs, each workflow's own costs cancelled out (its run's header, lease and end, the
    trigger and its durable intent, the fetch): a poll loop's steady work.
    """
    factories: dict[str, Any] = {"asyncio": None}
    uv = _uvloop_factory()
    if uv is not None:
        factories["uvloop"] = uv
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {
        (loop, kind): [] for loop in factories for kind in KINDS
    }
    extra: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in samples}
    """Per round: (wall, CPU) microseconds of the long run less the short one, per poll in between."""
    with tempfile.TemporaryDirectory(prefix="spola-bench-") as tmp:
        store = str(Path(tmp) / "runs.db")

        async def one(kind: str, polls: int = polls) -> tuple[float, float]:
            if kind == "raw":
                return await _raw(server, workflows, polls)
            if kind == "specialised":
                return await _raw(server, workflows, polls, specialised=True)
            if kind == "specialised-journal":
                return await _raw(server, workflows, polls, store=store)
            return await _spola(server, workflows, polls, store if kind == "journal" else None)

        async def longer(loop: str, kind: str, short: tuple[float, float]) -> None:
            assert long_polls is not None
            wall, cpu = await one(kind, long_polls)
            requests, more = workflows * (polls + 2), workflows * (long_polls + 2)
            between = workflows * (long_polls - polls)
            extra[(loop, kind)].append(
                ((wall * more - short[0] * requests) / between, (cpu * more - short[1] * requests) / between)
            )

        async def round_of(loop: str, index: int, warm: bool) -> None:
            if warm:
                await one("memory")  # warm-up: imports, first connection, the store's schema
                await one("journal")
            order = list(KINDS)
            turn = index % len(order)
            for kind in order[turn:] + order[:turn]:
                short = await one(kind)
                samples[(loop, kind)].append(short)
                if long_polls is not None:
                    await longer(loop, kind, short)

        for index in range(rounds):
            names = list(factories)
            for loop in names[index % len(names) :] + names[: index % len(names)]:
                with asyncio.Runner(loop_factory=factories[loop]) as runner:
                    runner.run(round_of(loop, index, warm=index == 0))

    def wall(loop: str, kind: str) -> float:
        return median([w for w, _c in samples[(loop, kind)]])

    def cpu(loop: str, kind: str) -> float:
        return median([c for _w, c in samples[(loop, kind)]])

    def per_poll(row: OverheadRow, loop: str, kind: str) -> OverheadRow:
        found = extra[(loop, kind)]
        if not found:
            return row
        wall, cpu = median([w for w, _c in found]), median([c for _w, c in found])
        return dataclasses.replace(row, per_poll_us=wall, per_poll_cpu_us=cpu)

    def row(name: str, loop: str, kind: str, note: str) -> OverheadRow:
        return per_poll(OverheadRow(name, wall(loop, kind), note, cpu(loop, kind)), loop, kind)

    rows = [
        row("raw aiohttp loop (the limit)", "asyncio", "raw", "keep-alive, JSON parsed"),
        row("hand-specialised steps over spola's send", "asyncio", "specialised",
            "what generated code could at best be"),
        row("hand-specialised, journalled as spola does", "asyncio", "specialised-journal",
            "the same, with spola's journal"),
        row("spola, in memory (--no-store)", "asyncio", "memory", ""),
        row("spola, journalled (SQLite)", "asyncio", "journal", "with the writer thread"),
    ]  # fmt: skip
    if "uvloop" in factories:
        rows += [
            row("raw aiohttp loop on uvloop", "uvloop", "raw", "the limit on uvloop"),
            row("spola, in memory, on uvloop", "uvloop", "memory", "vs raw on uvloop"),
            row("spola, journalled, on uvloop", "uvloop", "journal", "vs raw on uvloop"),
        ]  # fmt: skip
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
