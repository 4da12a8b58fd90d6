"""One keeper renews every lease a process holds in a journal, in one statement per round."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from spola.lease import HELD, LeaseKeeper, LeaseLost, acquire
from spola.store import Journal
from tests.unit.store.conftest import make_header


def expiries(path: Path) -> dict[str, float]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT run_id, expires_at FROM leases").fetchall())


async def test_one_statement_renews_a_thousand_leases_and_a_taken_lease_is_marked_lost(db_path: Path) -> None:
    journal = await Journal.open(db_path)
    try:
        ids = [f"run-{n:04d}" for n in range(1000)]
        for run_id in ids:
            await journal.create_run(make_header(run_id))
        holders = [(await acquire(journal, run_id, ttl=30.0))[0] for run_id in ids]
        for holder in holders:
            holder.start()
        keeper = LeaseKeeper.of(journal, 30.0)
        assert len(keeper.holders) == 1000 and all(h._keeper is keeper for h in holders)
        before = expiries(db_path)
        with sqlite3.connect(db_path) as conn:  # another process takes one over
            conn.execute("UPDATE leases SET owner = 'someone-else' WHERE run_id = 'run-0007'")
        commits = journal.stats.commits
        await asyncio.sleep(0.01)
        await keeper.renew()
        assert keeper.renewals == 1
        assert journal.stats.commits == commits + 1  # the whole round is one committed write
        after = expiries(db_path)
        assert all(after[r] > before[r] for r in ids if r != "run-0007")
        assert after["run-0007"] == before["run-0007"]
        lost = [h.run_id for h in holders if h.lost]
        assert lost == ["run-0007"]
        with pytest.raises(LeaseLost, match="taken over"):
            await holders[7].check()
        for holder in holders:
            await holder.release()
        assert keeper.holders == {} and keeper._task is None
        assert list(expiries(db_path)) == ["run-0007"]  # released, but for the one taken over
        assert LeaseKeeper.of(journal, 30.0) is not keeper  # the next lease starts a fresh keeper
    finally:
        HELD.clear()
        await journal.close()


async def test_the_keeper_task_renews_on_its_own_every_third_of_the_ttl(db_path: Path) -> None:
    journal = await Journal.open(db_path)
    try:
        for run_id in ("a", "b", "c"):
            await journal.create_run(make_header(run_id))
        holders = [(await acquire(journal, run_id, ttl=0.3))[0] for run_id in ("a", "b", "c")]
        for holder in holders:
            holder.start()
        keeper = LeaseKeeper.of(journal, 0.3)
        await asyncio.sleep(0.75)  # 0.3 s leases would all have expired without renewal
        assert 3 <= keeper.renewals <= 8  # one statement per 0.1 s round for all three (not 3 per round)
        assert not any(h.lost for h in holders)
        assert all(expires > time.time() for expires in expiries(db_path).values())
        for holder in holders:
            await holder.release()
        assert expiries(db_path) == {}
    finally:
        await journal.close()
