"""Cancelling runs: in this process (``CancelSignal``) or one another spola process drives (``acancel``).

In-process (what the CLI's Ctrl-C and an MCP server use)::

    signal = spola.CancelSignal()
    task = asyncio.create_task(spola.arun(doc, inputs=..., cancel=signal))
    signal.set("the client cancelled")      # stops the run, runs the document's x-spola-cancel workflow
    result = await task                     # result.status == "cancelled"; result.cancel: its outcome

Across processes (``spola cancel RUN_ID``): ``acancel`` writes a ``cancel-requested`` event to the run's
journal; the process driving the run polls for it (``watch_cancel_requests``), stops the run and runs
its cancel workflow, and ``acancel`` waits for the run to end. A run whose process is gone (crashed,
killed) is marked ``cancelled`` directly.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from spola.drivers.cancel import (
    REQUEST_KIND,
    CancelSignal,
    drive_cancellable,
    run_cancel_workflow,
    watch_cancel_requests,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from spola.options import Credential
    from spola.store import Journal
    from spola.store.records import RunRecord

__all__ = [
    "CancelOutcome",
    "CancelSignal",
    "acancel",
    "cancel",
    "drive_cancellable",
    "run_cancel_workflow",
    "watch_cancel_requests",
]


class CancelOutcome(Struct, frozen=True):
    """What ``acancel`` did: ``action`` is ``requested`` (the driving process stopped the run),
    ``marked`` (no live process: marked cancelled), ``finished`` (the run had already ended), or
    ``unanswered`` (requested, but the run had not ended within ``wait``)."""

    run_id: str
    action: str
    status: str
    message: str
    cancel: dict[str, Any] | None = field(default=None)

    @property
    def cancelled(self) -> bool:
        """Whether the run is cancelled now."""
        return self.status == "cancelled"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``spola cancel --json``)."""
        return {
            "runId": self.run_id,
            "action": self.action,
            "status": self.status,
            "message": self.message,
            "cancel": self.cancel,
        }


def _owner_alive(record: RunRecord) -> bool:
    from spola.durable import _alive_spola

    pid = record.header.options.get("pid")
    host = record.header.options.get("host")
    if not isinstance(pid, int) or (isinstance(host, str) and host != socket.gethostname()):
        return False
    return pid == os.getpid() or _alive_spola(pid)


