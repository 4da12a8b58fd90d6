"""`Journal`: the asyncio face of the run store, with group commit.

One writer thread owns a `RunStore` and a queue. It takes everything queued, writes it in one
transaction, commits once, then settles the waiting futures with one
``loop.call_soon_threadsafe`` per batch. While it commits, new records queue up for the next
batch, so thousands of concurrent runs cost a few commits, not one each.

- `Journal.intent` resolves only once the transaction holding the intent has committed: a driver
  awaits it before sending, so after a crash a missing response means "in doubt", never "unknown".
- `Journal.response`, `event`, `finish` and `set_status` are fire-and-forget: queued in order and
  committed with the next batch. `flush` and `close` wait until all of it is on disk and raise a
  StoreError for any of it that could not be written.
- Reads (`get_run`, `in_doubt`, `list_runs`) go through the same queue, so they see every record
  queued before them.

A journal belongs to the event loop it was opened on.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from msgspec import Struct

from spola.errors import StoreError, StoreLocked
from spola.store.sqlite import RunStore

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from spola.store.records import (
        EventRecord,
        ExchangeRow,
        IntentRecord,
        LeaseRecord,
        ResponseRecord,
        RunHeader,
        RunRecord,
        RunStatus,
        RunSummary,
    )

__all__ = ["Journal", "JournalStats"]

T = TypeVar("T")


class JournalStats(Struct, frozen=True):
    """What the writer did: records applied, batches written, transactions committed, largest batch."""

    records: int
    batches: int
    commits: int
    largest_batch: int


class _Op(Generic[T]):
    """One queued unit of work; ``future`` is None for fire-and-forget writes; ``read`` when it writes
    nothing (a batch of reads only takes no write lock)."""

    __slots__ = ("apply", "future", "loop", "read")

    def __init__(
        self,
        apply: Callable[[RunStore], T],
        future: asyncio.Future[T] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        read: bool = False,
    ) -> None:
        self.apply = apply
        self.future = future
        self.loop = loop
        self.read = read


_STOP = object()
_Settlement = tuple["asyncio.Future[Any]", Any, BaseException | None]


LINGER = 0.02
"""Seconds fire-and-forget records wait on the loop's side before going to the writer together.

Each hand-over wakes the writer thread, which then takes the GIL from the loop for a commit: on two
cores that costs ~1 ms of CPU per commit (bench/README.md), far more than the rows themselves. What
waits here is only what is safe to lose: answered safe exchanges (resume sends them again), events
and run ends; an unsafe request's intent and response are committed before the run goes on."""


class _Rows:
    """Consecutive answered exchanges buffered on the loop's side: one op, one ``executemany``."""

    __slots__ = ("future", "loop", "rows")
    read = False

    def __init__(self, row: ExchangeRow) -> None:
        self.rows = [row]
        self.future = None
        self.loop = None

    def apply(self, store: RunStore) -> None:
        store.record_exchanges(self.rows)


class _Bundle:
    """Records buffered on the loop's side, handed to the writer as one queue item."""

    __slots__ = ("ops",)

    def __init__(self, ops: list[_Op[Any] | _Rows]) -> None:
        self.ops = ops


