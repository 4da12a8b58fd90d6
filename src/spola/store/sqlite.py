"""`RunStore`: the run journal's tables and queries over one sqlite3 connection.

Rows in, plain records out; no Arazzo rules. Every write method commits on its own unless it runs
inside `RunStore.transaction`, which is how `Journal` commits many records at once.

A `RunStore` is not thread-safe: use it from one thread at a time (the `Journal` gives its own
store to its writer thread). Several stores, in several processes, may share one file (WAL).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import TYPE_CHECKING, Any

from spola import jsoncodec
from spola.errors import StoreError
from spola.store.records import (
    EventRecord,
    ExchangeRecord,
    ExchangeRow,
    IntentRecord,
    LeaseRecord,
    ResponseRecord,
    RunHeader,
    RunRecord,
    RunStatus,
    RunSummary,
    check_status,
    request_summary,
)
from spola.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    connect,
    default_store_path,
    migrate,
    store_error,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

__all__ = ["RunStore"]

# Whole statements as literals: no SQL is ever assembled from values.
_INSERT_RUN = """
    INSERT INTO runs (run_id, workflow_id, document, document_sha256, status, inputs_json,
                      secret_inputs_json, options_json, started_at, updated_at, store_id, store_path)
    VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_RUN_V1 = """
    INSERT INTO runs (run_id, workflow_id, document, document_sha256, status, inputs_json,
                      secret_inputs_json, options_json, started_at, updated_at)
    VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)
"""
_STORE_ID = "SELECT value FROM store_meta WHERE key = 'store_id'"
_RUN_ORIGIN = "SELECT store_id, store_path FROM runs WHERE run_id = ?"
_REBIND_RUN = "UPDATE runs SET store_id = ?, store_path = ? WHERE run_id = ?"
_SELECT_LEASE = "SELECT run_id, owner, host, pid, acquired_at, expires_at FROM leases WHERE run_id = ?"
_UPSERT_LEASE = """
    INSERT INTO leases (run_id, owner, host, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
        acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
"""
_RENEW_LEASE = "UPDATE leases SET expires_at = ? WHERE run_id = ? AND owner = ?"
_RENEW_LEASES = """
    UPDATE leases SET expires_at = ?1
    WHERE (run_id, owner) IN (
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?2)
    )
    RETURNING run_id
"""
_RELEASE_LEASE = "DELETE FROM leases WHERE run_id = ? AND owner = ?"
_INSERT_INTENT = """
    INSERT INTO exchanges (run_id, seq, step_path, step_id, attempt, method, url, request_json,
                           idempotent, intent_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (run_id, seq) DO UPDATE SET
        sends = sends + 1, intent_at = excluded.intent_at, attempt = excluded.attempt,
        url = excluded.url, request_json = excluded.request_json
    WHERE exchanges.received_at IS NULL
"""
_INSERT_EXCHANGE = """
    INSERT INTO exchanges (run_id, seq, step_path, step_id, attempt, method, url, request_json,
                           idempotent, intent_at, status, response_headers_json, response_body,
                           body_redacted, error, elapsed, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (run_id, seq) DO UPDATE SET
        sends = sends + 1, intent_at = excluded.intent_at, attempt = excluded.attempt,
        url = excluded.url, request_json = excluded.request_json, status = excluded.status,
        response_headers_json = excluded.response_headers_json, response_body = excluded.response_body,
        body_redacted = excluded.body_redacted, error = excluded.error, elapsed = excluded.elapsed,
        received_at = excluded.received_at
    WHERE exchanges.received_at IS NULL
"""
_INSERT_EXCHANGE_NO_ERROR = """
    INSERT INTO exchanges (run_id, seq, step_path, step_id, attempt, method, url, request_json,
                           idempotent, intent_at, status, response_headers_json, response_body,
                           body_redacted, error, elapsed, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
    ON CONFLICT (run_id, seq) DO UPDATE SET
        sends = sends + 1, intent_at = excluded.intent_at, attempt = excluded.attempt,
        url = excluded.url, request_json = excluded.request_json, status = excluded.status,
        response_headers_json = excluded.response_headers_json, response_body = excluded.response_body,
        body_redacted = excluded.body_redacted, error = excluded.error, elapsed = excluded.elapsed,
        received_at = excluded.received_at
    WHERE exchanges.received_at IS NULL
"""
"""`_INSERT_EXCHANGE` for rows without an error: the NULL written as a literal (binding None costs
the sqlite3 module an adapter lookup, a failed attribute lookup with its exception, per row)."""
_UPDATE_RESPONSE = """
    UPDATE exchanges SET status = ?, response_headers_json = ?, response_body = ?, body_redacted = ?,
                         error = ?, elapsed = ?, received_at = ?, outputs_json = ?
    WHERE run_id = ? AND seq = ?
"""
_RELIVE_RESPONSE = """
    UPDATE exchanges SET sends = sends + 1, status = ?, response_headers_json = ?, response_body = ?,
                         body_redacted = ?, error = ?, elapsed = ?
    WHERE run_id = ? AND seq = ? AND received_at IS NOT NULL
"""
_REOPEN_EXCHANGE = """
    UPDATE exchanges SET status = NULL, response_headers_json = NULL, response_body = NULL,
                         body_redacted = 0, error = NULL, elapsed = NULL, received_at = NULL,
                         outputs_json = NULL
    WHERE run_id = ? AND seq = ?
"""
_INSERT_EVENT = "INSERT INTO events (run_id, seq, kind, at, data_json) VALUES (?, ?, ?, ?, ?)"
_FINISH_RUN = """
    UPDATE runs SET status = ?, outputs_json = ?, error_json = ?, finished_at = ?, updated_at = ?
    WHERE run_id = ?
"""
_SET_STATUS = """
    UPDATE runs SET status = ?1,
                    finished_at = CASE WHEN ?1 = 'running' THEN NULL ELSE finished_at END,
                    updated_at = coalesce(?2, updated_at)
    WHERE run_id = ?3
"""
_PRUNE = (
    """DELETE FROM exchanges WHERE run_id IN (SELECT run_id FROM runs
       WHERE status != 'running' AND coalesce(finished_at, updated_at) < ?)""",
    """DELETE FROM events WHERE run_id IN (SELECT run_id FROM runs
       WHERE status != 'running' AND coalesce(finished_at, updated_at) < ?)""",
    "DELETE FROM runs WHERE status != 'running' AND coalesce(finished_at, updated_at) < ?",
)
_RUN_EXISTS = "SELECT 1 FROM runs WHERE run_id = ?"
_RUNS_BY_PREFIX = "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 3"
_SELECT_RUN = """
    SELECT run_id, workflow_id, document, document_sha256, status, inputs_json, secret_inputs_json,
           options_json, outputs_json, error_json, started_at, finished_at, updated_at
    FROM runs WHERE run_id = ?
"""
_SELECT_EXCHANGES = """
    SELECT seq, step_path, step_id, attempt, method, url, request_json, idempotent, sends, intent_at,
           status, response_headers_json, response_body, body_redacted, error, elapsed, received_at,
           outputs_json
    FROM exchanges WHERE run_id = ? ORDER BY seq
"""
_SELECT_EVENTS = "SELECT kind, at, data_json, seq FROM events WHERE run_id = ? ORDER BY id"
_LAST_EVENT = (
    "SELECT kind, at, data_json, seq FROM events WHERE run_id = ? AND kind = ? ORDER BY id DESC LIMIT 1"
)
_LIST_RUNS = """
    SELECT run_id, workflow_id, document, status, started_at, finished_at, updated_at
    FROM runs WHERE ?1 IS NULL OR status = ?1
    ORDER BY started_at DESC, rowid DESC LIMIT ?2 OFFSET ?3
"""
_RUN_OPTIONS = "SELECT options_json FROM runs WHERE run_id = ?"
_SELECT_IN_DOUBT = """
    SELECT run_id, seq, step_path, step_id, attempt, method, url, request_json, idempotent, intent_at
    FROM exchanges WHERE run_id = ? AND received_at IS NULL ORDER BY seq
"""


