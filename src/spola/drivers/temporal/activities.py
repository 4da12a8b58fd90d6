"""The one activity: send an HTTP request the engine built and hand back the response as plain data.

It reuses the asyncio driver's ``send`` (same aiohttp session settings, OAuth2 token cache, transport
errors as response-less responses), so a request leaves a Temporal worker byte for byte as it leaves
``spola run``, under the run's own ``--allow-host`` patterns (the workflow passes them with each
request; the request, every redirect hop and what names resolve to are checked before connecting,
as in ``drive``). A regular (non-local) activity heartbeats while the request is in flight, so a worker
that dies is noticed within the heartbeat timeout rather than the request timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from temporalio import activity

from spola.core.actions import SendRequest
from spola.drivers.aio import HOSTS, make_session, send
from spola.drivers.snapshot import request_from_dict, response_to_dict
from spola.drivers.temporal.names import HTTP_ACTIVITY, MAX_BODY_BYTES
from spola.exchange import HttpResponse
from spola.hosts import HostPolicy

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_SESSIONS: dict[int, Any] = {}


def _session() -> Any:
    """One pooled aiohttp session per event loop (a worker process runs one loop)."""
    loop = asyncio.get_running_loop()
    session = _SESSIONS.get(id(loop))
    if session is None or session.closed:
        session = make_session(insecure=bool(_SETTINGS.get("insecure")))
        _SESSIONS[id(loop)] = session
    return session


_SETTINGS: dict[str, Any] = {}


def configure(*, insecure: bool = False) -> None:
    """Worker-wide settings for the activity (``spola worker --insecure``)."""
    _SETTINGS["insecure"] = insecure


@lru_cache(maxsize=256)
def _policy(patterns: tuple[str, ...]) -> HostPolicy:
    return HostPolicy(patterns)


@contextlib.contextmanager
def host_policy(patterns: Sequence[str] | None) -> Iterator[None]:
    """Apply a run's ``--allow-host`` patterns to the requests sent inside (none: any host but
    metadata addresses), exactly as ``spola.drivers.aio.drive`` does for an embedded run."""
    token = HOSTS.set(_policy(tuple(patterns or ())))
    try:
        yield
    finally:
        HOSTS.reset(token)


async def close_sessions() -> None:
    """Close the pooled sessions (worker shutdown)."""
    for session in list(_SESSIONS.values()):
        await session.close()
    _SESSIONS.clear()


def summarise(response: HttpResponse) -> dict[str, Any]:
    """The response as the workflow receives it; a body too large for Temporal becomes an error."""
    if len(response.body) > MAX_BODY_BYTES:
        response = HttpResponse(
            status=None,
            error=f"the response body ({len(response.body)} bytes, HTTP {response.status}) is larger than "
            f"the {MAX_BODY_BYTES} bytes a Temporal activity result may carry",
            elapsed=response.elapsed,
        )
    return response_to_dict(response)


async def _heartbeat(every: float) -> None:
    while True:
        await asyncio.sleep(every)
        activity.heartbeat()


@activity.defn(name=HTTP_ACTIVITY)
async def http_exchange(call: dict[str, Any]) -> dict[str, Any]:
    """Send ``call["request"]`` (an ``HttpRequest`` as plain data) within ``call["timeout"]`` seconds,
    to a host the run's ``call["allowHosts"]`` patterns allow."""
    action = SendRequest(
        call_id=0,
        request=request_from_dict(call["request"]),
        step_path=call.get("stepPath", ""),
        step_id=call.get("stepId", ""),
        attempt=int(call.get("attempt", 1)),
        idempotent=bool(call.get("idempotent", False)),
        timeout=float(call["timeout"]),
        max_bytes=int(call.get("maxBytes", MAX_BODY_BYTES)),
    )
    info = activity.info()
    beat: asyncio.Task[None] | None = None
    if not info.is_local and info.heartbeat_timeout:
        beat = asyncio.ensure_future(_heartbeat(max(0.2, info.heartbeat_timeout.total_seconds() / 3)))
    try:
        with host_policy(call.get("allowHosts")):
            response = await send(_session(), action)
    finally:
        if beat is not None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
    return summarise(response)
