"""Stores written by older spola versions, built by hand with their own DDL, opened by this one.

The DDL below is copied from ``src/spola/store/schema.py`` as it was when each version was the
latest (v1: commit 409e9bd; v2: commit 7601764, the v1 tables with ``cancelled`` in the status
CHECK), not produced by today's migration functions, so a migration that drifts is noticed.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from spola.cli.runs import select_runs
from spola.lease import acquire
from spola.store import SCHEMA_VERSION, RunStore
from spola.store.records import LeaseRecord
from spola.store.schema import APPLICATION_ID
from tests.unit.store.conftest import make_header

V1_STATUS = "CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))"
V2_STATUS = "CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'cancelled'))"

V1_DDL = f"""
CREATE TABLE runs (
    run_id             TEXT PRIMARY KEY,
    workflow_id        TEXT NOT NULL,
    document           TEXT NOT NULL,
    document_sha256    TEXT NOT NULL,
    status             TEXT NOT NULL
                       {V1_STATUS},
    inputs_json        TEXT NOT NULL,
    secret_inputs_json TEXT NOT NULL,
    options_json       TEXT NOT NULL,
    outputs_json       TEXT,
    error_json         TEXT,
    started_at         REAL NOT NULL,
    finished_at        REAL,
    updated_at         REAL NOT NULL
);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_status ON runs (status, started_at);

CREATE TABLE exchanges (
    run_id                TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq                   INTEGER NOT NULL,
    step_path             TEXT NOT NULL,
    step_id               TEXT NOT NULL,
    attempt               INTEGER NOT NULL,
    method                TEXT NOT NULL,
    url                   TEXT NOT NULL,
    request_json          TEXT NOT NULL,
    idempotent            INTEGER NOT NULL,
    sends                 INTEGER NOT NULL DEFAULT 1,
    intent_at             REAL NOT NULL,
    status                INTEGER,
    response_headers_json TEXT,
    response_body         BLOB,
    body_redacted         INTEGER NOT NULL DEFAULT 0,
    error                 TEXT,
    elapsed               REAL,
    received_at           REAL,
    outputs_json          TEXT,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    run_id    TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq       INTEGER,
    kind      TEXT NOT NULL,
    at        REAL NOT NULL,
    data_json TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, id);
