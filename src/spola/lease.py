"""Leases: one owner drives a journalled run at a time, so a trigger is sent once by construction.

A driver takes the run's lease (a row in the store, read-checked-written in one ``BEGIN IMMEDIATE``
transaction) before it sends anything, a keeper task renews it while the run is driven, and it is
released at the end. One keeper task per journal renews every lease the process holds there in
one statement (a batch of 10,000 runs costs one write every few seconds, not 10,000). Another
process may take the lease over only once it is *stale*: expired
(its owner stopped renewing) or, on the same host, held by a process that no longer exists. Before
every send the driver checks it still holds the lease; once its own expiry has passed it asks the
store, and a lease taken over in the meantime (the process was stopped, ``SIGSTOP``, and resumed)
stops the run before anything more is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from spola.errors import EXIT_LEASE_LOST, ResumeRefused, SpolaError, StoreError, StoreLocked
from spola.store.records import LeaseRecord, iso_utc
from spola.structs import repr_without

if TYPE_CHECKING:
    from collections.abc import Mapping

    from spola.store.journal import Journal

__all__ = [
    "HELD",
    "LEASE_TTL_SECONDS",
    "LeaseKeeper",
    "LeaseLost",
    "LeaseHolder",
    "acquire",
    "lease_is_stale",
    "lease_ttl",
    "run_state",
]

LEASE_TTL_SECONDS = 30.0
"""How long a lease lasts without renewal; the keeper renews it every third of that."""

HELD: dict[str, LeaseHolder] = {}
"""The leases this process holds, by run id: what the journal hooks check before each send."""

HOST = socket.gethostname()


class LeaseLost(SpolaError):
    """Another process took the run over (this one's lease expired): nothing more is sent from here."""

    exit_status = EXIT_LEASE_LOST


def lease_ttl(env: Mapping[str, str] = os.environ) -> float:
    """The lease TTL: `LEASE_TTL_SECONDS`, or ``SPOLA_LEASE_TTL`` (seconds; meant for tests)."""
    raw = env.get("SPOLA_LEASE_TTL")
    if raw:
        try:
            value = float(raw)
        except ValueError:
            return LEASE_TTL_SECONDS
        if value > 0:
            return value
    return LEASE_TTL_SECONDS


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process on this machine (this one included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # A zombie is dead, only not reaped. Any other live process counts: a reused pid only means
    # waiting for the lease to expire, while taking over a live driver would send twice.
    return ") Z " not in status


def lease_is_stale(lease: LeaseRecord, now: float | None = None) -> bool:
    """A lease nobody holds any more: expired, or (same host) its process is gone."""
    if lease.expires_at <= (time.time() if now is None else now):
        return True
    return lease.host == HOST and not pid_alive(lease.pid)


def why_stale(lease: LeaseRecord) -> str:
    """How a stale lease ended, for the take-over message."""
    if lease.host == HOST and not pid_alive(lease.pid):
        return f"whose process is gone (its lease would have expired at {iso_utc(lease.expires_at)})"
    return f"whose lease expired at {iso_utc(lease.expires_at)}"


class LeaseHolder(Struct):
    """This process's lease on one run: renewed by its journal's `LeaseKeeper`, checked before each send."""

    journal: Journal
    run_id: str
    ttl: float
    expires_at: float
    owner: str
    lost: bool = False
    sent: int = 0
    """Requests sent by this process while it held the lease."""
    _keeper: LeaseKeeper | None = None

    def __repr__(self) -> str:  # as the dataclass repr was: the keeper left out
        return repr_without(self, frozenset({"_keeper"}))

    def due(self) -> bool:
        """Whether `check` has anything to do before a send (the lease was lost, or its expiry is
        within the renewal margin); False in the common case, which then needs no coroutine."""
        return self.lost or time.time() >= self.expires_at - self.ttl / 3

    async def check(self) -> None:
        """Before a send: raise `LeaseLost` unless this process still holds the lease.

        Within the margin of its own expiry it renews first (one committed write), so a process
        that was stopped past its expiry learns from the store whether it was taken over.
        """
        if not self.due():
            return
        if self.lost:
            raise self._lost()
        await self.renew()
        if self.lost:
            raise self._lost()

    async def renew(self) -> None:
        """Extend the lease, or note it was lost."""
        expires = time.time() + self.ttl
        if await self.journal.renew_lease(self.run_id, self.owner, expires):
            self.expires_at = expires
        else:
            self.lost = True

    def start(self) -> None:
        """Have this journal's keeper renew the lease until `release`."""
        self._keeper = LeaseKeeper.of(self.journal, self.ttl)
        self._keeper.add(self)

    async def release(self) -> None:
        """Stop renewing and give the lease up (unless it was lost to another owner)."""
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            await keeper.remove(self)
        if not self.lost:
            with contextlib.suppress(StoreError):
                await self.journal.release_lease(self.run_id, self.owner)

    def _lost(self) -> LeaseLost:
        return LeaseLost(
            f"run {self.run_id} was taken over by another process after this one's lease expired "
            "(was this process stopped?); nothing more is sent from here",
            hint="spola runs show RUN tells who drives it now.",
        )


class LeaseKeeper:
    """Renews every lease this process holds in one journal (with one TTL): one task, one statement.

    Every third of the TTL it extends all of them with one ``UPDATE … RETURNING``; a lease missing
    from what it returns was taken over by another process, and its holder is marked lost (its
    next send raises `LeaseLost`). The task ends when the last holder is released.
    """

    def __init__(self, journal: Journal, ttl: float) -> None:
        """A keeper for ``journal``'s leases of ``ttl`` seconds (use `LeaseKeeper.of`)."""
        self.journal = journal
        self.ttl = ttl
        self.holders: dict[str, LeaseHolder] = {}
        self.renewals = 0
        """Statements run to renew leases: one per round, however many leases."""
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, journal: Journal, ttl: float) -> LeaseKeeper:
        """The keeper of ``journal``'s leases of ``ttl`` seconds, made on first use."""
        keepers = _KEEPERS.setdefault(journal, {})
        keeper = keepers.get(ttl)
        if keeper is None:
            keeper = keepers[ttl] = cls(journal, ttl)
        return keeper

    def add(self, holder: LeaseHolder) -> None:
        """Renew ``holder``'s lease from now on (starting the task if it is the first)."""
        self.holders[holder.run_id] = holder
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._keep())

    async def remove(self, holder: LeaseHolder) -> None:
        """Stop renewing ``holder``'s lease; the last one out stops the task."""
        if self.holders.get(holder.run_id) is holder:
            del self.holders[holder.run_id]
        if not self.holders and self._task is not None:
            keepers = _KEEPERS.get(self.journal)
            if keepers is not None and keepers.get(self.ttl) is self:
                del keepers[self.ttl]  # a lease taken from now on gets a new keeper
            task, self._task = self._task, None
            if task is not asyncio.current_task():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def renew(self) -> None:
        """Extend every live lease held here in one statement; mark the ones taken over as lost."""
        held = [h for h in self.holders.values() if not h.lost]
        if not held:
            return
        expires = time.time() + self.ttl
        self.renewals += 1
        renewed = await self.journal.renew_leases([(h.run_id, h.owner) for h in held], expires)
        for holder in held:
            if self.holders.get(holder.run_id) is not holder:
                continue  # released meanwhile
            if holder.run_id in renewed:
                holder.expires_at = max(holder.expires_at, expires)
            else:
                holder.lost = True

    async def _keep(self) -> None:
        while self.holders:
            await asyncio.sleep(self.ttl / 3)
            with contextlib.suppress(StoreError):  # a failed renewal is retried; check() decides
                await self.renew()


