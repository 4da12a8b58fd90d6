"""Journal: durable intents, group commit, fire-and-forget records, errors reaching callers."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING

import pytest

from spola.errors import StoreError
from spola.store import EventRecord, Journal

if TYPE_CHECKING:
    from pathlib import Path

T0 = 1_700_000_000.0


def _rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read through a connection of our own, as another process would."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_an_awaited_intent_is_committed_and_visible_to_another_connection(
    db_path: Path, header, intent
) -> None:
    async with await Journal.open(db_path) as journal:
        await journal.create_run(header())
        await journal.intent(intent(seq=1, method="POST"))
        assert _rows(db_path, "SELECT seq, method, idempotent, received_at FROM exchanges") == [
            (1, "POST", 0, None)
        ]


async def test_fire_and_forget_records_land_after_flush(db_path: Path, header, intent, response) -> None:
    journal = await Journal.open(db_path)
    await journal.create_run(header())
    await journal.intent(intent(seq=1))
    journal.response(response(seq=1))
    journal.event(EventRecord("run-1", "wait", T0 + 2, {"seconds": 30}, seq=1))
    journal.finish("run-1", "succeeded", {"state": "SUCCESS"}, None, T0 + 3)
    await journal.flush()
    assert _rows(db_path, "SELECT status, received_at FROM exchanges") == [(200, T0 + 1)]
    assert _rows(db_path, "SELECT kind FROM events") == [("wait",)]
    assert _rows(db_path, "SELECT status, finished_at FROM runs") == [("succeeded", T0 + 3)]
    await journal.close()


async def test_close_flushes_what_was_queued(db_path: Path, header) -> None:
    journal = await Journal.open(db_path)
    await journal.create_run(header())
    journal.set_status("run-1", "interrupted", at=T0 + 9)
    await journal.close()
    assert _rows(db_path, "SELECT status FROM runs") == [("interrupted",)]


async def test_concurrent_intents_are_group_committed(db_path: Path, header, intent) -> None:
    runs, per_run = 100, 20
    async with await Journal.open(db_path) as journal:
        await asyncio.gather(*(journal.create_run(header(run_id=f"run-{r}")) for r in range(runs)))
        before = journal.stats.commits

        async def one_run(r: int) -> None:
            await asyncio.gather(
                *(journal.intent(intent(run_id=f"run-{r}", seq=s)) for s in range(1, per_run + 1))
            )

        await asyncio.gather(*(one_run(r) for r in range(runs)))
        stats = journal.stats
        assert stats.commits - before < (runs * per_run) // 10
        assert stats.largest_batch > 100
    assert _rows(db_path, "SELECT count(*) FROM exchanges") == [(runs * per_run,)]


async def test_reads_through_the_journal_see_records_queued_before_them(
    db_path: Path, header, intent, response
) -> None:
    async with await Journal.open(db_path) as journal:
        await journal.create_run(header())
        await journal.intent(intent(seq=1))
        await journal.intent(intent(seq=2))
        journal.response(response(seq=1))
        assert [i.seq for i in await journal.in_doubt("run-1")] == [2]
        run = await journal.get_run("run")
        assert [x.in_doubt for x in run.exchanges] == [False, True]
        assert [r.run_id for r in await journal.list_runs()] == ["run-1"]


async def test_a_failing_intent_fails_only_its_caller(db_path: Path, header, intent) -> None:
    async with await Journal.open(db_path) as journal:
        await journal.create_run(header())
        results = await asyncio.gather(
            journal.intent(intent(seq=1)),
            journal.intent(intent(run_id="no-such-run", seq=1)),
            journal.intent(intent(seq=2)),
            return_exceptions=True,
        )
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], StoreError)
    assert _rows(db_path, "SELECT run_id, seq FROM exchanges ORDER BY seq") == [("run-1", 1), ("run-1", 2)]


async def test_a_lost_fire_and_forget_record_is_reported_by_the_next_flush(
    db_path: Path, header, intent, response
) -> None:
    async with await Journal.open(db_path) as journal:
        await journal.create_run(header())
        await journal.intent(intent(seq=1))
        journal.response(response(seq=7))
        journal.response(response(seq=1))
        with pytest.raises(StoreError, match="journal records were lost.*no intent recorded for exchange 7"):
            await journal.flush()
        await journal.flush()
        assert (await journal.get_run("run-1")).exchanges[0].status == 200


async def test_a_closed_journal_refuses_records_and_closing_twice_is_harmless(db_path: Path, intent) -> None:
    journal = await Journal.open(db_path)
    await journal.close()
    await journal.close()
    with pytest.raises(StoreError, match="closed"):
        await journal.intent(intent())
    with pytest.raises(StoreError, match="closed"):
        journal.event(EventRecord("run-1", "wait", T0))


async def test_a_journal_on_a_bad_file_fails_to_open(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="not a database"):
        await Journal.open(path)


def _row(seq: int, *, status: int = 200, body: bytes = b'{"state": "RUNNING"}', secret: str = "") -> tuple:
    from spola.exchange import HttpRequest, HttpResponse
    from spola.redact import Redactor
    from spola.store import exchange_row

    request = HttpRequest(
        method="GET",
        url=f"http://api.test/runs?run_id=1&token={secret or 'x'}",
        headers=(("Authorization", "Bearer t0ps3cret"), ("Accept", "application/json")),
    )
    response = HttpResponse(status=status, headers=(("Content-Type", "application/json"),), body=body)
    return exchange_row(
        run_id="run-1", seq=seq, step_path="w/poll", step_id="poll", attempt=seq, request=request,
        idempotent=True, intent_at=T0 + seq, response=response, received_at=T0 + seq + 0.5,
        redactor=Redactor.of([secret] if secret else []),
    )  # fmt: skip


async def test_answered_safe_exchanges_land_as_whole_rows_in_order(db_path: Path, header) -> None:
    async with await Journal.open(db_path) as journal:
        await journal.create_run(header())
        for seq in (1, 2, 3):
            journal.exchange(_row(seq, body=b'{"secret": "s3cr3tvalue"}', secret="s3cr3tvalue"))
        journal.event(EventRecord("run-1", "wait", T0 + 4, {"seconds": 1}, seq=3))
        journal.exchange(_row(4, status=503))
        await journal.flush()
        run = await journal.get_run("run-1")
    assert [(x.seq, x.status, x.in_doubt, x.intent_at, x.received_at) for x in run.exchanges] == [
        (1, 200, False, T0 + 1, T0 + 1.5),
        (2, 200, False, T0 + 2, T0 + 2.5),
        (3, 200, False, T0 + 3, T0 + 3.5),
        (4, 503, False, T0 + 4, T0 + 4.5),
    ]
    first = run.exchanges[0]
    assert first.response_body is not None and b"s3cr3tvalue" not in first.response_body
    assert first.body_redacted and first.sends == 1
    assert "s3cr3tvalue" not in first.url and "t0ps3cret" not in str(first.request)
    assert first.to_response() is not None
    stored = b"".join(str(r).encode() for r in _rows(db_path, "SELECT * FROM exchanges"))
    assert b"s3cr3tvalue" not in stored and b"t0ps3cret" not in stored


async def test_a_whole_row_completes_an_in_doubt_intent_but_never_rewrites_an_answer(
    db_path: Path, header, intent, response
) -> None:
    async with await Journal.open(db_path) as journal:
        await journal.create_run(header())
        await journal.intent(intent(seq=1))  # in doubt: a crash lost its response
        await journal.intent(intent(seq=2))
        await journal.durable_response(response(seq=2))
        journal.exchange(_row(1, status=202))  # resumed and re-sent: now answered
        journal.exchange(_row(2, status=500))  # already answered: left as it was
        await journal.flush()
    assert _rows(db_path, "SELECT seq, status, sends FROM exchanges ORDER BY seq") == [
        (1, 202, 2),
        (2, 200, 1),
    ]
