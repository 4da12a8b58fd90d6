"""The asyncio driver: sends the engine's requests with aiohttp and sleeps its waits.

``drive()`` is the whole loop (like an h11 example client). Transport failures (refused, reset,
timeout) become response-less ``HttpResponse``s so the document's ``onFailure`` actions can handle
them; they never escape as exceptions.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import socket
import time
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from msgspec import Struct
from yarl import URL

from spola import __version__
from spola.core.actions import Finish, SendRequest, Wait
from spola.drivers import deadlines, killpoint
from spola.drivers.oauth import TokenCache, TokenError
from spola.exchange import REFUSED_PREFIX, HttpRequest, HttpResponse
from spola.hosts import HostPolicy, HostRefused
from spola.redact import is_credential_header

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from spola.core.engine import Run
    from spola.core.events import Observer
    from spola.core.report import RunResult
    from spola.drivers.pauses import Pacer

USER_AGENT = f"spola/{__version__}"


class Journal(Protocol):
    """What a driver tells a durable journal (see ``spola.drivers.journal``).

    Each hook does what it can at once and returns None, or returns what the driver must await
    before it goes on (a commit, a lease check): a poll's hooks usually have nothing to wait for,
    and a coroutine per hook per request would cost more than what they do.
    """

    def before_send(self, action: SendRequest, now: float) -> Awaitable[None] | None:
        """Make the intent durable before the request goes out."""

    def after_receive(
        self, action: SendRequest, response: HttpResponse, now: float
    ) -> Awaitable[None] | None:
        """Record the response as received."""


ANY_HOST = HostPolicy()
HOSTS: contextvars.ContextVar[HostPolicy] = contextvars.ContextVar("spola_hosts", default=ANY_HOST)
"""The host policy of the run being driven (``drive`` sets it from the run's ``allow_hosts``)."""

KEEPALIVE_SECONDS = 4.0
"""Idle pooled connections are closed after this long: below common server keep-alive timeouts
(uvicorn 5 s, nginx 75 s), so spola rarely writes into a connection the server is closing."""


class _HostError(aiohttp.ClientError):
    """Raised inside aiohttp (middleware, resolver) when the host policy refuses a hop."""


class _CheckedResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then refuses metadata addresses nobody named."""

    def __init__(self) -> None:
        self._inner = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        policy = HOSTS.get()
        for result in results:
            try:
                policy.check_address(host, result["host"], port)
            except HostRefused as exc:
                raise _HostError(exc.message) from None
        return results

    async def close(self) -> None:
        await self._inner.close()


_CREDENTIALS: contextvars.ContextVar[tuple[str, frozenset[str]] | None] = contextvars.ContextVar(
    "spola_credentials", default=None
)
"""The origin a request's credentials belong to and the (lower-case) headers that carry them."""


def _origin(url: URL) -> str:
    return f"{url.scheme}://{url.host}:{url.explicit_port or url.port}"


_checked: tuple[HostPolicy, URL] | None = None
"""The URL ``send`` last checked itself and the policy it checked it under: the middleware does not
check that very URL object again under that very policy (any other hop, a redirect included, and
any other task's request, is checked in full)."""


async def _check_hop(req: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
    """Client middleware: every hop (the request and each redirect) is checked before it connects,
    and a hop to another origin leaves behind every credential header spola added."""
    policy = HOSTS.get()
    checked = _checked
    if checked is None or checked[1] is not req.url or checked[0] is not policy:
        try:
            policy.check_url(str(req.url))
        except HostRefused as exc:
            raise _HostError(exc.message) from None
    credentials = _CREDENTIALS.get()
    if credentials is not None and _origin(req.url) != credentials[0]:
        for name in [n for n in req.headers if n.lower() in credentials[1]]:
            del req.headers[name]
    response: aiohttp.ClientResponse = await handler(req)
    return response


def make_session(*, insecure: bool = False, limit: int = 100) -> aiohttp.ClientSession:
    """A pooled keep-alive client session suitable for many concurrent runs.

    Every hop is checked against the host policy of the run being driven (``HOSTS``), names after
    resolution too; aiohttp's silent re-send of an idempotent request on a stale keep-alive
    connection is turned off, so every request on the wire is one the journal recorded (spola's
    own, journalled retries handle the failure instead).
    """
    connector = aiohttp.TCPConnector(
        limit=limit,
        ssl=not insecure,
        ttl_dns_cache=300,
        keepalive_timeout=KEEPALIVE_SECONDS,
        resolver=_CheckedResolver(),
    )
    session = aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": USER_AGENT},
        auto_decompress=True,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("Content-Type",),
        middlewares=(_check_hop,),
    )
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session


MARK_BYTES = 64 * 1024
"""How much of a response over the size limit is kept (in the result and the journal)."""


async def _read_bounded(resp: aiohttp.ClientResponse, limit: int) -> tuple[bytes, str | None]:
    """The body, or its first ``MARK_BYTES`` and an error when it is larger than ``limit`` bytes."""
    declared = resp.content_length
    if declared is not None and declared <= limit and "Content-Encoding" not in resp.headers:
        return await resp.read(), None  # a declared size within bounds, not to be inflated: read it whole
    chunks: list[bytes] = []
    total = 0
    if declared is None or declared <= limit:
        async for chunk in resp.content.iter_chunked(256 * 1024):
            total += len(chunk)
            if total > limit:
                break
            chunks.append(chunk)
        else:
            return b"".join(chunks), None
    else:
        total = declared
    head = b"".join(chunks)[:MARK_BYTES]
    while len(head) < MARK_BYTES:
        more = await resp.content.read(MARK_BYTES - len(head))
        if not more:
            break
        head += more
    size = f"{declared} bytes" if declared is not None else f"more than {limit} bytes"
    return head, (
        f"the response body is {size}, over the limit of {limit} bytes (--max-response-bytes); "
        f"it was not read further and only its first {len(head)} bytes are kept"
    )


TOKENS = TokenCache()


_UNTIMED = aiohttp.ClientTimeout()
"""No limit of aiohttp's own: a request's time limit is kept by `spola.drivers.deadlines`."""


def _late(action: SendRequest) -> str:
    """Why a request over its time limit has no response."""
    return f"no response within {action.timeout:g} s"


class _Prepared(Struct, frozen=True, gc=False):
    """A request, the URL to send it to and the (lower-case) names of its headers that carry
    credentials. Untracked by the cyclic collector: it refers to nothing that refers back to it."""

    request: HttpRequest
    url: URL
    carried: frozenset[str]


_CARRIED: dict[frozenset[str], frozenset[str]] = {}
"""Each set of credential header names once (a batch's requests carry the same few sets)."""


def _prepare(request: HttpRequest, headers: Sequence[tuple[str, str]]) -> _Prepared:
    """Where ``request`` goes and which of ``headers`` carry credentials."""
    url = URL(request.url, encoded=True)
    if url.user is not None and any(name.lower() == "authorization" for name, _ in headers):
        url = url.with_user(None)  # the request's own Authorization wins over userinfo in the URL
    carried = frozenset(
        name.lower()
        for name, value in headers
        if is_credential_header(name) or any(secret and secret in value for secret in request.secrets)
    )
    if len(_CARRIED) >= _PREPARED_MAX:
        _CARRIED.clear()
    return _Prepared(request, url, _CARRIED.setdefault(carried, carried))


_prepared: dict[int, _Prepared] = {}
"""`_prepare`'s answer for a request sent before, by ``id``: a poll sends the same request object
again and again. The entry holds the request itself, so an ``id`` reused by another object does
not match. Only requests without OAuth grants or body are kept (their headers are the request's own,
their size small), in memory only; the dict is emptied when it holds `_PREPARED_MAX`. A waiting
run's entry adds one object to the collector's count (the URL)."""
_PREPARED_MAX = 4096


async def send(session: aiohttp.ClientSession, action: SendRequest) -> HttpResponse:
    """Send one request; transport failures are returned as a response with ``status=None``."""
    global _checked  # noqa: PLW0603
    request = action.request
    started = time.perf_counter()
    policy = HOSTS.get()
    try:
        policy.check_url(request.url)
    except HostRefused as exc:
        return HttpResponse(status=None, error=REFUSED_PREFIX + exc.message, elapsed=0.0)
    tokens: list[str] = []
    headers: Sequence[tuple[str, str]] = request.headers
    if request.grants:
        headers = list(request.headers)
        try:
            for grant in request.grants:
                token = await TOKENS.token(session, grant, action.timeout)
                tokens.append(token)
                headers.append(("Authorization", f"Bearer {token}"))
        except TokenError as exc:
            return HttpResponse(status=None, error=str(exc), elapsed=time.perf_counter() - started)
        prepared = _prepare(request, headers)
    elif request.body is not None:
        prepared = _prepare(request, headers)
    else:
        found = _prepared.get(id(request))
        if found is None or found.request is not request:
            if len(_prepared) >= _PREPARED_MAX:
                _prepared.clear()
            found = _prepared[id(request)] = _prepare(request, headers)
        prepared = found
    url, carried = prepared.url, prepared.carried
    # a request that carries no credential leaves the variable alone when it is already unset
    bound = None
    if carried or _CREDENTIALS.get() is not None:
        bound = _CREDENTIALS.set((_origin(url), carried) if carried else None)
    task = asyncio.current_task()
    watch: deadlines.Deadlines | None = None
    deadline: int | None = None  # the request's token in its loop's deadlines
    if task is not None:
        watch = deadlines.of_loop(task.get_loop())
        deadline = watch.watch(task, action.timeout)
    _checked = (policy, url)
    try:
        async with session.request(
            request.method,
            url,
            headers=headers,
            data=request.body,
            timeout=_UNTIMED if deadline is not None else aiohttp.ClientTimeout(total=action.timeout),
            allow_redirects=True,
        ) as resp:
            if killpoint.ARMED:
                killpoint.reached("before-response")
            body, too_big = await _read_bounded(resp, action.max_bytes)
            return HttpResponse(
                status=resp.status,
                headers=tuple(resp.headers.items()),
                body=body,
                error=too_big,
                elapsed=time.perf_counter() - started,
                secrets=tuple(tokens),
            )
    except asyncio.CancelledError:
        # the request's deadline passed (its task was cancelled for it), unless the task was
        # cancelled for another reason too (Ctrl-C, SIGTERM): then that cancellation goes on
        expired = watch is not None and deadline is not None and watch.end(deadline)
        deadline = None
        if not expired or task is None or task.uncancel() > 0:
            raise
        error = _late(action)
    except _HostError as exc:
        error = REFUSED_PREFIX + str(exc)
    except TimeoutError:
        error = _late(action)
    except aiohttp.ClientConnectorCertificateError as exc:
        error = (
            f"cannot connect to {exc.host}:{exc.port}: its TLS certificate was not accepted "
            f"({exc.certificate_error}); --insecure skips the check"
        )
    except aiohttp.ClientConnectorSSLError as exc:
        error = f"cannot connect to {exc.host}:{exc.port}: the TLS handshake failed ({exc.os_error})"
    except aiohttp.ClientConnectorError as exc:
        os_error = exc.os_error
        if os_error is not None and os_error.errno:
            reason = os.strerror(os_error.errno).lower()
        else:
            reason = str(os_error)
        error = f"cannot connect to {exc.host}:{exc.port} ({reason})"
    except aiohttp.ServerDisconnectedError:
        error = "the server closed the connection without a response"
    except aiohttp.ClientPayloadError as exc:
        error = f"the response body was cut short ({exc})"
    except aiohttp.ClientError as exc:
        error = f"{type(exc).__name__}: {exc}"
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc.strerror or exc}"
    finally:
        if watch is not None and deadline is not None:
            watch.end(deadline)
        if bound is not None:
            _CREDENTIALS.reset(bound)
    return HttpResponse(
        status=None, error=error, elapsed=time.perf_counter() - started, secrets=tuple(tokens)
    )


