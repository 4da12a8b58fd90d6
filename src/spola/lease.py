"""Leases: one owner drives a journalled run at a time, so a trigger is sent once by construction.

A driver takes the run's lease (a row in the store, read-checked-written in one ``BEGIN IMMEDIATE``
transaction) before it sends anything, a keeper task renews it while the run is driven, and it is
released at the end. Another process may take the lease over only once it is *stale*: expired
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from spola.errors import EXIT_LEASE_LOST, ResumeRefused, SpolaError, StoreError
from spola.store.records import LeaseRecord, iso_utc

if TYPE_CHECKING:
    from collections.abc import Mapping

    from spola.store.journal import Journal

__all__ = [
    "HELD",
    "LEASE_TTL_SECONDS",
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


@dataclass
class LeaseHolder:
    """This process's lease on one run: renewed by `keep`, checked by `check` before every send."""

    journal: Journal
    run_id: str
    ttl: float
    expires_at: float
    owner: str
    lost: bool = False
    sent: int = 0
    """Requests sent by this process while it held the lease."""
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def check(self) -> None:
        """Before a send: raise `LeaseLost` unless this process still holds the lease.

        Within the margin of its own expiry it renews first (one committed write), so a process
        that was stopped past its expiry learns from the store whether it was taken over.
        """
        if self.lost:
            raise self._lost()
        if time.time() < self.expires_at - self.ttl / 3:
            return
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
        """Start the keeper task."""
        self._task = asyncio.ensure_future(self._keep())

    async def _keep(self) -> None:
        while not self.lost:
            await asyncio.sleep(self.ttl / 3)
            with contextlib.suppress(StoreError):  # a failed renewal is retried; check() decides
                await self.renew()

    async def release(self) -> None:
        """Stop the keeper and give the lease up (unless it was lost to another owner)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if not self.lost:
            with contextlib.suppress(StoreError):
                await self.journal.release_lease(self.run_id, self.owner)

    def _lost(self) -> LeaseLost:
        return LeaseLost(
            f"run {self.run_id} was taken over by another process after this one's lease expired "
            "(was this process stopped?); nothing more is sent from here",
            hint="spola runs show RUN tells who drives it now.",
        )


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
    taken, previous = await journal.acquire_lease(lease, lambda held: not lease_is_stale(held))
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
