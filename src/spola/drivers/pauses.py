"""Keep a loop that holds thousands of runs responsive: pace their work, and keep Python's cyclic
garbage collector from pausing it.

`Pacer`: an asyncio loop runs, in one iteration, every callback that was ready when it began. When
hundreds of responses and poll timers come due together, that is hundreds of engine turns (judge the
response, build and send the next request) in one iteration, and every timer due meanwhile (a
deadline, a lease renewal, the next poll) waits for all of them. A pacer gives each iteration a
budget of engine work (``budget_s``); a run over budget waits for the next iteration, behind the
timers and reads that came due, so one iteration's work, and the loop's lag, stay near the budget.
It adds no work: the same turns run, in more, shorter iterations.

The garbage collector:
CPython collects its oldest generation whenever the objects that survived collections grew by a
quarter; a full collection walks every tracked object. With 10,000 runs in flight that is millions
of objects and a pause of up to a second or more, during which no timer fires and no response is
read (bench/README.md, the scale table). The objects are not garbage: they are the live runs.

`CollectorPolicy`, used by a batch while it runs, moves the survivors of an oldest-generation
collection that took longer than ``slow_s`` into the permanent generation (``gc.freeze``), so later
collections walk only what is new. Frozen objects are still freed by reference counting when a run
ends; only reference cycles among them wait, until the batch ends and ``gc.unfreeze`` hands them
back to the collector. It also makes full collections rarer while the batch runs: CPython starts
one after every 10 collections of the middle generation; the policy asks for ``full_every`` (100).
Young garbage, where nearly all of a run's cycles are, is collected exactly as often as before;
only cycles among objects that lived long wait longer. With 3,000 runs in flight that took the
full collections (30-70 ms each, eight in a run) out of the run and the loop lag's p99 from ~62 to
~42 ms (bench/README.md, fourth pass). The policy also freezes what the process holds when the batch
starts (its modules, the document, the client): none of it is the runs', all of it outlives them,
and the first slow full collection would otherwise walk it with the runs.

Full collections during a batch find almost nothing (a few hundred objects of the hundreds of
thousands they walk: the live runs), so the policy also freezes after every ``middle_every`` (25)
collections of the middle generation: what survived them moves to the permanent generation before
a full collection comes due, and full collections walk only what is recent. With 10,000 runs in
flight that removed the full collections (130-280 ms each) from the bench's run and the loop lag's
maximum from ~315 to ~120 ms. The price: a cycle that dies among frozen objects waits. So every
``thaw_every_s`` (600 s) the policy unfreezes instead, and the next full collection, one long pause,
collects what died: memory stays bounded by ten minutes of such cycles.

Thresholds are restored when the batch ends. A process that already froze objects itself (a
pre-forking server), or set its own thresholds, is left alone: unfreezing at the end would undo
its own freeze.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

__all__ = ["CollectorPolicy", "Pacer"]


class CollectorPolicy:
    """Freeze what lives long while a batch runs (see the module's notes); unfreeze when it ends."""

    DEFAULT_THRESHOLDS = (700, 10, 10)
    """CPython's own thresholds: the policy changes only these, never a process's own choice."""

    def __init__(
        self,
        slow_s: float = 0.02,
        full_every: int = 100,
        middle_every: int = 25,
        thaw_every_s: float = 600.0,
    ) -> None:
        self.slow_s = slow_s
        self.full_every = full_every
        self.freezes = 0
        """Freezes during the batch (after a slow full collection or ``middle_every`` middle ones)."""
        self.frozen_at_start = False
        """Whether what the process held at the start was frozen (it is, unless the policy is idle)."""
        self.middle_every = middle_every
        self.thaw_every_s = thaw_every_s
        self.thaws = 0
        """Times the frozen runs were handed back for one full collection (see the module's notes)."""
        self._middles = 0
        self._clock = time.monotonic
        self._thawed_at = 0.0
        self._thresholds: tuple[int, int, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started: float | None = None
        self._pending = False
        self._active = False

    def __enter__(self) -> CollectorPolicy:
        if gc.get_freeze_count() > 0 or not gc.isenabled():  # someone else manages the collector
            return self
        self._loop = asyncio.get_running_loop()
        self._active = True
        self._thawed_at = self._clock()
        gc.callbacks.append(self._observe)
        thresholds = gc.get_threshold()
        if thresholds == self.DEFAULT_THRESHOLDS:
            self._thresholds = thresholds
            gc.set_threshold(thresholds[0], thresholds[1], self.full_every)
        # what the process holds before the batch (modules, the document, the client) lives at
        # least as long as the batch: out of every full collection the batch's runs bring
        gc.freeze()
        self.frozen_at_start = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._active:
            return
        self._active = False
        gc.callbacks.remove(self._observe)
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        if self.frozen_at_start or self.freezes:
            self.frozen_at_start = False
            gc.unfreeze()  # the runs are over: their cycles (if any) are the collector's again

    def _observe(self, phase: str, info: dict[str, Any]) -> None:
        generation = info.get("generation")
        if generation == 1:
            if phase == "stop" and self.middle_every:
                self._middles += 1  # back to 0 at each freeze
                if self._middles >= self.middle_every:
                    self._ask_freeze()
            return
        if generation != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        started, self._started = self._started, None
        if started is not None and time.perf_counter() - started >= self.slow_s:
            self._ask_freeze()

    def _ask_freeze(self) -> None:
        loop = self._loop
        if self._pending or loop is None or loop.is_closed():
            return
        self._pending = True
        # the collection may have run on another thread (the journal's writer): freeze from the loop
        loop.call_soon_threadsafe(self._freeze)

    def _freeze(self) -> None:
        self._pending = False
        self._middles = 0
        if not self._active:
            return
        now = self._clock()
        if now - self._thawed_at >= self.thaw_every_s:
            # now and then the frozen runs go back to the collector, so that cycles which died
            # among them are collected by the next full collection (one long pause, not a leak)
            self._thawed_at = now
            gc.unfreeze()
            self.thaws += 1
            return
        gc.freeze()
        self.freezes += 1


class Pacer:
    """A budget of work per loop iteration, shared by the runs of a batch (see the module's notes).

    ``if pacer.over(): await pacer.turn()`` before a turn of engine work; `over` is a clock read
    and a comparison, so a loop under its budget pays almost nothing.
    """

    def __init__(self, budget_s: float = 0.01) -> None:
        self.budget_s = budget_s
        self.deferred = 0
        """Turns that waited for a later iteration (for the bench and the tests)."""
        self._began: float | None = None
        self._clock = time.perf_counter

    def over(self) -> bool:
        """True when this iteration has spent its budget (the first call of an iteration starts it)."""
        began = self._began
        now = self._clock()
        if began is None:
            self._began = now
            asyncio.get_running_loop().call_soon(self._next_iteration)
            return False
        return now - began > self.budget_s

    async def turn(self) -> None:
        """Wait for an iteration with budget left, then take a turn in it."""
        while self.over():
            self.deferred += 1
            await asyncio.sleep(0)

    def _next_iteration(self) -> None:
        # scheduled by the iteration's first turn, so it runs ahead of the turns that wait for it
        self._began = None
