"""Many runs of one workflow at once: ``spola.run_many`` / ``arun_many`` and the `Batch` behind ``--batch``.

Each row of inputs is one run. ``concurrency`` worker coroutines pull rows from one iterator, so
only that many runs (engine, driver coroutine, a timer while polling) exist at a time however
long the input is, and the server never sees more than that many of them at once. All runs share
one pooled aiohttp session (keep-alive connections per server) and, when journalled, one
group-commit `Journal`: thousands of runs cost a few SQLite commits, not one each.

A row that cannot start (unreadable, or inputs that do not match the schema) becomes a failed
result with the reason and never stops the others. Each run gets its own run id and a seed
derived from ``options.seed`` and its row index, so a batch is as reproducible as a single run.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from spola.api import make_options, new_run_id
from spola.core.engine import Run
from spola.core.report import RunError, RunResult
from spola.drivers.gate import StartGate
from spola.errors import SpolaError, UsageError
from spola.model import Document, load
from spola.model.roles import secret_input_names

if TYPE_CHECKING:
    import aiohttp

    from spola.core.actions import SendRequest
    from spola.drivers.pauses import Pacer
    from spola.exchange import HttpResponse
    from spola.model import Workflow
    from spola.options import RunOptions
    from spola.store import Journal, JournalStats, RunHeader

__all__ = ["Batch", "BatchCounts", "BadRow", "arun_many", "derive_seed", "run_many"]

_SEED_MASK = 0xFFFF_FFFF
_SPARE_FILES = 256  # file descriptors kept free for the journal, the document, stdio, …


class BadRow(Struct, frozen=True):
    """A row that could not be read (not JSON, not an object): it becomes a failed result."""

    message: str


Row = Mapping[str, Any] | BadRow
ResultCallback = Callable[[int, RunResult], None]


class BatchCounts(Struct):
    """Live tallies of a batch, read by progress displays."""

    total: int | None = None
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    interrupted: int = 0
    started_at: float = 0.0

    @property
    def done(self) -> int:
        """Runs that have a result."""
        return self.succeeded + self.failed + self.interrupted

    def rate(self, now: float) -> float:
        """Finished runs per second since the batch started."""
        elapsed = now - self.started_at
        return self.done / elapsed if elapsed > 0 else 0.0


def derive_seed(seed: int, index: int) -> int:
    """The seed of the run at ``index`` (0-based) in a batch whose options carry ``seed``."""
    return (seed + index) & _SEED_MASK


def connection_limit(concurrency: int) -> int:
    """A connector limit of at least ``concurrency``, unless the process may not open that many files."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return concurrency
    if soft == resource.RLIM_INFINITY:
        return concurrency
    return max(1, min(concurrency, soft - _SPARE_FILES))


def failed_result(workflow_id: str, message: str, run_id: str | None = None) -> RunResult:
    """The result of a row that never started: failed, no steps, the reason as the error."""
    return RunResult(
        run_id=run_id or new_run_id(),
        workflow_id=workflow_id,
        status="failed",
        outputs={},
        steps=(),
        error=RunError(None, message),
    )