async def _exchange(
    run: Run,
    session: aiohttp.ClientSession,
    action: SendRequest,
    journal: Journal | None,
    clock: Callable[[], float],
    sender: Callable[[aiohttp.ClientSession, SendRequest], Awaitable[HttpResponse]],
) -> tuple[HttpResponse, float]:
    """One exchange of `drive`: the journal's intent, the request, the journal's response.

    `drive` does the same inline for one request at a time when no kill point is armed: a
    coroutine less per request, ~4,400 instructions a poll in memory (`bench/instructions.py
    --per-poll`, measured against awaiting this). Keep the two alike; the kill points are here
    alone."""
    if killpoint.ARMED:  # test-only SIGKILL points (SPOLA_TEST_KILL_AT), inert unless set
        killpoint.exchange_started()
        killpoint.reached("before-intent")
    if journal is not None:
        pending = journal.before_send(action, clock())
        if pending is not None:
            await pending
    if killpoint.ARMED:
        killpoint.reached("before-send")
    response = await sender(session, action)
    received_at = clock()
    if response.secrets:  # an OAuth2 token fetched for this request: redacted from here on
        run.learn_secrets(response.secrets)
    if killpoint.ARMED:
        killpoint.reached("before-journal")
    if journal is not None:
        pending = journal.after_receive(action, response, received_at)
        if pending is not None:
            await pending
    if killpoint.ARMED:
        killpoint.reached("after-journal")
    return response, received_at


