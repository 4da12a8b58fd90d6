"""Fast poll loops inside one heartbeating activity, as Temporal's own polling guidance advises.

A step re-polled with no wait (or less than a second) would cost one activity, or at least one
marker event and a workflow activation, per poll: a few hundred polls a second at best, and a
history that fills quickly. When the workflow sees such a loop it hands the run's snapshot to this
activity, which restores the same ``Run`` and drives it with the asyncio driver's ``send`` —
criteria, actions and outputs evaluated by the same engine code — for as long as the run only asks
for *safe* requests (GET, PUT, … or an idempotency key) with sub-second waits. It hands the
snapshot back as soon as the run asks for a request that is not safe to repeat, wants to wait a
second or more (a durable timer in the workflow is then the right tool), finishes, or has used its
time budget. It heartbeats the snapshot as it goes: after a crash the next attempt resumes from the
last heartbeat, and what it repeats are safe polls only. Its requests go only where the run's
``--allow-host`` patterns allow, as everywhere else.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from spola.core.actions import Finish, SendRequest, Wait
from spola.drivers.aio import send
from spola.drivers.snapshot import (
    SnapshotError,
    event_to_dict,
    options_from_dict,
    owed_requests,
    restore,
    snapshot,
)
from spola.drivers.temporal.activities import _session, host_policy
from spola.drivers.temporal.names import BURST_ACTIVITY, EVENT_BUFFER
from spola.model.bundle import Bundle, load_bundle

HEARTBEAT_EVERY = 1.0


@activity.defn(name=BURST_ACTIVITY)
async def poll_burst(job: dict[str, Any]) -> dict[str, Any]:
    """Drive the run from ``job["snapshot"]`` through a fast, safe poll loop; return where it got to."""
    details = activity.info().heartbeat_details
    state = details[0] if details else job["snapshot"]
    document = load_bundle(Bundle.from_dict(job["bundle"]), job["workflowId"])
    run = restore(
        document,
        state,
        workflow_id=job["workflowId"],
        inputs=job.get("inputs") or {},
        options=options_from_dict(job["options"]),
        secret_inputs=frozenset(job.get("secretInputs", ())),
    )
    run.observed = True
    local_below = float(job["localBelow"])
    budget = time.monotonic() + float(job.get("maxSeconds", 30.0))
    events: list[dict[str, Any]] = []
    sent = 0
    beat_at = time.monotonic() + HEARTBEAT_EVERY
    sends: list[SendRequest] = owed_requests(run)

    def collect() -> None:
        events.extend(event_to_dict(e) for e in run.drain_events())
        if len(events) > EVENT_BUFFER:
            del events[: len(events) - EVENT_BUFFER]

    def pause() -> dict[str, Any]:
        collect()
        return {"snapshot": snapshot(run), "result": None, "events": events, "sent": sent}

    with host_policy(run.options.allow_hosts):
        try:
            while True:
                if any(not s.idempotent for s in sends) or (sends and time.monotonic() > budget):
                    return pause()
                if sends:
                    responses = await asyncio.gather(*(send(_session(), s) for s in sends))
                    sent += len(sends)
                    received_at = time.time()
                    for action, response in zip(sends, responses, strict=True):
                        run.receive(action.call_id, response, received_at)
                now = time.time()
                actions = run.next_actions(now)
                collect()
                sends = [a for a in actions if isinstance(a, SendRequest)]
                finish = next((a for a in actions if isinstance(a, Finish)), None)
                if finish is not None:
                    return {
                        "snapshot": None,
                        "result": finish.result.to_dict(),
                        "events": events,
                        "sent": sent,
                    }
                if time.monotonic() >= beat_at:
                    activity.heartbeat(snapshot(run))
                    beat_at = time.monotonic() + HEARTBEAT_EVERY
                if not sends:
                    waits = [a.until for a in actions if isinstance(a, Wait)]
                    delay = max(0.0, min(waits) - now) if waits else local_below
                    if delay >= local_below or time.monotonic() + delay > budget:
                        return pause()
                    await asyncio.sleep(delay)
        except SnapshotError as exc:
            raise ApplicationError(f"cannot hand the run back: {exc}", non_retryable=True) from exc
