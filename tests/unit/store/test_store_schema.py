"""Where the store lives, how it opens, and how its schema migrates."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from spola.errors import StoreError
from spola.store import SCHEMA_VERSION, RunStore, default_store_path
from spola.store.schema import MIGRATIONS, run_script


def test_the_default_path_follows_spola_store_then_xdg_state_home_then_home() -> None:
    assert default_store_path({"SPOLA_STORE": "/data/x.db", "XDG_STATE_HOME": "/s"}) == Path("/data/x.db")
    assert default_store_path({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path("/s/spola/runs.db")
    assert default_store_path({"HOME": "/h"}) == Path("/h/.local/state/spola/runs.db")
    assert default_store_path({"XDG_STATE_HOME": "relative", "HOME": "/h"}) == Path(
        "/h/.local/state/spola/runs.db"
    )
    assert default_store_path({"SPOLA_STORE": "", "HOME": "/h"}) == Path("/h/.local/state/spola/runs.db")


def test_opening_creates_private_parent_dirs_and_a_wal_database(db_path: Path) -> None:
    with RunStore.open(db_path):
        pass
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_reopening_a_store_keeps_its_runs(db_path: Path, header) -> None:
    with RunStore.open(db_path) as store:
        store.create_run(header())
    with RunStore.open(db_path) as store:
        assert store.get_run("run-1").header.workflow_id == "run-job-and-wait"


def test_a_store_migrates_from_one_version_to_the_next_keeping_its_data(db_path: Path, header) -> None:
    with RunStore.open(db_path) as store:
        store.create_run(header())

    def v2(conn: sqlite3.Connection) -> None:
        run_script(conn, "ALTER TABLE runs ADD COLUMN owner TEXT; UPDATE runs SET owner = 'me'")

    with RunStore.open(db_path, migrations=(*MIGRATIONS, v2)) as store:
        assert store.get_run("run-1").status == "running"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)
        assert conn.execute("SELECT owner FROM runs").fetchall() == [("me",)]


def test_a_failing_migration_leaves_the_store_as_it_was(db_path: Path) -> None:
    RunStore.open(db_path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE runs ADD COLUMN half_done TEXT")
        conn.execute("THIS IS NOT SQL")

    with pytest.raises(StoreError, match=str(db_path)):
        RunStore.open(db_path, migrations=(*MIGRATIONS, broken))
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
        assert "half_done" not in columns


def test_a_store_from_a_newer_spola_is_refused(db_path: Path) -> None:
    RunStore.open(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError, match=f"{db_path}.*newer than this spola knows") as caught:
        RunStore.open(db_path)
    assert "Upgrade spola" in str(caught.value)


def test_a_file_that_is_not_a_database_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is certainly not SQLite " * 100)
    with pytest.raises(StoreError, match=f"{path}.*not a database"):
        RunStore.open(path)


def test_another_applications_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(StoreError, match="not a spola run store"):
        RunStore.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]


def test_an_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the run store"):
        RunStore.open(blocker / "sub" / "runs.db")


def test_an_in_memory_store_works_for_tests_and_benchmarks(header) -> None:
    with RunStore.open(":memory:") as store:
        store.create_run(header())
        assert store.list_runs()[0].run_id == "run-1"


def test_a_version_1_store_gains_the_cancelled_status_and_keeps_its_runs_and_exchanges(
    db_path: Path, header, intent, response
) -> None:
    with RunStore.open(db_path, migrations=MIGRATIONS[:1]) as store:
        store.create_run(header())
        store.record_intent(intent())
        store.record_response(response())
        with pytest.raises(StoreError):
            store.finish_run("run-1", "cancelled", None, None, 1.0)
    with RunStore.open(db_path) as store:
        record = store.get_run("run-1")
        assert record.status == "running"
        assert len(record.exchanges) == 1 and record.exchanges[0].status == 200
        store.finish_run("run-1", "cancelled", {"runId": 7}, {"stepId": "pollRun", "message": "x"}, 2.0)
        assert store.get_run("run-1").status == "cancelled"
        assert [r.status for r in store.list_runs(status="cancelled")] == ["cancelled"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "runs_v1" not in tables
        foreign = conn.execute("PRAGMA foreign_key_list(exchanges)").fetchall()
        assert {row[2] for row in foreign} == {"runs"}
    with RunStore.open(db_path) as store:
        store.prune(0, 10.0)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM exchanges").fetchone() == (0,)
