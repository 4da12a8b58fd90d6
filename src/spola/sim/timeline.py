"""Time-driven state: a run's life as a list of marks, queried at any simulated instant.

A `Timeline` is decided when a run is created (and rewritten when it is cancelled or aborted); asking for the
state at time `t` is then a pure look-up, so polling never changes anything and every answer is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["Mark", "Timeline"]


@dataclass(frozen=True, slots=True)
class Mark:
    """From `at` on (until the next mark) the run is in `state`; `result` is set on terminal marks."""

    at: float
    state: str
    result: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Timeline:
    """Marks in time order; the last one is final and lasts forever."""

    marks: tuple[Mark, ...]

    def __post_init__(self) -> None:
        if not self.marks:
            raise ValueError("a timeline needs at least one mark")
        times = [m.at for m in self.marks]
        if times != sorted(times):
            raise ValueError("timeline marks must be in time order")

    @classmethod
    def chain(cls, start: float, steps: Sequence[tuple[str, float]], final: Mark | None = None) -> Timeline:
        """Build from `(state, duration)` steps starting at `start`, then `final` (re-timed to the end)."""
        marks: list[Mark] = []
        t = start
        for state, duration in steps:
            marks.append(Mark(t, state))
            t += max(duration, 0.0)
        if final is not None:
            marks.append(Mark(t, final.state, final.result, final.message))
        return cls(tuple(marks))

    @property
    def start(self) -> float:
        """When the first mark begins."""
        return self.marks[0].at

    @property
    def last(self) -> Mark:
        """The final mark."""
        return self.marks[-1]

    def at(self, t: float) -> Mark:
        """The mark in force at `t` (the first mark before the timeline starts)."""
        current = self.marks[0]
        for mark in self.marks:
            if mark.at <= t:
                current = mark
            else:
                break
        return current

    def entered(self, state: str, by: float | None = None) -> float | None:
        """When `state` was first entered (only counting marks reached by `by`, if given)."""
        for mark in self.marks:
            if by is not None and mark.at > by:
                return None
            if mark.state == state:
                return mark.at
        return None

    def cut(self, t: float, tail: Iterable[Mark]) -> Timeline:
        """Keep what happened up to `t`, then continue with `tail` (marks at or after `t`)."""
        kept = [m for m in self.marks if m.at <= t]
        return Timeline((*kept, *tail))
