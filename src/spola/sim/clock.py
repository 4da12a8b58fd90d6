"""Simulated time: a scaled, advanceable view of a real (or fake) clock.

Every simulator reads time through a `SimClock`. Its `now()` is the number of *simulated* seconds since the
clock was created: real elapsed seconds (from `source`, `time.monotonic` by default) times `speed`, plus
whatever `advance()` added. State machines are functions of this number, so a test can either run fast
(`speed=50`) or stand still and step (`ManualClock` as the source, then `advance()`).

Wall-clock timestamps shown to clients (epoch milliseconds, ISO strings) are `epoch_ms + now() * 1000`,
so they move with simulated time too.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ManualClock", "SimClock"]


class ManualClock:
    """A fake time source that only moves when told to; pass it as `clock=` to `create_app`."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move this source forward by `seconds` (not scaled by any speed)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds


class SimClock:
    """Simulated seconds since creation: `(source() - start) * speed + advanced`."""

    def __init__(
        self,
        source: Callable[[], float] | None = None,
        *,
        speed: float = 1.0,
        epoch_ms: int | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._source = source or time.monotonic
        self._speed = speed
        self._start = self._source()
        self._advanced = 0.0
        self._lock = threading.Lock()
        self.epoch_ms = int(time.time() * 1000) if epoch_ms is None else epoch_ms

    @property
    def speed(self) -> float:
        """How many simulated seconds pass per real second."""
        return self._speed

    def now(self) -> float:
        """Simulated seconds elapsed since the clock was created."""
        with self._lock:
            return (self._source() - self._start) * self._speed + self._advanced

    def advance(self, seconds: float) -> float:
        """Jump simulated time forward by `seconds`; returns the new `now()`."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._advanced += seconds
        return self.now()

    def wall_ms(self, at: float | None = None) -> int:
        """Epoch milliseconds of simulated instant `at` (default: now)."""
        t = self.now() if at is None else at
        return self.epoch_ms + round(t * 1000)
