"""Where the run store lives, how its file is opened, and its schema with migrations.

The schema version is ``PRAGMA user_version``; `MIGRATIONS[i]` turns version ``i`` into
``i + 1``. The file is marked as spola's with ``PRAGMA application_id`` so that pointing
``SPOLA_STORE`` at some other SQLite database is refused instead of altered.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from spola.errors import StoreError, StoreLocked

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Migration",
    "connect",
    "default_store_path",
    "migrate",
    "run_script",
]

APPLICATION_ID = 0x73706F6C  # "spol"
BUSY_TIMEOUT_MS = 10_000

Migration = Callable[[sqlite3.Connection], None]


def default_store_path(env: Mapping[str, str] = os.environ) -> Path:
    """Where runs are journalled: ``$SPOLA_STORE``, else ``$XDG_STATE_HOME/spola/runs.db``.

    ``XDG_STATE_HOME`` defaults to ``~/.local/state``; like the XDG spec says, a relative value is
    ignored.
    """
    explicit = env.get("SPOLA_STORE")
    if explicit:
        return Path(explicit).expanduser()
    state = env.get("XDG_STATE_HOME")
    if state and Path(state).is_absolute():
        base = Path(state)
    else:
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / ".local" / "state"
    return base / "spola" / "runs.db"


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL inside the current transaction (``executescript`` would commit it)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE runs (
            run_id             TEXT PRIMARY KEY,
            workflow_id        TEXT NOT NULL,
            document           TEXT NOT NULL,
            document_sha256    TEXT NOT NULL,
            status             TEXT NOT NULL
                               CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
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
        """,
    )


def _v2(conn: sqlite3.Connection) -> None:
    """Adds the ``cancelled`` run status (a run stopped on purpose, e.g. by an MCP client).

    SQLite cannot alter a CHECK constraint and rebuilding ``runs`` would need foreign keys off, which
    cannot change inside the migration's transaction; so the constraint text is edited in place, the
    procedure SQLite documents for changes that leave the stored data valid
    (https://www.sqlite.org/lang_altertable.html#otheralter).
    """
    old = "CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))"
    new = "CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'cancelled'))"
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
    if old not in sql:
        raise sqlite3.DatabaseError("the runs table does not have the expected status constraint")
    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    conn.execute("PRAGMA writable_schema = ON")
    try:
        update = "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'runs'"
        conn.execute(update, (sql.replace(old, new),))
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
    if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        raise sqlite3.DatabaseError("the run store failed its integrity check after adding 'cancelled'")


def _v3(conn: sqlite3.Connection) -> None:
    """Leases (one owner drives a run at a time) and the store's identity (a copied file is noticed).

    ``store_meta`` holds the store id, random and made once with the store; each run records the id
    and the absolute path of the store it was created in. Runs from before have neither (NULL).
    """
    run_script(
        conn,
        """
        CREATE TABLE store_meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));

        CREATE TABLE leases (
            run_id      TEXT PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
            owner       TEXT NOT NULL,
            host        TEXT NOT NULL,
            pid         INTEGER NOT NULL,
            acquired_at REAL NOT NULL,
            expires_at  REAL NOT NULL
        );

        ALTER TABLE runs ADD COLUMN store_id TEXT;
        ALTER TABLE runs ADD COLUMN store_path TEXT
        """,
    )


MIGRATIONS: tuple[Migration, ...] = (_v1, _v2, _v3)
"""``MIGRATIONS[i]`` migrates schema version ``i`` to ``i + 1``; append, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path | str, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """Open (creating it and its parent directories, mode 0600/0700) the store at ``path``.

    The connection is in autocommit mode (``isolation_level=None``): callers ``BEGIN`` and
    ``COMMIT`` themselves. WAL journal, ``synchronous`` as given, foreign keys on, a busy timeout.
    ``":memory:"`` opens a private in-memory store. Raises StoreError naming the path.
    """
    where = str(path)
    if where != ":memory:":
        target = Path(path)
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not target.exists():
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot create the run store {where}: {exc.strerror or exc}") from exc
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise StoreError(f"unknown synchronous mode {synchronous!r} for the run store")
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            where, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys = ON")
        limit = os.environ.get("SPOLA_TEST_MAX_PAGE_COUNT")
        if limit and limit.isdigit():  # test-only: a store that fills up after so many pages (disk full)
            conn.execute(f"PRAGMA max_page_count = {int(limit)}").fetchone()
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise store_error(exc, where, "cannot open the run store") from exc
    return conn


def migrate(conn: sqlite3.Connection, where: str, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the store to the latest schema version and return that version.

    Refuses (StoreError) a database that is not spola's or was written by a newer spola. An
    up-to-date store is only read; a migration runs in one ``BEGIN IMMEDIATE`` transaction, so
    concurrent openers do not migrate twice.
    """
    latest = len(migrations)
    try:
        # Up to date (every open but the first of a new spola): a plain read, no write lock, so a store
        # whose write lock another process holds (stopped mid-commit: SIGSTOP, a paused container)
        # still opens, and is read, listed and shown; only a write to it waits for that process.
        if _check_identity(conn, where, latest) == latest:
            return latest
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = _check_identity(conn, where, latest)
            for index in range(version, latest):
                migrations[index](conn)
            if version != latest:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {latest}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise store_error(exc, where, "cannot open the run store") from exc
    return latest


def store_error(exc: sqlite3.Error, where: str, doing: str = "run store") -> StoreError:
    """The StoreError for a failed statement; `StoreLocked` when the write lock stayed taken."""
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY:
        return StoreLocked(
            f"the run store {where} is locked: another process has held its write lock for over "
            f"{BUSY_TIMEOUT_MS / 1000:g} s — a process stopped in the middle of a write (SIGSTOP, a "
            "debugger, a paused container) keeps it until it is continued or ends",
            hint="Continue or end that process, then try again (spola runs lists the runs and their pids).",
        )
    return StoreError(f"{doing} {where}: {_describe(exc)}")


def _check_identity(conn: sqlite3.Connection, where: str, latest: int) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise StoreError(f"{where} is an SQLite database of another application, not a spola run store")
    if version == 0 and app_id == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise StoreError(f"{where} is an SQLite database but not a spola run store")
    if version > latest:
        raise StoreError(
            f"the run store {where} has schema version {version}, newer than this spola knows ({latest})",
            hint="Upgrade spola, or point SPOLA_STORE at another file.",
        )
    return version


def _describe(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return f"{text} (the file is damaged or not a spola run store)"
    return text
