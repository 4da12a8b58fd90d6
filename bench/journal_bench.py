"""Micro-benchmark: what journalling costs a run, compared with an in-memory no-op journal.

Each simulated exchange awaits ``journal.intent`` (durable before send), then queues
``journal.response`` (fire-and-forget), as the journalled driver does; a final ``flush`` makes
everything durable. Records are built before timing, so only journalling is measured.

    .venv/bin/python bench/journal_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from spola.exchange import HttpRequest, HttpResponse
from spola.redact import Redactor
from spola.store import IntentRecord, Journal, ResponseRecord, RunHeader, RunStore

T0 = 1_700_000_000.0
REDACTOR = Redactor.of(["dapi-0123456789abcdef"])
BODY = b'{"run_id": 42, "state": {"life_cycle_state": "RUNNING", "state_message": "In run"}}'


class NoopJournal:
    """The same calls, doing nothing: the baseline."""

    async def create_run(self, header: RunHeader) -> None:
        return None

    async def intent(self, intent: IntentRecord) -> None:
        return None

    def response(self, response: ResponseRecord) -> None:
        return None

    async def flush(self) -> None:
        return None


def header(run_id: str) -> RunHeader:
    return RunHeader.start(
        run_id=run_id, workflow_id="run-job-and-wait", document="/docs/databricks.arazzo.yaml",
        document_sha256="ab" * 32, inputs={"jobId": 42}, secret_inputs=set(), options={"seed": 1},
        started_at=T0, redactor=REDACTOR,
    )  # fmt: skip


def exchanges(run_id: str, count: int) -> list[tuple[IntentRecord, ResponseRecord]]:
    out = []
    for seq in range(1, count + 1):
        request = HttpRequest(
            "GET", f"https://dbc.example/api/2.1/jobs/runs/get?run_id={seq}",
            headers=(("Authorization", "Bearer dapi-0123456789abcdef"), ("Accept", "application/json")),
        )  # fmt: skip
        intent = IntentRecord.from_request(
            run_id=run_id, seq=seq, step_path="run-job-and-wait/pollRun", step_id="pollRun", attempt=1,
            request=request, at=T0 + seq, redactor=REDACTOR,
        )  # fmt: skip
        response = ResponseRecord.from_response(
            run_id=run_id, seq=seq, response=HttpResponse(200, (("Content-Type", "application/json"),), BODY),
            received_at=T0 + seq + 0.1, redactor=REDACTOR,
        )  # fmt: skip
        out.append((intent, response))
    return out


async def drive(
    journal: NoopJournal | Journal, plan: dict[str, list[tuple[IntentRecord, ResponseRecord]]]
) -> tuple[float, int]:
    """Run every plan concurrently; the time taken and the commits made by the exchanges."""
    await asyncio.gather(*(journal.create_run(header(run_id)) for run_id in plan))
    await journal.flush()
    commits = journal.stats.commits if isinstance(journal, Journal) else 0

    async def one_run(steps: list[tuple[IntentRecord, ResponseRecord]]) -> None:
        for intent, response in steps:
            await journal.intent(intent)
            await asyncio.sleep(0)  # the request would be in flight here
            journal.response(response)

    started = time.perf_counter()
    await asyncio.gather(*(one_run(steps) for steps in plan.values()))
    await journal.flush()
    elapsed = time.perf_counter() - started
    return elapsed, (journal.stats.commits - commits if isinstance(journal, Journal) else 0)


async def scenario(runs: int, per_run: int, synchronous: str, folder: Path) -> tuple[float, float, int, int]:
    plan = {f"run-{r:05d}": exchanges(f"run-{r:05d}", per_run) for r in range(runs)}
    noop, _ = await drive(NoopJournal(), plan)
    journal = await Journal.open(folder / f"bench-{runs}-{per_run}-{synchronous}.db", synchronous=synchronous)
    elapsed, commits = await drive(journal, plan)
    largest = journal.stats.largest_batch
    await journal.close()
    return noop, elapsed, commits, largest


def commit_each(per_run: int, synchronous: str, folder: Path) -> float:
    """The naive way for comparison: one blocking RunStore commit per record."""
    steps = exchanges("naive", per_run)
    with RunStore.open(folder / f"naive-{synchronous}.db", synchronous=synchronous) as store:
        store.create_run(header("naive"))
        started = time.perf_counter()
        for intent, response in steps:
            store.record_intent(intent)
            store.record_response(response)
        return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    sequential = 500 if args.quick else 2000
    concurrent_runs, per_run = (200, 5) if args.quick else (1000, 10)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sync in ("NORMAL", "FULL"):
            for runs, each in ((1, sequential), (concurrent_runs, per_run)):
                noop, elapsed, commits, largest = await scenario(runs, each, sync, folder)
                rows.append((f"{runs} run(s) x {each}", sync, runs * each, noop, elapsed, commits, largest))
            naive = commit_each(sequential, sync, folder)
            rows.append((f"naive RunStore, 1 x {sequential}", sync, sequential, float("nan"), naive,
                         2 * sequential, 1))  # fmt: skip
    print(f"python {sys.version.split()[0]}, sqlite {__import__('sqlite3').sqlite_version}")
    print(f"{'scenario':<28} {'sync':<6} {'exch.':>6} {'no-op ms':>9} {'journal ms':>11} {'ratio':>7} "
          f"{'us/exch.':>9} {'commits':>8} {'max batch':>9}")  # fmt: skip
    for name, sync, count, noop, elapsed, commits, largest in rows:
        ratio = elapsed / noop if noop == noop else float("nan")
        overhead = (elapsed - (noop if noop == noop else 0)) / count * 1e6
        print(f"{name:<28} {sync:<6} {count:>6} {noop * 1000:>9.1f} {elapsed * 1000:>11.1f} {ratio:>7.1f} "
              f"{overhead:>9.1f} {commits:>8} {largest:>9}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