class Batch:
    """Runs rows of inputs through one workflow, at most ``concurrency`` at a time.

    Args:
        document: the loaded document (with a ``path`` when ``store_path`` is given).
        workflow: the workflow every row runs.
        options: options shared by every run; each run's seed is derived from ``options.seed``.
        concurrency: runs in flight at once (≥ 1).
        store_path: journal every run into this store (None: in memory only).
        insecure: do not verify TLS certificates.
        base_inputs: inputs every row starts from; a row's own values win.
        secrets: inputs to treat as secret besides those the document declares or uses as credentials.
        on_result: called with (row index, result) as each run ends, in completion order.

    After `run`, ``counts`` holds the tallies and ``journal_stats`` what the journal's writer did.
    """

    def __init__(
        self,
        document: Document,
        workflow: Workflow,
        *,
        options: RunOptions,
        concurrency: int,
        store_path: str | None = None,
        insecure: bool = False,
        base_inputs: Mapping[str, Any] | None = None,
        secrets: Iterable[str] = (),
        on_result: ResultCallback | None = None,
    ) -> None:
        if concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, got {concurrency}")
        if store_path is not None and document.path is None:
            raise UsageError("journalling a batch needs a document loaded from a file")
        self.document = document
        self.workflow = workflow
        self.options = options
        self.concurrency = concurrency
        self.store_path = store_path
        self.insecure = insecure
        self.base_inputs = dict(base_inputs or {})
        self.secret_flags = tuple(secrets)
        # the same for every row: worked out once, not per run (a batch starts thousands)
        self._secret_inputs = secret_input_names(document, workflow, self.secret_flags)
        self.on_result = on_result
        self.counts = BatchCounts()
        self._stopping = False
        self._pacer: Pacer | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._journal: Journal | None = None
        self._document_id: tuple[str, str] = ("", "")
        self.journal_stats: JournalStats | None = None
        self._gate = StartGate()
        self._sender: Callable[[aiohttp.ClientSession, SendRequest], Awaitable[HttpResponse]] | None = None
        self._gated = concurrency > 1
        """One run at a time has no burst of starts or sends to spread: no gate, no pacer."""

    @property
    def stopping(self) -> bool:
        """True once `stop` was called."""
        return self._stopping

    def stop(self) -> None:
        """Start no more rows and interrupt the runs in flight (they end ``interrupted``)."""
        self._stopping = True
        current = asyncio.current_task()
        for worker in self._workers:
            if worker is not current:  # a worker stopping the batch (on_result) just returns
                worker.cancel()

    async def run(self, rows: Iterable[Row], total: int | None = None) -> None:
        """Run every row (until `stop`); results go to ``on_result`` as they come."""
        from spola.drivers.pauses import CollectorPolicy, Pacer

        self.counts.total = total
        self.counts.started_at = time.monotonic()
        if self.store_path is not None:
            await self._open_journal(self.store_path)
        queue = enumerate(rows)
        self._pacer = Pacer() if self._gated else None  # one run at a time has nothing to share
        try:
            with CollectorPolicy():
                await self._run_rows(queue)
        finally:
            self._workers = []
            if self._journal is not None:
                journal, self._journal = self._journal, None
                await journal.close()
                self.journal_stats = journal.stats

    async def _run_rows(self, queue: Iterator[tuple[int, Row]]) -> None:
        from spola.drivers.aio import HOSTS
        from spola.hosts import HostPolicy

        # the runs' common host policy, set once here: the workers' tasks inherit it, and `drive`
        # (which sets a run's policy when it differs) then gives no run a context of its own
        hosts = HOSTS.set(HostPolicy(self.options.allow_hosts))
        try:
            await self._run_workers(queue)
        finally:
            HOSTS.reset(hosts)

    async def _run_workers(self, queue: Iterator[tuple[int, Row]]) -> None:
        from spola.drivers.aio import make_session

        async with make_session(insecure=self.insecure, limit=connection_limit(self.concurrency)) as session:
            workers: list[asyncio.Task[None]] = []
            self._workers = workers
            try:
                # thousands of workers are started a slice per loop iteration, as the gate starts runs:
                # starting them all at once would hold the loop for the whole burst
                for _ in range(self.concurrency):
                    workers.append(asyncio.ensure_future(self._work(queue, session)))
                    if len(workers) % self._gate.per_tick == 0:
                        await asyncio.sleep(0)
                        if self._stopping or any(w.done() for w in workers[-self._gate.per_tick :]):
                            break  # out of rows (or stopped): no more workers needed
                _done, pending = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            except BaseException:  # this task was cancelled: stop the runs, then go
                self.stop()
                if workers:
                    await asyncio.wait(workers)
                raise
            if pending:  # a worker broke (the journal failed, a callback raised): stop the others
                self.stop()
                await asyncio.wait(pending)
            errors = [w.exception() for w in workers if not w.cancelled()]  # (retrieves them all)
            for error in errors:
                if error is not None:
                    raise error

    async def _open_journal(self, path: str) -> None:
        from spola.durable import document_digest
        from spola.store import Journal

        assert self.document.path is not None
        self._journal = await Journal.open(path)
        document = str(Path(self.document.path).resolve())
        self._document_id = (document, document_digest(document))

    async def _work(self, queue: Iterator[tuple[int, Row]], session: aiohttp.ClientSession) -> None:
        for index, row in queue:
            if self._stopping:
                return
            result = await self._one(index, row, session)
            if result is None:  # stopped before it started
                return
            self._tally(result)
            if self.on_result is not None:
                self.on_result(index, result)

    def _tally(self, result: RunResult) -> None:
        counts = self.counts
        if result.status == "succeeded":
            counts.succeeded += 1
        elif result.status == "interrupted":
            counts.interrupted += 1
        else:
            counts.failed += 1

    def _start(self, index: int, row: Row) -> Run | RunResult:
        workflow_id = self.workflow.workflow_id
        run_id = new_run_id()
        if isinstance(row, BadRow):
            return failed_result(workflow_id, row.message, run_id)
        if not isinstance(row, Mapping):
            return failed_result(workflow_id, f"a row must be an object of inputs, got {row!r}", run_id)
        given = {**self.base_inputs, **row}
        options = replace(self.options, seed=derive_seed(self.options.seed, index))
        try:
            return Run(
                self.document,
                workflow_id,
                given,
                options=options,
                run_id=run_id,
                started_at=time.time(),
                secret_inputs=self._secret_inputs,
            )
        except SpolaError as exc:  # the hint speaks of --input flags: not this row's fix
            where = str(exc.location)
            return failed_result(workflow_id, f"{where}: {exc.message}" if where else exc.message, run_id)

    async def _one(self, index: int, row: Row, session: aiohttp.ClientSession) -> RunResult | None:
        """Run one row; a journalled run holds its lease like a single run (see `spola.lease`)."""
        from spola.drivers.aio import RunInterrupted, drive, send
        from spola.lease import HELD, LeaseHolder, LeaseLost
        from spola.lease import acquire as acquire_lease

        # one run at a time sends straight away: no gate, no wrapper coroutine per request
        sender = self._gated_send(send) if self._gated else send

        if self._gated:
            try:
                await self._gate.enter()
            except asyncio.CancelledError:  # stopped while waiting to start: it never ran
                return None
        started = self._start(index, row)
        if isinstance(started, RunResult):
            return started
        run = started
        journal = self._journal
        holder: LeaseHolder | None = None
        result: RunResult | None = None
        lost = False
        self.counts.running += 1
        try:
            if journal is None:
                return await drive(run, session, sender=sender, pacer=self._pacer)
            from spola.drivers.journal import JournalHooks

            await journal.create_run(self._header(run))
            holder, _ = await acquire_lease(journal, run.run_id)
            HELD[run.run_id] = holder
            holder.start()  # one keeper renews every lease of the batch, in one statement
            if self._gated:  # runs whose records were committed together go on in slices
                await self._gate.enter()
            result = await drive(
                run, session, journal=JournalHooks(journal, run), sender=sender, pacer=self._pacer
            )
        except RunInterrupted as stop:
            result = stop.result
        except asyncio.CancelledError:  # stopped before the driver ran
            result = run.interrupt("interrupted before the run finished")
        except LeaseLost as exc:  # another process drives it now: nothing more is recorded from here
            lost = True
            result = failed_result(self.workflow.workflow_id, exc.message, run.run_id)
        finally:
            self.counts.running -= 1
            if journal is not None and result is not None and not lost:
                from spola.durable import record_end

                record_end(journal, result)  # queued before the lease goes: a resume then sees it ended
            if holder is not None:  # however it ended, a journal that failed included (the batch stops)
                HELD.pop(run.run_id, None)
                await holder.release()
        return result

    def _gated_send(
        self, send: Callable[[aiohttp.ClientSession, SendRequest], Awaitable[HttpResponse]]
    ) -> Callable[[aiohttp.ClientSession, SendRequest], Awaitable[HttpResponse]]:
        """``send`` through the start gate (made once per batch, shared by its runs).

        When thousands of runs wake at once (their journal records were committed together, their
        poll timers fell due together), their sends spread over loop iterations instead of holding
        the loop for the whole wave.
        """
        if self._sender is None:
            gate = self._gate

            async def gated(session: aiohttp.ClientSession, action: SendRequest) -> HttpResponse:
                await gate.enter()
                return await send(session, action)

            self._sender = gated
        return self._sender

    def _header(self, run: Run) -> RunHeader:
        from spola.durable import run_header

        document, digest = self._document_id
        return run_header(run, document, digest, _secret_names(run, self.workflow))