_KEEPERS: weakref.WeakKeyDictionary[Journal, dict[float, LeaseKeeper]] = weakref.WeakKeyDictionary()
"""Each journal's keepers, by lease TTL."""


async def acquire(
    journal: Journal, run_id: str, *, ttl: float | None = None
) -> tuple[LeaseHolder, str | None]:
    """Take the run's lease before anything is sent; returns it and a take-over notice, if any.

    Raises:
        ResumeRefused: another process holds a live lease (the message names its host, pid and
            when the lease expires).
    """
    span = lease_ttl() if ttl is None else ttl
    now = time.time()
    owner = uuid.uuid4().hex  # one per driver: a second driver in this process is refused too
    lease = LeaseRecord(run_id, owner, HOST, os.getpid(), now, now + span)
    try:
        taken, previous = await journal.acquire_lease(lease, lambda held: not lease_is_stale(held))
    except StoreLocked as exc:
        raise await _locked(journal, run_id, exc) from exc
    if not taken:
        assert previous is not None
        raise ResumeRefused(
            f"run {run_id} is still running in process {previous.pid} on host {previous.host} "
            f"(its lease, renewed while it runs, expires at {iso_utc(previous.expires_at)})",
            hint=f"Stop it first (kill -INT {previous.pid} on {previous.host}), or wait for it to finish.",
        )
    notice = None
    if previous is not None:
        notice = (
            f"took over run {run_id} from pid {previous.pid} on host {previous.host}, {why_stale(previous)}"
        )
    return LeaseHolder(journal, run_id, span, lease.expires_at, owner), notice


async def _locked(journal: Journal, run_id: str, exc: StoreLocked) -> StoreLocked:
    """Why the lease could not be taken: the store's write lock, and who last held the run (a read
    needs no write lock, so it still answers)."""
    message = f"cannot take the lease of run {run_id}, nothing was sent: {exc.message}"
    with contextlib.suppress(StoreError):
        held = await journal.get_lease(run_id)
        if held is not None:
            when = "expired" if held.expires_at <= time.time() else "expires"
            message += (
                f"; the run's lease was last held by pid {held.pid} on host {held.host} "
                f"(it {when} at {iso_utc(held.expires_at)})"
            )
            return StoreLocked(
                message,
                hint=f"If pid {held.pid} on {held.host} is stopped, continue it (kill -CONT {held.pid}) "
                "or end it, then resume again.",
            )
    return StoreLocked(message, hint=exc.hint)


def run_state(status: str, lease: LeaseRecord | None, options: Mapping[str, object]) -> str:
    """The status to show: a ``running`` run whose owner is gone is ``stale`` (see `lease_is_stale`).

    A run journalled before leases (no lease row) is judged by the pid and host it recorded.
    """
    if status != "running":
        return status
    if lease is not None:
        return "stale" if lease_is_stale(lease) else status
    pid, host = options.get("pid"), options.get("host")
    if isinstance(pid, int) and host == HOST and not pid_alive(pid):
        return "stale"
    return status