async def acancel(
    run_id: str,
    *,
    store_path: str | None = None,
    reason: str = "cancelled with spola cancel",
    wait: float = 120.0,
    poll: float = 0.2,
    inputs: Mapping[str, Any] | None = None,
    credentials: Sequence[Credential] = (),
    servers: Mapping[str, str] | None = None,
    insecure: bool = False,
) -> CancelOutcome:
    """Cancel a journalled run (id or unique prefix) that this or another process drives.

    A live driver is asked through the store and stops the run, running its cancel workflow; this waits
    up to ``wait`` seconds for the run to end. A run whose driver is gone (or that was interrupted) is
    marked ``cancelled`` here, after its cancel workflow ran from this process: the journal is replayed
    to know what the run had produced, so secret ``inputs`` and ``credentials`` must be given again
    (as for resume); without them the cancel workflow is not run and the outcome says why.

    Raises:
        StoreError: no such run (or an ambiguous prefix), the store cannot be opened.
    """
    from spola.store import Journal
    from spola.store.records import EventRecord

    journal = await Journal.open(store_path)
    try:
        record = await journal.get_run(run_id)
        full = record.header.run_id
        if record.status in ("succeeded", "failed", "cancelled"):
            return CancelOutcome(full, "finished", record.status, f"run {full} already {record.status}")
        by = {"pid": os.getpid(), "host": socket.gethostname()}
        journal.event(EventRecord(full, REQUEST_KIND, time.time(), {"reason": reason, "by": by}))
        await journal.flush()
        from spola.lease import HELD, acquire, lease_is_stale

        lease = await journal.get_lease(full)
        alive = _owner_alive(record) if lease is None else not lease_is_stale(lease)
        if record.status == "running" and alive:
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                await asyncio.sleep(poll)
                record = await journal.get_run(full)
                if record.status != "running":
                    break
            else:
                owner = lease.pid if lease is not None else record.header.options.get("pid")
                return CancelOutcome(
                    full, "unanswered", record.status,
                    f"asked process {owner} to cancel run {full}, but the run had not ended after {wait:g} s",
                )  # fmt: skip
            finished = await journal.last_event(full, "cancel-finished")
            cancel_data = (
                dict(finished.data) if finished is not None and finished.at >= by_time(record) else None
            )
            error = record.error or {}
            return CancelOutcome(
                full, "requested", record.status, str(error.get("message") or f"run {full} {record.status}"),
                cancel_data,
            )  # fmt: skip
        gone = "its process is gone" if record.status == "running" else f"it was {record.status}"
        # take the lease first, so that no resume drives the run while it is cancelled from here
        holder, _ = await acquire(journal, full)
        HELD[full] = holder
        try:
            record = await journal.get_run(full)
            if record.status in ("succeeded", "failed", "cancelled"):
                return CancelOutcome(full, "finished", record.status, f"run {full} already {record.status}")
            report, why_not = await _cancel_remote(
                journal, record, reason, inputs, credentials, servers, insecure
            )
        finally:
            HELD.pop(full, None)
            await holder.release()
        if report is not None:
            message = f"run {full} marked cancelled ({gone}); spola ran its cancel workflow here"
        elif why_not:
            message = (
                f"run {full} marked cancelled ({gone}); its cancel workflow was not run ({why_not}), "
                "so remote work it started may still be going"
            )
        else:
            message = f"run {full} marked cancelled ({gone}); its workflow names no cancel workflow"
        journal.finish(full, "cancelled", record.outputs, {"stepId": None, "message": f"cancelled: {reason}"},
                       time.time())  # fmt: skip
        await journal.flush()
        return CancelOutcome(full, "marked", "cancelled", message, report)
    finally:
        await journal.close()


async def _cancel_remote(
    journal: Journal,
    record: RunRecord,
    reason: str,
    inputs: Mapping[str, Any] | None,
    credentials: Sequence[Credential],
    servers: Mapping[str, str] | None,
    insecure: bool,
) -> tuple[dict[str, Any] | None, str | None]:
    """Run a dead run's cancel workflow from here: (its report, None) or (None, why it did not run)."""
    from spola.drivers.aio import make_session
    from spola.durable import fresh_engine, logins_withheld, rebuild, replay_reliving
    from spola.errors import SpolaError
    from spola.lease import HELD
    from spola.model.cancel import cancel_spec

    try:
        run, _ = rebuild(record, inputs=inputs, credentials=credentials, servers=servers, force=True)
        if cancel_spec(run.document, run.root.workflow) is None:
            return None, None
        if logins_withheld(run, record):  # a login's token is never stored: log in again, as resume does
            run = fresh_engine(record, inputs=inputs, credentials=credentials, servers=servers)
            holder = HELD.get(record.header.run_id)
            await replay_reliving(run, record, journal, holder, force=True, insecure=insecure)
    except SpolaError as exc:
        return None, str(exc)
    run.interrupt(f"cancelled: {reason}")
    async with make_session(insecure=insecure) as session:
        report = await run_cancel_workflow(run, session, reason=reason, store=journal)
    return (report.to_dict() if report is not None else None), None


def by_time(record: RunRecord) -> float:
    """When the run's current stretch started (its start, or its last resume)."""
    resumed = [e.at for e in record.events if e.kind == "resumed"]
    return max([record.header.started_at, *resumed])


def cancel(run_id: str, **kwargs: Any) -> CancelOutcome:
    """Blocking ``acancel``."""
    return asyncio.run(acancel(run_id, **kwargs))
