"""``spola.run_many`` / ``arun_many`` in Python, and the small pieces of ``--batch``."""

from __future__ import annotations

from pathlib import Path

import pytest

import spola
from spola.batch import BadRow, BatchCounts, arun_many, derive_seed
from spola.cli.batch import BatchFile, batch_status, summary
from spola.errors import UsageError
from tests.batch.conftest import JobsServer


def test_run_many_returns_results_in_input_order(flow: Path, jobs: JobsServer) -> None:
    seen: list[int] = []
    results = spola.run_many(
        flow,
        None,
        [{"job_id": 1, "delay": 0.2}, {"job_id": 2, "polls": 2}, BadRow("unreadable"), {"job_id": "x"}],
        concurrency=4,
        servers={"jobs": jobs.base_url},
        poll_interval=0,
        on_result=lambda index, _result: seen.append(index),
    )
    assert [r.status for r in results] == ["succeeded", "succeeded", "failed", "failed"]
    assert [r.outputs.get("jobId") for r in results[:2]] == [1, 2]
    assert results[2].error is not None and results[2].error.message == "unreadable"
    assert results[3].error is not None and "job_id" in results[3].error.message
    assert seen[-1] == 0, "on_result follows completion order; the slow first row ends last"
    assert sorted(seen) == [0, 1, 2, 3]
    assert len({r.run_id for r in results}) == 4


async def test_arun_many_journals_each_run_with_its_own_seed(
    flow: Path, jobs: JobsServer, tmp_path: Path
) -> None:
    from spola.store import Journal

    store = tmp_path / "runs.db"
    options = spola.make_options(servers={"jobs": jobs.base_url}, poll_interval=0, seed=41)
    results = await arun_many(
        flow, "runAndWait", [{"job_id": n} for n in range(3)], options=options, store_path=store
    )
    assert all(r.succeeded for r in results)
    journal = await Journal.open(store)
    try:
        seeds = [(await journal.get_run(r.run_id)).header.options["seed"] for r in results]
    finally:
        await journal.close()
    assert seeds == [41, 42, 43]


def test_a_concurrency_below_one_is_refused(flow: Path) -> None:
    with pytest.raises(UsageError, match="at least 1"):
        spola.run_many(flow, None, [{"job_id": 1}], concurrency=0)


def test_seeds_are_derived_from_the_options_seed_and_the_row_index() -> None:
    assert [derive_seed(7, i) for i in range(3)] == [7, 8, 9]
    assert derive_seed(0xFFFF_FFFF, 1) == 0


def test_a_batch_file_keeps_line_numbers_and_marks_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\nnope\nnull\n{"a": 2}\n')
    source = BatchFile.read(str(path))
    assert [n for n, _ in source.lines] == [1, 3, 4, 5]
    rows = list(source.rows())
    assert rows[0] == {"a": 1} and rows[3] == {"a": 2}
    assert isinstance(rows[1], BadRow) and f"{path}:3: not JSON" in rows[1].message
    assert isinstance(rows[2], BadRow) and "got null" in rows[2].message


def test_the_exit_status_is_0_only_when_every_row_succeeded() -> None:
    assert batch_status(BatchCounts(total=2, succeeded=2), stopped=False) == 0
    assert batch_status(BatchCounts(total=2, succeeded=1, failed=1), stopped=False) == 1
    assert batch_status(BatchCounts(total=2, succeeded=1, interrupted=1), stopped=True) == 130
    assert batch_status(BatchCounts(total=0), stopped=False) == 0


def test_the_summary_counts_what_did_not_start() -> None:
    counts = BatchCounts(total=10, succeeded=3, failed=1, interrupted=2)
    text = summary(counts, 2.0)
    assert text.startswith("batch: 6 runs, 3 succeeded, 1 failed in 2.0 s (3.0 runs/s)")
    assert text.endswith("2 interrupted, 4 not started")


def test_a_failing_result_callback_stops_the_batch_and_raises(flow: Path, jobs: JobsServer) -> None:
    def explode(_index: int, _result: object) -> None:
        raise ValueError("callback broke")

    with pytest.raises(ValueError, match="callback broke"):
        spola.run_many(
            flow, None, [{"job_id": n} for n in range(6)], concurrency=2, servers={"jobs": jobs.base_url},
            poll_interval=0, on_result=explode,
        )  # fmt: skip


async def test_the_start_gate_lets_a_few_runs_start_per_loop_iteration() -> None:
    import asyncio

    from spola.drivers.gate import StartGate

    gate = StartGate(per_tick=3, slice_s=10.0)
    ticks: list[int] = []
    tick = 0

    async def clock() -> None:
        nonlocal tick
        for _ in range(20):
            await asyncio.sleep(0)
            tick += 1

    async def start(_n: int) -> None:
        await gate.enter()
        ticks.append(tick)

    await asyncio.gather(clock(), *(start(n) for n in range(10)))
    assert len(ticks) == 10
    assert max(ticks.count(t) for t in set(ticks)) <= 3


@pytest.mark.parametrize("concurrency", [1, 2])
def test_the_start_gate_is_entered_only_when_runs_run_side_by_side(
    flow: Path, jobs: JobsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    from spola.drivers.gate import StartGate

    entered: list[int] = []
    real_enter = StartGate.enter

    async def enter(self: StartGate) -> None:
        entered.append(1)
        await real_enter(self)

    monkeypatch.setattr(StartGate, "enter", enter)
    results = spola.run_many(
        flow, None, [{"job_id": n, "polls": 2} for n in range(3)], concurrency=concurrency,
        servers={"jobs": jobs.base_url}, poll_interval=0, store_path=tmp_path / "runs.db",
    )  # fmt: skip
    assert [r.status for r in results] == ["succeeded"] * 3
    # one at a time, there is no burst of starts or sends to spread: neither at a run's start nor
    # at its sends; side by side, each run enters it to start, once journalled, and per request
    assert len(entered) == (0 if concurrency == 1 else 3 * 2 + len(jobs.stub.requests))