class Journal:
    """Durable, batched writes of runs, intents, responses and events; open with `Journal.open`."""

    def __init__(self, path: Path | str | None, *, synchronous: str, max_batch: int) -> None:
        """Prepare a journal (use `Journal.open`, which also starts it)."""
        self._path = path
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Op[Any] | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="spola-journal", daemon=True)
        self._store: RunStore | None = None
        self._closed = False
        self._failures: list[StoreError] = []
        self._failure_lock = threading.Lock()
        self._records = self._batches = self._largest = 0
        self._buffer: list[_Op[Any] | _Rows] = []
        self._handover: asyncio.TimerHandle | None = None

    @classmethod
    async def open(
        cls, path: Path | str | None = None, *, synchronous: str = "NORMAL", max_batch: int = 10_000
    ) -> Journal:
        """Open the store at ``path`` (default: `default_store_path`) in a new writer thread.

        ``synchronous="FULL"`` also survives power loss, at one fsync per batch. Raises StoreError
        when the store cannot be opened.
        """
        journal = cls(path, synchronous=synchronous, max_batch=max_batch)
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()
        journal._thread.start()
        journal._queue.put(_Op(lambda _store: None, opened, loop))
        try:
            await opened
        except BaseException:
            journal._closed = True
            journal._queue.put(_STOP)
            raise
        return journal

    @property
    def path(self) -> str:
        """The store's file."""
        return self._store.path if self._store is not None else str(self._path)

    @property
    def stats(self) -> JournalStats:
        """Counters of the writer so far."""
        commits = self._store.commits if self._store is not None else 0
        return JournalStats(self._records, self._batches, commits, self._largest)

    # --- writes -------------------------------------------------------------------------------

    async def create_run(self, header: RunHeader) -> None:
        """Record a new run; resolves once committed."""
        await self._call(lambda store: store.create_run(header))

    async def intent(self, intent: IntentRecord) -> None:
        """Record an intent; resolves once committed, so the request may then be sent."""
        await self._call(lambda store: store.record_intent(intent))

    def queue_intent(self, intent: IntentRecord) -> None:
        """Queue an intent without waiting for its commit: for requests that are safe to send again.

        Records are written in the order they are queued, so the intent still lands before its response;
        a crash that loses it loses an exchange that resume simply sends again.
        """
        self._post(lambda store: store.record_intent(intent))

    async def durable_response(self, response: ResponseRecord) -> None:
        """Record a response and wait for its commit (the answer to a request that must not be re-sent)."""
        await self._call(lambda store: store.record_response(response))

    async def relived_response(self, response: ResponseRecord) -> None:
        """See `RunStore.record_relived`; resolves once committed."""
        await self._call(lambda store: store.record_relived(response))

    def response(self, response: ResponseRecord) -> None:
        """Queue a response record (committed with the next batch)."""
        self._post(lambda store: store.record_response(response))

    def exchange(self, row: ExchangeRow) -> None:
        """Queue an answered exchange of a request that is safe to send again (see `exchange_row`).

        Nothing was recorded before it was sent: a crash that loses it loses an exchange that
        resume simply sends again. Consecutive rows are written with one statement.
        """
        buffer = self._buffer
        if buffer and type(last := buffer[-1]) is _Rows:
            last.rows.append(row)
            return
        rows = _Rows(row)
        self._post(rows.apply, op=rows)

    def event(self, event: EventRecord) -> None:
        """Queue an event record."""
        self._post(lambda store: store.record_event(event))

    def finish(
        self,
        run_id: str,
        status: RunStatus,
        outputs: Mapping[str, Any] | None,
        error: Mapping[str, Any] | None,
        finished_at: float,
    ) -> None:
        """Queue a run's end (outputs and error already redacted)."""
        self._post(lambda store: store.finish_run(run_id, status, outputs, error, finished_at))

    def reopen(self, run_id: str, seq: int) -> None:
        """Queue forgetting exchange ``seq``'s failed response (it will be sent again)."""
        self._post(lambda store: store.reopen_exchange(run_id, seq))

    def set_status(self, run_id: str, status: RunStatus, at: float | None = None) -> None:
        """Queue a status change (``interrupted`` on Ctrl-C, ``running`` on resume)."""
        self._post(lambda store: store.set_status(run_id, status, at))

    async def flush(self) -> None:
        """Wait until everything queued so far is committed; StoreError if any of it failed."""
        await self._call(lambda _store: None, read=True)
        self._raise_failures()

    async def close(self) -> None:
        """Flush, stop the writer and close the store (idempotent); raises like `flush`."""
        if self._closed:
            return
        try:
            await self.flush()
        finally:
            self._closed = True
            loop = asyncio.get_running_loop()
            stopped: asyncio.Future[None] = loop.create_future()
            self._queue.put(_Op(lambda _store: None, stopped, loop, read=True))
            self._queue.put(_STOP)
            with contextlib.suppress(StoreError):
                await stopped
            await asyncio.to_thread(self._thread.join)

    async def __aenter__(self) -> Journal:
        """``async with await Journal.open(...) as journal``: closes on exit."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the journal."""
        await self.close()

    def check(self) -> None:
        """Raise the StoreError of a queued record that could not be written, if any (a driver calls
        this before each send, so a full disk stops a run at once, not at its end)."""
        if self._failures:  # the common case, checked before every send: one call, no lock
            self._raise_failures()

    # --- identity and leases ------------------------------------------------------------------

    async def acquire_lease(
        self, lease: LeaseRecord, live: Callable[[LeaseRecord], bool]
    ) -> tuple[bool, LeaseRecord | None]:
        """See `RunStore.acquire_lease`; resolves once committed."""
        return await self._call(lambda store: store.acquire_lease(lease, live))

    async def renew_lease(self, run_id: str, owner: str, expires_at: float) -> bool:
        """See `RunStore.renew_lease`; resolves once committed."""
        return await self._call(lambda store: store.renew_lease(run_id, owner, expires_at))

    async def renew_leases(self, leases: list[tuple[str, str]], expires_at: float) -> set[str]:
        """See `RunStore.renew_leases`; resolves once committed."""
        return await self._call(lambda store: store.renew_leases(leases, expires_at))

    async def release_lease(self, run_id: str, owner: str) -> None:
        """See `RunStore.release_lease`; resolves once committed."""
        await self._call(lambda store: store.release_lease(run_id, owner))

    async def get_lease(self, run_id: str) -> LeaseRecord | None:
        """The run's (exact id) lease row, or None."""
        return await self._call(lambda store: store.get_lease(run_id), read=True)

    async def run_origin(self, run_id: str) -> tuple[str | None, str | None, str, str]:
        """The store id and path a run was created in, then this store's id and absolute path."""
        return await self._call(
            lambda store: (*store.run_origin(run_id), store.store_id(), store.absolute_path()), read=True
        )

    async def rebind_run(self, run_id: str) -> None:
        """See `RunStore.rebind_run`."""
        await self._call(lambda store: store.rebind_run(run_id))

    # --- reads --------------------------------------------------------------------------------

    async def get_run(self, run_id: str) -> RunRecord:
        """The run (by id or unique prefix) as stored after everything queued before this call."""
        return await self._call(lambda store: store.get_run(run_id), read=True)

    async def in_doubt(self, run_id: str) -> list[IntentRecord]:
        """The run's intents without a response."""
        return await self._call(lambda store: store.in_doubt(run_id), read=True)

    async def last_event(self, run_id: str, kind: str) -> EventRecord | None:
        """The run's most recent event of ``kind`` (exact run id), or None."""
        return await self._call(lambda store: store.last_event(run_id, kind), read=True)

    async def list_runs(self, limit: int = 50, status: RunStatus | None = None) -> list[RunSummary]:
        """Most recent runs first."""
        return await self._call(lambda store: store.list_runs(limit, status), read=True)

    # --- plumbing -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the journal of {self.path} is closed")

    async def _call(self, apply: Callable[[RunStore], T], *, read: bool = False) -> T:
        self._check_open()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._hand_over()
        self._queue.put(_Op(apply, future, loop, read))
        return await future

    def _post(self, apply: Callable[[RunStore], object], *, op: _Op[Any] | _Rows | None = None) -> None:
        """Buffer a fire-and-forget record on the loop's side; hand the buffer over every ``LINGER`` s.

        Waking the writer thread for every record costs far more (GIL hand-offs) than writing it.
        """
        self._check_open()
        item = op if op is not None else _Op(apply)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._queue.put(item)
            return
        self._buffer.append(item)
        if self._handover is None:
            self._handover = loop.call_later(LINGER, self._hand_over)

    def _hand_over(self) -> None:
        """Give the writer everything buffered, in order, as one item."""
        if self._handover is not None:
            self._handover.cancel()
            self._handover = None
        if self._buffer:
            buffered, self._buffer = self._buffer, []
            self._queue.put(_Bundle(buffered))

    def _raise_failures(self) -> None:
        if not self._failures:  # the common case, checked before every send: no lock, no new list
            return
        with self._failure_lock:
            failures, self._failures = self._failures, []
        if failures:
            first = failures[0]
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            raise StoreError(f"journal records were lost: {first.message}{more}") from first

    # --- the writer thread --------------------------------------------------------------------

    def _serve(self) -> None:
        first = self._queue.get()
        try:
            self._store = RunStore.open(self._path, synchronous=self._synchronous)
        except StoreError as exc:
            _settle([(cast("_Op[Any]", first), None, exc)])
            return
        _settle([(cast("_Op[Any]", first), None, None)])
        try:
            while True:
                batch = self._gather()
                ops = cast("list[_Op[Any]]", [op for op in batch if op is not _STOP])
                if ops:
                    self._write(self._store, ops)
                if len(ops) != len(batch):
                    return
        finally:
            self._store.close()

    def _gather(self) -> list[_Op[Any] | object]:
        """The next batch: everything queued now (bundles from the loop's buffer unpacked, in order)."""
        batch: list[_Op[Any] | object] = []
        item: object = self._queue.get()
        while True:
            if isinstance(item, _Bundle):
                batch.extend(item.ops)
            else:
                batch.append(item)
            # only this thread takes from the queue: what is in it now is there for get_nowait
            if len(batch) >= self._max_batch or item is _STOP or self._queue.empty():
                return batch
            item = self._queue.get_nowait()

    def _write(self, store: RunStore, ops: list[_Op[Any]]) -> None:
        results: list[Any] = [None] * len(ops)
        errors: list[StoreError | None] = [None] * len(ops)
        read = ops[0].read and all(op.read for op in ops)  # a write batch told by its first op
        try:
            with store.reading() if read else store.transaction():
                for index, op in enumerate(ops):
                    results[index] = op.apply(store)
        except StoreLocked as exc:  # nothing was written; one by one would wait for the lock again
            errors = [exc] * len(ops)
        except Exception:
            errors = (self._read_one_by_one if read else self._write_one_by_one)(store, ops, results)
        self._records += len(ops)
        self._batches += 1
        self._largest = max(self._largest, len(ops))
        settlements: list[tuple[_Op[Any], Any, StoreError | None]] = []
        for op, result, error in zip(ops, results, errors, strict=True):
            if op.future is not None:
                settlements.append((op, result, error))
            elif error is not None:
                with self._failure_lock:
                    self._failures.append(error)
        if settlements:  # none when the batch was fire-and-forget records only
            _settle(settlements)

    def _read_one_by_one(
        self, store: RunStore, ops: list[_Op[Any]], results: list[Any]
    ) -> list[StoreError | None]:
        errors: list[StoreError | None] = [None] * len(ops)
        for index, op in enumerate(ops):
            try:
                results[index] = op.apply(store)
            except Exception as exc:
                errors[index] = _as_store_error(exc, store.path)
        return errors

    def _write_one_by_one(
        self, store: RunStore, ops: list[_Op[Any]], results: list[Any]
    ) -> list[StoreError | None]:
        errors: list[StoreError | None] = [None] * len(ops)
        try:
            with store.transaction():
                for index, op in enumerate(ops):
                    try:
                        with store.savepoint():
                            results[index] = op.apply(store)
                    except Exception as exc:
                        errors[index] = _as_store_error(exc, store.path)
        except Exception as exc:
            failure = _as_store_error(exc, store.path)
            # an op's own error (SQLITE_FULL, say, which rolls the transaction back) explains the
            # failed commit better than "cannot commit": keep it for that op
            return [error or failure for error in errors]
        return errors


def _as_store_error(exc: BaseException, path: str) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    error = StoreError(f"cannot write to the run store {path}: {exc!r}")
    error.__cause__ = exc
    return error


def _settle(settlements: list[tuple[_Op[Any], Any, StoreError | None]]) -> None:
    """Resolve futures on their loops: one thread-safe call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Settlement]] = {}
    for op, result, error in settlements:
        if op.future is not None and op.loop is not None:
            by_loop.setdefault(op.loop, []).append((op.future, result, error))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, items)


WAKE_PER_ITERATION = 256
"""How many waiting writers one loop iteration resumes. A commit that settles the intents of 10,000
runs would otherwise resume them all in the same iteration and hold the loop for all of it."""


def _resolve(items: list[_Settlement], start: int = 0) -> None:
    end = min(start + WAKE_PER_ITERATION, len(items))
    for future, result, error in items[start:end]:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    if end < len(items):
        asyncio.get_running_loop().call_soon(_resolve, items, end)