def _secret_names(run: Run, workflow: Workflow) -> frozenset[str]:
    return run.secret_inputs


async def arun_many(
    document: str | Path | Document,
    workflow_id: str | None,
    inputs_list: Iterable[Row],
    *,
    options: RunOptions | None = None,
    concurrency: int = 10,
    store_path: str | Path | None = None,
    insecure: bool = False,
    on_result: ResultCallback | None = None,
    allow_remote: bool = False,
    **option_args: Any,
) -> list[RunResult]:
    """Run one workflow once per inputs mapping, up to ``concurrency`` at a time; results in input order.

    ``on_result(index, result)`` is called as each run ends (completion order). A row whose inputs
    are invalid, or a `BadRow`, yields a failed result and the others go on. Extra keyword
    arguments (``servers``, ``auth``, ``poll_interval``, …) build the options when ``options`` is
    not given; each run's seed is ``derive_seed(options.seed, index)``.

    Raises:
        DocumentError, WorkflowNotFound: nothing can run. UsageError: ``concurrency`` < 1.
    """
    doc = document if isinstance(document, Document) else load(document, allow_remote=allow_remote)
    workflow = doc.workflow(workflow_id) if workflow_id else doc.default_workflow()
    rows = list(inputs_list)
    results: list[RunResult | None] = [None] * len(rows)

    def collect(index: int, result: RunResult) -> None:
        results[index] = result
        if on_result is not None:
            on_result(index, result)

    batch = Batch(
        doc,
        workflow,
        options=options or make_options(**option_args),
        concurrency=concurrency,
        store_path=None if store_path is None else os.fspath(store_path),
        insecure=insecure,
        on_result=collect,
    )
    await batch.run(rows, total=len(rows))
    return [r if r is not None else failed_result(workflow.workflow_id, "not started") for r in results]


def run_many(
    document: str | Path | Document,
    workflow_id: str | None,
    inputs_list: Iterable[Row],
    **kwargs: Any,
) -> list[RunResult]:
    """Blocking `arun_many`: run the workflow once per inputs mapping and return every result."""
    return asyncio.run(arun_many(document, workflow_id, inputs_list, **kwargs))