async def drive(
    run: Run,
    session: aiohttp.ClientSession,
    *,
    observer: Observer | None = None,
    journal: Journal | None = None,
    clock: Callable[[], float] = time.time,
    sender: Callable[[aiohttp.ClientSession, SendRequest], Awaitable[HttpResponse]] = send,
    initial: Sequence[SendRequest] = (),
    pacer: Pacer | None = None,
) -> RunResult:
    """Run ``run`` to the end: send what it asks, sleep what it says, feed back the responses.

    ``initial`` are requests the run already asked for (after a replay); ``pacer`` (a batch's)
    spreads the engine's turns over loop iterations (`spola.drivers.pauses.Pacer`). Cancelling the task
    (Ctrl-C, SIGTERM) abandons in-flight requests and raises ``RunInterrupted`` with the result.
    """
    in_flight: dict[asyncio.Task[tuple[HttpResponse, float]], SendRequest] = {}

    run.observed = observer is not None
    policy = HostPolicy(run.options.allow_hosts)
    # set only when it differs (a batch sets its runs' common policy once, in the workers' context):
    # a set gives each run's task a context of its own, two more objects per run for the collector
    hosts = HOSTS.set(policy) if HOSTS.get() != policy else None
    for first in initial:
        in_flight[asyncio.ensure_future(_exchange(run, session, first, journal, clock, sender))] = first
    try:
        while True:
            actions = run.next_actions(clock())
            _emit(run, observer)
            if not in_flight and len(actions) == 1:
                only = actions[0]
                if isinstance(only, SendRequest) and (
                    run.deadline is None or run.deadline - clock() > only.timeout
                ):
                    # the common case, one request at a time: await it directly (no task, no wait set)
                    if killpoint.ARMED:
                        response, received_at = await _exchange(run, session, only, journal, clock, sender)
                    else:  # `_exchange` inline, its kill points left out
                        if journal is not None:
                            pending = journal.before_send(only, clock())
                            if pending is not None:
                                await pending
                        response = await sender(session, only)
                        received_at = clock()
                        if response.secrets:
                            run.learn_secrets(response.secrets)
                        if journal is not None:
                            pending = journal.after_receive(only, response, received_at)
                            if pending is not None:
                                await pending
                    if pacer is not None and pacer.over():
                        await pacer.turn()
                    run.receive(only.call_id, response, received_at)
                    continue
            wait_until: float | None = None
            for action in actions:
                if isinstance(action, Finish):
                    return action.result
                if isinstance(action, SendRequest):
                    sent = _exchange(run, session, action, journal, clock, sender)
                    in_flight[asyncio.ensure_future(sent)] = action
                elif isinstance(action, Wait):
                    wait_until = action.until
            timeout = None if wait_until is None else max(0.0, wait_until - clock())
            if not in_flight:
                await asyncio.sleep(timeout or 0)
                if pacer is not None and pacer.over():
                    await pacer.turn()
                continue
            done, _ = await asyncio.wait(in_flight, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if pacer is not None and pacer.over():
                await pacer.turn()
            for task in done:
                answered = in_flight.pop(task)
                response, received_at = task.result()
                run.receive(answered.call_id, response, received_at)
    except asyncio.CancelledError:
        result = run.interrupt("interrupted before the run finished")
        _emit(run, observer)
        raise RunInterrupted(result) from None
    finally:
        if hosts is not None:
            HOSTS.reset(hosts)
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)


class RunInterrupted(Exception):
    """Raised by ``drive`` when its task was cancelled; carries the interrupted result."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("interrupted")
        self.result = result


def _emit(run: Run, observer: Observer | None) -> None:
    if observer is not None:
        for event in run.drain_events():
            observer(event)
    elif run.events:  # unobserved, the run keeps none (`Run.emit`): nothing to drain, no new list
        run.drain_events()
