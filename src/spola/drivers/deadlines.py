"""Per-request time limits for one event loop: one heap and one timer, not a timer per request.

aiohttp enforces a request's ``ClientTimeout`` with a timer of its own per request and a timer
context entered around every read of the response; with thousands of polls a minute that is a
large share of what a request costs the client (see bench/README.md, "eighth pass"). Here a send
registers its deadline in its loop's `Deadlines` (a heap push) and says when it is over; one timer
per loop wakes at the earliest deadline that may still be owed and cancels the tasks whose
requests are late, as aiohttp's timer does. The task then turns the cancellation into a timeout
(`Deadlines.end` says the deadline had passed), unless it was cancelled for another reason too
(Ctrl-C).

A deadline is met within `SLACK` seconds of its time (aiohttp rounds limits of 5 s or more up to a
whole second). Finished requests leave their heap entries behind until their deadline passes; the
heap is rebuilt without them when they are most of it.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
import weakref
from asyncio import BaseEventLoop
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import asyncio

SLACK: Final = 0.05
"""The least time between two wake-ups of a loop's timer: how late a deadline may be noticed."""

_REBUILD_AT: Final = 1024
"""A heap this large is rebuilt when finished requests are most of it (four in five)."""

_CHECK_EVERY: Final = 1023
"""How often (in requests, less one: a mask) `Deadlines.watch` looks at the heap's size."""


class Deadlines:
    """The deadlines of one event loop's requests (see the module's notes).

    The heap holds ``(time, token)`` pairs only, which the cyclic collector stops tracking, and
    the tasks of requests still on are in a dict by token: a request leaves no object behind that
    the collector must walk while its deadline is pending.
    """

    __slots__ = ("_expired", "_handle", "_heap", "_live", "_loop", "_time", "_tokens", "_wake_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # the loop's clock: asyncio's own loops read time.monotonic (called directly, one call less)
        self._time = time.monotonic if type(loop).time is BaseEventLoop.time else loop.time
        self._heap: list[tuple[float, int]] = []
        self._tokens = itertools.count()
        self._live: dict[int, asyncio.Task[Any]] = {}
        self._expired: set[int] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._wake_at = math.inf

    def watch(self, task: asyncio.Task[Any], seconds: float) -> int:
        """Cancel ``task`` if its request is not over in ``seconds``; the request's token for `end`."""
        token = next(self._tokens)
        when = self._time() + seconds
        heap = self._heap
        heapq.heappush(heap, (when, token))
        self._live[token] = task
        if when < self._wake_at:
            self._wake(when)
        elif not token & _CHECK_EVERY and len(heap) >= _REBUILD_AT:
            self._compact()
        return token

    def end(self, token: int) -> bool:
        """The request is over (answered, failed or cancelled): its deadline no longer applies.
        True when it had passed already, and the request's task was cancelled for it."""
        if self._live.pop(token, None) is not None:
            return False
        if token in self._expired:
            self._expired.discard(token)
            return True
        return False

    def _wake(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        when = max(when, self._time() + SLACK)
        self._wake_at = when
        self._handle = self._loop.call_at(when, self._expire)

    def _expire(self) -> None:
        self._handle, self._wake_at = None, math.inf
        heap, live = self._heap, self._live
        now = self._time()
        while heap and heap[0][0] <= now:
            token = heapq.heappop(heap)[1]
            task = live.pop(token, None)
            if task is not None:
                self._expired.add(token)
                task.cancel()
        if len(heap) >= _REBUILD_AT:
            self._compact()
        if heap:
            self._wake(heap[0][0])

    def _compact(self) -> None:
        """Rebuild the heap without finished requests when they are most of it."""
        heap, live = self._heap, self._live
        if len(heap) > 4 * len(live):
            heap[:] = [entry for entry in heap if entry[1] in live]
            heapq.heapify(heap)

    @property
    def pending(self) -> int:
        """Entries in the heap, finished requests' included (for tests of its bound)."""
        return len(self._heap)

    @property
    def live(self) -> int:
        """Requests on now (watched, not ended, not expired)."""
        return len(self._live)


_recent: list[tuple[asyncio.AbstractEventLoop, Deadlines]] = []
"""The loop asked for last and its deadlines (none or one entry): a poll asks for the same one."""
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Deadlines] = weakref.WeakKeyDictionary()


def of_loop(loop: asyncio.AbstractEventLoop) -> Deadlines:
    """The `Deadlines` of ``loop`` (made on first use, dropped with the loop; the loop asked for
    last is kept until another one asks)."""
    if _recent and _recent[0][0] is loop:
        return _recent[0][1]
    found = _by_loop.get(loop)
    if found is None:
        found = _by_loop[loop] = Deadlines(loop)
    _recent[:] = [(loop, found)]
    return found