"""
V2_DDL = V1_DDL.replace(V1_STATUS, V2_STATUS)
T0 = 1_700_000_000.0
BODY = b'{"run_id": 77, "state": {"life_cycle_state": "TERMINATED"}}'


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def old_store(path: Path, version: int, *, dead: int) -> None:
    """A store as spola at schema ``version`` left it: a finished run with its exchange and events,
    a run left ``running`` by a process that is gone, and (v2) a cancelled run."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(V1_DDL if version == 1 else V2_DDL)
    run = """INSERT INTO runs (run_id, workflow_id, document, document_sha256, status, inputs_json,
             secret_inputs_json, options_json, outputs_json, error_json, started_at, finished_at, updated_at)
             VALUES (?, 'run-job-and-wait', '/docs/flow.arazzo.yaml', ?, ?, ?, '["token"]', ?, ?, NULL, ?, ?, ?)"""
    options = {"servers": {}, "auth": [], "seed": 7, "pid": dead, "host": socket.gethostname()}
    conn.execute(run, ("done", "ab" * 32, "succeeded", '{"job_id": 1}', json.dumps(options), '{"runId": 77}',
                       T0, T0 + 5, T0 + 5))  # fmt: skip
    conn.execute(run, ("left", "ab" * 32, "running", '{"job_id": 2}', json.dumps(options), None,
                       T0 + 10, None, T0 + 11))  # fmt: skip
    if version >= 2:
        conn.execute(run, ("stopped", "ab" * 32, "cancelled", '{"job_id": 3}', json.dumps(options), None,
                           T0 + 20, T0 + 21, T0 + 21))  # fmt: skip
    conn.execute(
        """INSERT INTO exchanges (run_id, seq, step_path, step_id, attempt, method, url, request_json,
           idempotent, intent_at, status, response_headers_json, response_body, elapsed, received_at,
           outputs_json) VALUES ('done', 1, 'run-job-and-wait/poll', 'poll', 1, 'GET',
           'https://dbc.example/api/2.1/jobs/runs/get?run_id=77', '{"headers": []}', 1, ?, 200,
           '[["Content-Type", "application/json"]]', ?, 0.25, ?, '{"state": "TERMINATED"}')""",
        (T0 + 1, BODY, T0 + 1.25),
    )
    conn.execute(
        "INSERT INTO events (run_id, seq, kind, at, data_json) VALUES ('done', 1, 'step', ?, '{}')", (T0 + 2,)
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_old_store_migrates_to_the_latest_schema_keeping_its_runs(tmp_path: Path, version: int) -> None:
    path = tmp_path / "runs.db"
    gone = dead_pid()
    old_store(path, version, dead=gone)

    with RunStore.open(path) as store:
        done = store.get_run("done")
        assert done.status == "succeeded" and done.outputs == {"runId": 77}
        assert done.header.inputs == {"job_id": 1} and done.header.secret_inputs == ("token",)
        (exchange,) = done.exchanges
        assert (
            exchange.status == 200
            and exchange.response_body == BODY
            and exchange.outputs == {"state": "TERMINATED"}
        )
        assert [e.kind for e in done.events] == ["step"]
        assert store.get_run("left").status == "running"
        kept = ["stopped", "left", "done"] if version >= 2 else ["left", "done"]
        assert [r.run_id for r in store.list_runs()] == kept
        # the new columns exist, empty for old runs; the new tables exist
        assert store.run_origin("done") == (None, None)
        assert store.get_lease("left") is None
        store_id = store.store_id()
        assert len(store_id) == 32 and int(store_id, 16) >= 0
        # an old run left running by a dead process is stale (judged by the pid it recorded)
        assert [r["runId"] for r in select_runs(store, limit=10, status="stale")] == ["left"]
        assert select_runs(store, limit=10, status="running") == []
        # v1 stores gain the cancelled status
        store.finish_run("done", "cancelled", None, None, T0 + 30)
        assert store.get_run("done").status == "cancelled"
        # leases and run origins work on the migrated store
        taken, previous = store.acquire_lease(
            LeaseRecord("left", "me", "h", 1, T0, 2 * T0), lambda _held: True
        )
        assert taken and previous is None
        assert store.get_lease("left") == LeaseRecord("left", "me", "h", 1, T0, 2 * T0)
        store.rebind_run("left")
        assert store.run_origin("left") == (store_id, str(path.resolve()))
        store.create_run(make_header("new"))
        assert store.run_origin("new") == (store_id, str(path.resolve()))

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"runs", "exchanges", "events", "leases", "store_meta"} <= tables
        columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        assert {"store_id", "store_path"} <= columns
        lease_columns = [row[1] for row in conn.execute("PRAGMA table_info(leases)")]
        assert lease_columns == ["run_id", "owner", "host", "pid", "acquired_at", "expires_at"]
    with RunStore.open(path) as store:  # opening again migrates nothing and keeps the store's id
        assert store.store_id() == store_id
        assert {r.run_id for r in store.list_runs()} >= {"done", "left", "new"}


async def test_a_migrated_store_takes_leases_through_the_journal(tmp_path: Path) -> None:
    from spola.store import Journal

    path = tmp_path / "runs.db"
    old_store(path, 2, dead=dead_pid())
    journal = await Journal.open(path)
    try:
        holder, notice = await acquire(journal, "left")
        assert notice is None and (await journal.get_lease("left")) is not None
        await holder.release()
        assert await journal.get_lease("left") is None
    finally:
        await journal.close()
