"""A gate that spreads synchronous bursts (run starts, wake-ups) over event-loop iterations."""

from __future__ import annotations

import asyncio
import time
from collections import deque


class StartGate:
    """Spreads the start of many runs over event-loop iterations.

    Starting a run (building the engine, validating inputs) is synchronous work; ten thousand
    workers starting at once would hold the loop for the whole burst, so the timers and responses
    of runs already in flight would wait behind it. Through the gate, one loop iteration starts at
    most ``per_tick`` runs and stops starting more once ``slice_s`` seconds went by; I/O and timers
    are handled between iterations. Waiters start in the order they arrived.
    """

    def __init__(self, per_tick: int = 64, slice_s: float = 0.005) -> None:
        self.per_tick = per_tick
        self.slice_s = slice_s
        self._started = 0
        self._slice_start: float | None = None
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._refill_pending = False

    async def enter(self) -> None:
        """Return when this run may start: at once while the iteration has room, else later."""
        loop = asyncio.get_running_loop()
        if not self._waiters and self._room():
            self._take(loop)
            return
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        self._schedule(loop)
        while True:
            await waiter
            if self._room():
                self._take(loop)
                return
            waiter = loop.create_future()  # this iteration is full: first in line for the next
            self._waiters.appendleft(waiter)
            self._schedule(loop)

    def _room(self) -> bool:
        if self._started >= self.per_tick:
            return False
        return self._slice_start is None or time.perf_counter() - self._slice_start < self.slice_s

    def _take(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._slice_start is None:
            self._slice_start = time.perf_counter()
        self._started += 1
        self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._refill_pending:
            self._refill_pending = True
            loop.call_soon(self._refill, loop)

    def _refill(self, loop: asyncio.AbstractEventLoop) -> None:
        """Once per iteration with starts or waiters: open a new slice, wake the next few waiters."""
        self._refill_pending = False
        self._started = 0
        self._slice_start = None
        woken = 0
        while self._waiters and woken < self.per_tick:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                woken += 1
        if self._waiters:
            self._schedule(loop)