_V_LEASES = 3
"""The schema version that added leases and the runs' store id and path."""


_ENCODED_CACHE = 256
"""How many distinct request summaries and response header lists `RunStore.record_exchanges` keeps
encoded (a poll sends the same request and gets the same headers each time); then it starts over."""


def _dumps(value: Any) -> str:
    return jsoncodec.dumps_text(value, default=str)


def _loads(text: str | None) -> Any:
    return None if text is None else jsoncodec.loads(text)


class RunStore:
    """The run journal in one SQLite file; open it with `RunStore.open`."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        """Wrap an open, migrated connection (use `RunStore.open`)."""
        self._conn = conn
        self.path = path
        self.version = SCHEMA_VERSION
        """The schema version it was migrated to (older only when a test asks for fewer migrations)."""
        self.commits = 0
        """Transactions committed by this store: how `Journal` shows it batches."""
        self._store_id = ""
        self._request_json: dict[tuple[tuple[str, str], ...], str] = {}
        self._headers_json: dict[tuple[tuple[str, str], ...], str] = {}
        self._writer = conn.cursor()
        """The cursor of the journal's hot statements (a transaction's ``BEGIN`` and ``COMMIT``,
        `record_exchanges`): one made once, not one per statement as ``Connection.execute`` makes."""

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        synchronous: str = "NORMAL",
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> RunStore:
        """Open (create, migrate) the store at ``path`` (default: `default_store_path`).

        ``":memory:"`` gives a private in-memory store; ``migrations`` is for tests. Raises
        StoreError when the file cannot be opened, is not a spola store, or has a newer schema.
        """
        where = str(default_store_path() if path is None else path)
        conn = connect(where, synchronous=synchronous)
        try:
            version = migrate(conn, where, migrations)
        except BaseException:
            conn.close()
            raise
        store = cls(conn, where)
        store.version = version
        return store

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    def __enter__(self) -> RunStore:
        """Use as a context manager that closes the store."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the store."""
        self.close()

    # --- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes inside into one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``)."""
        if self._conn.in_transaction:
            yield
            return
        self._hot("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        try:
            self._hot("COMMIT")
        except StoreError:
            self._rollback()
            raise
        self.commits += 1

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Group reads into one snapshot (a deferred ``BEGIN``): no write lock is taken, so they
        answer while another process holds it (WAL)."""
        if self._conn.in_transaction:
            yield
            return
        self._exec("BEGIN")
        try:
            yield
        finally:
            self._rollback()

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: undo just the writes inside when they fail."""
        self._exec("SAVEPOINT record")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK TO record")
                self._conn.execute("RELEASE record")
            raise
        self._exec("RELEASE record")

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    def _write(self, sql: str, params: Sequence[Any]) -> int:
        if self._conn.in_transaction:  # inside a batch: the common, hot path
            return self._exec(sql, params).rowcount
        with self.transaction():
            return self._exec(sql, params).rowcount

    # --- writes -------------------------------------------------------------------------------

    def create_run(self, header: RunHeader) -> None:
        """Record a new run as ``running``; StoreError if the id is taken."""
        if self._exec(_RUN_EXISTS, (header.run_id,)).fetchone():
            raise StoreError(f"a run with id {header.run_id} already exists")
        values = (
            header.run_id, header.workflow_id, header.document, header.document_sha256,
            _dumps(dict(header.inputs)), _dumps(list(header.secret_inputs)),
            _dumps(dict(header.options)), header.started_at, header.started_at,
        )  # fmt: skip
        if self.version < _V_LEASES:
            self._write(_INSERT_RUN_V1, values)
            return
        self._write(_INSERT_RUN, (*values, self.store_id(), self.absolute_path()))

    # --- identity and leases ------------------------------------------------------------------

    def store_id(self) -> str:
        """The store's random id, made once with it (a copy of the file has the same one)."""
        if self._store_id:  # written once by the migration that made store_meta, never changed
            return self._store_id
        row = self._exec(_STORE_ID).fetchone()
        self._store_id = str(row[0]) if row else ""
        return self._store_id

    def absolute_path(self) -> str:
        """The absolute path this store was opened at (``:memory:`` as is)."""
        if self.path == ":memory:":
            return self.path
        return os.path.abspath(self.path)

    def run_origin(self, run_id: str) -> tuple[str | None, str | None]:
        """The store id and absolute store path a run (exact id) was created in; None for old runs."""
        row = self._exec(_RUN_ORIGIN, (run_id,)).fetchone()
        if row is None:
            raise _no_run(run_id)
        return row[0], row[1]

    def rebind_run(self, run_id: str) -> None:
        """Make a run (exact id) belong to this file (``resume --adopt-copy`` of a copied store)."""
        self._write(_REBIND_RUN, (self.store_id(), self.absolute_path(), run_id))

    def get_lease(self, run_id: str) -> LeaseRecord | None:
        """The run's (exact id) lease row, live or expired, or None."""
        row = self._exec(_SELECT_LEASE, (run_id,)).fetchone()
        return None if row is None else LeaseRecord(*row)

    def acquire_lease(
        self, lease: LeaseRecord, live: Callable[[LeaseRecord], bool]
    ) -> tuple[bool, LeaseRecord | None]:
        """Take the run's lease in one ``BEGIN IMMEDIATE`` transaction (read, check, write).

        Refused (``False`` and the holder) while another owner's lease is ``live``; otherwise the
        lease is written and ``True`` returned with the previous holder (an expired one), if any.
        """
        with self.transaction():
            previous = self.get_lease(lease.run_id)
            if previous is not None and previous.owner != lease.owner and live(previous):
                return False, previous
            self._exec(
                _UPSERT_LEASE,
                (lease.run_id, lease.owner, lease.host, lease.pid, lease.acquired_at, lease.expires_at),
            )
            return True, previous

    def renew_lease(self, run_id: str, owner: str, expires_at: float) -> bool:
        """Extend the owner's lease; False when it is no longer the owner's (taken over)."""
        return self._write(_RENEW_LEASE, (expires_at, run_id, owner)) == 1

    def renew_leases(self, leases: Sequence[tuple[str, str]], expires_at: float) -> set[str]:
        """Extend many (run id, owner) leases in one statement; returns the run ids still those owners'."""
        rows = self._write_rows(_RENEW_LEASES, (expires_at, _dumps([list(pair) for pair in leases])))
        return {str(row[0]) for row in rows}

    def _write_rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if self._conn.in_transaction:
            return self._exec(sql, params).fetchall()
        with self.transaction():
            return self._exec(sql, params).fetchall()

    def release_lease(self, run_id: str, owner: str) -> None:
        """Drop the owner's lease (another owner's is left alone)."""
        self._write(_RELEASE_LEASE, (run_id, owner))

    def record_intent(self, intent: IntentRecord) -> None:
        """Record that a request is about to be sent.

        Recording it again while it is in doubt (re-sending after a crash) counts another send;
        recording it after its response is an error, as is an unknown run.
        """
        changed = self._write(
            _INSERT_INTENT,
            (
                intent.run_id, intent.seq, intent.step_path, intent.step_id, intent.attempt,
                intent.method, intent.url, _dumps(dict(intent.request)), int(intent.idempotent), intent.at,
            ),
        )  # fmt: skip
        if changed == 0:
            raise StoreError(f"run {intent.run_id}: exchange {intent.seq} already has a response")

    def record_response(self, response: ResponseRecord) -> None:
        """Record the response to an intent (StoreError if there is no such intent)."""
        outputs = None if response.outputs is None else _dumps(dict(response.outputs))
        changed = self._write(
            _UPDATE_RESPONSE,
            (
                response.status, _dumps([list(pair) for pair in response.headers]), response.body,
                int(response.body_redacted), response.error, response.elapsed, response.received_at,
                outputs, response.run_id, response.seq,
            ),
        )  # fmt: skip
        if changed == 0:
            raise StoreError(f"run {response.run_id}: no intent recorded for exchange {response.seq}")

    def record_relived(self, response: ResponseRecord) -> None:
        """Record the response to an answered exchange sent again on resume (a re-login): one more
        send, the new (redacted) response, and the time it was first received kept, so the journal
        replays in its order (StoreError if the exchange has no response)."""
        changed = self._write(
            _RELIVE_RESPONSE,
            (
                response.status, _dumps([list(pair) for pair in response.headers]), response.body,
                int(response.body_redacted), response.error, response.elapsed, response.run_id, response.seq,
            ),
        )  # fmt: skip
        if changed == 0:
            raise StoreError(f"run {response.run_id}: exchange {response.seq} has no response to replace")

    def record_exchanges(self, rows: Sequence[ExchangeRow]) -> None:
        """Record answered exchanges (intent and response at once, see `exchange_row`) with one
        prepared statement; an exchange already answered is left as it was."""
        requests, headers_json = self._request_json, self._headers_json
        if len(requests) > _ENCODED_CACHE or len(headers_json) > _ENCODED_CACHE:
            requests.clear()
            headers_json.clear()
        failed = any(row[16] is not None for row in rows)  # a transport error: the general statement
        params: list[tuple[Any, ...]] = []
        for (
            run_id, seq, step_path, step_id, attempt, method, url, request_headers, request_body,
            request_size, idempotent, intent_at, status, headers, body, redacted, error, elapsed,
            received_at,
        ) in rows:  # fmt: skip
            if request_body is None:  # a request without a body (a poll): the same summary each time
                key = tuple(request_headers)
                request_json = requests.get(key)
                if request_json is None:
                    request_json = requests[key] = _dumps(request_summary(request_headers, None, None))
            else:
                request_json = _dumps(request_summary(request_headers, request_body, request_size))
            key = tuple(headers)
            response_json = headers_json.get(key)
            if response_json is None:
                response_json = headers_json[key] = _dumps(headers)
            # a bytearray binds as the same BLOB as bytes, without the sqlite3 module's adapter lookup
            if failed:
                params.append(
                    (
                        run_id, seq, step_path, step_id, attempt, method, url, request_json,
                        int(idempotent), intent_at, status, response_json, bytearray(body), int(redacted),
                        error, elapsed, received_at,
                    )
                )  # fmt: skip
            else:
                params.append(
                    (
                        run_id, seq, step_path, step_id, attempt, method, url, request_json,
                        int(idempotent), intent_at, status, response_json, bytearray(body), int(redacted),
                        elapsed, received_at,
                    )
                )  # fmt: skip
        sql = _INSERT_EXCHANGE if failed else _INSERT_EXCHANGE_NO_ERROR
        if self._conn.in_transaction:
            self._executemany(sql, params)
            return
        with self.transaction():
            self._executemany(sql, params)

    def _executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        try:
            self._writer.executemany(sql, params)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    def _hot(self, sql: str) -> None:
        """`_exec` of a statement without parameters on the writer's cursor (``BEGIN``, ``COMMIT``)."""
        try:
            self._writer.execute(sql)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    def record_event(self, event: EventRecord) -> None:
        """Record an event (a wait, a step outcome, …) of a run."""
        self._write(_INSERT_EVENT, (event.run_id, event.seq, event.kind, event.at, _dumps(dict(event.data))))

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        outputs: Mapping[str, Any] | None,
        error: Mapping[str, Any] | None,
        finished_at: float,
    ) -> None:
        """Record how a run ended (outputs and error already redacted)."""
        check_status(status)
        changed = self._write(
            _FINISH_RUN,
            (
                status, None if outputs is None else _dumps(dict(outputs)),
                None if error is None else _dumps(dict(error)), finished_at, finished_at, run_id,
            ),
        )  # fmt: skip
        if changed == 0:
            raise _no_run(run_id)

    def reopen_exchange(self, run_id: str, seq: int) -> None:
        """Forget an exchange's failed response so it is sent again (resume of a failed run);
        the next intent for it counts one more send."""
        self._write(_REOPEN_EXCHANGE, (run_id, seq))

    def set_status(self, run_id: str, status: RunStatus, at: float | None = None) -> None:
        """Change a run's status; back to ``running`` (a resume) clears its finish time."""
        check_status(status)
        if self._write(_SET_STATUS, (status, at, run_id)) == 0:
            raise _no_run(run_id)

    def prune(self, older_than_seconds: float, now: float) -> int:
        """Delete runs that ended more than ``older_than_seconds`` before ``now``; never running ones.

        Returns how many runs were deleted (their exchanges and events go with them).
        """
        cutoff = now - older_than_seconds
        with self.transaction():
            for statement in _PRUNE[:-1]:
                self._exec(statement, (cutoff,))
            return self._exec(_PRUNE[-1], (cutoff,)).rowcount

    # --- reads --------------------------------------------------------------------------------

    def resolve_run_id(self, run_id: str) -> str:
        """The full id of the run that ``run_id`` names exactly or as a unique prefix."""
        if not run_id:
            raise StoreError("an empty run id names no run")
        if self._exec(_RUN_EXISTS, (run_id,)).fetchone():
            return run_id
        rows = self._exec(_RUNS_BY_PREFIX, (run_id, run_id + "\U0010ffff")).fetchall()
        if not rows:
            raise _no_run(run_id)
        if len(rows) > 1:
            shown = ", ".join(row[0] for row in rows[:2])
            raise StoreError(
                f"run id prefix {run_id} is ambiguous: it matches {shown}…", hint="Give more of it."
            )
        return str(rows[0][0])

    def get_run(self, run_id: str) -> RunRecord:
        """The run ``run_id`` (or a unique prefix of it) with its exchanges and events."""
        full = self.resolve_run_id(run_id)
        row = self._exec(_SELECT_RUN, (full,)).fetchone()
        if row is None:  # deleted in between
            raise _no_run(run_id)
        exchanges = tuple(_exchange(r) for r in self._exec(_SELECT_EXCHANGES, (full,)))
        events = tuple(
            EventRecord(run_id=full, kind=r[0], at=r[1], data=_loads(r[2]), seq=r[3])
            for r in self._exec(_SELECT_EVENTS, (full,))
        )
        header = RunHeader(
            run_id=row[0], workflow_id=row[1], document=row[2], document_sha256=row[3],
            inputs=_loads(row[5]), secret_inputs=tuple(_loads(row[6])), options=_loads(row[7]),
            started_at=row[10],
        )  # fmt: skip
        return RunRecord(
            header=header, status=check_status(row[4]), outputs=_loads(row[8]), error=_loads(row[9]),
            finished_at=row[11], updated_at=row[12], exchanges=exchanges, events=events,
        )  # fmt: skip

    def list_runs(
        self, limit: int = 50, status: RunStatus | None = None, offset: int = 0
    ) -> list[RunSummary]:
        """The most recently started runs first (after ``offset`` of them), optionally only ``status``."""
        if status is not None:
            check_status(status)
        rows = self._exec(_LIST_RUNS, (status, limit, offset))
        return [RunSummary(r[0], r[1], r[2], check_status(r[3]), r[4], r[5], r[6]) for r in rows]

    def run_options(self, run_id: str) -> dict[str, Any]:
        """The options a run (exact id) recorded when it started (no credential values), or {}."""
        row = self._exec(_RUN_OPTIONS, (run_id,)).fetchone()
        options = None if row is None else _loads(row[0])
        return options if isinstance(options, dict) else {}

    def last_event(self, run_id: str, kind: str) -> EventRecord | None:
        """The run's (exact id) most recent event of ``kind``, or None (e.g. a ``cancel-requested``)."""
        row = self._exec(_LAST_EVENT, (run_id, kind)).fetchone()
        if row is None:
            return None
        return EventRecord(run_id=run_id, kind=row[0], at=row[1], data=_loads(row[2]), seq=row[3])

    def in_doubt(self, run_id: str) -> list[IntentRecord]:
        """Intents of the run with no recorded response, by seq: requests that may have gone out."""
        full = self.resolve_run_id(run_id)
        return [_intent(r) for r in self._exec(_SELECT_IN_DOUBT, (full,))]


def _no_run(run_id: str) -> StoreError:
    return StoreError(f"no run with id {run_id} (spola runs lists them)")


def _intent(r: Sequence[Any]) -> IntentRecord:
    return IntentRecord(
        run_id=r[0], seq=r[1], step_path=r[2], step_id=r[3], attempt=r[4], method=r[5], url=r[6],
        request=_loads(r[7]), idempotent=bool(r[8]), at=r[9],
    )  # fmt: skip


def _exchange(r: Sequence[Any]) -> ExchangeRecord:
    headers = _loads(r[11])
    return ExchangeRecord(
        seq=r[0], step_path=r[1], step_id=r[2], attempt=r[3], method=r[4], url=r[5], request=_loads(r[6]),
        idempotent=bool(r[7]), sends=r[8], intent_at=r[9], status=r[10],
        response_headers=None if headers is None else tuple((str(k), str(v)) for k, v in headers),
        response_body=None if r[12] is None else bytes(r[12]), body_redacted=bool(r[13]), error=r[14],
        elapsed=r[15], received_at=r[16], outputs=_loads(r[17]),
    )  # fmt: skip
