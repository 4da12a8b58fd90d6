"""Watching runs from outside: OpenTelemetry traces (``spola.observe.otel``, the ``otel`` extra) and
structured logs (``spola.observe.logs``).

Drivers ask ``active_tracer()`` once per run; it is None unless tracing was enabled (``--otel``,
``SPOLA_OTEL=1`` or ``spola.observe.otel.enable()``), so a run without tracing imports nothing of
OpenTelemetry and pays nothing for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import aiohttp

    from spola.core.actions import SendRequest
    from spola.core.engine import Run
    from spola.core.events import Event, Observer
    from spola.exchange import HttpResponse

    Sender = Callable[[aiohttp.ClientSession, SendRequest], Awaitable[HttpResponse]]


class RunTrace(Protocol):
    """What a tracer gives a driver for one run: an observer, a sender wrapper, and the end."""

    def observe(self, event: Event) -> None:
        """See an engine event (opens and closes step spans)."""

    def wrap(self, sender: Sender) -> Sender:
        """A sender that sends inside an HTTP span and propagates its context (``traceparent``)."""

    def end(self, status: str, error: str | None) -> None:
        """Close the run's span with the run's status."""


class Tracer(Protocol):
    """Starts a `RunTrace` per run."""

    def start(self, run: Run) -> RunTrace:
        """Open the run's span."""


_ACTIVE: list[Tracer] = []


def active_tracer() -> Tracer | None:
    """The tracer runs report to, or None (tracing is off)."""
    if _ACTIVE:
        return _ACTIVE[-1]
    import os

    if os.environ.get("SPOLA_OTEL", "").lower() in ("1", "true", "yes", "on"):
        from spola.observe.otel import enable

        return enable()
    return None


def set_tracer(tracer: Tracer | None) -> None:
    """Make ``tracer`` the active one (None: tracing off)."""
    _ACTIVE.clear()
    if tracer is not None:
        _ACTIVE.append(tracer)


def combine(*observers: Observer | None) -> Observer | None:
    """One observer calling each given one in turn (None when there are none)."""
    chosen = [o for o in observers if o is not None]
    if not chosen:
        return None
    if len(chosen) == 1:
        return chosen[0]

    def observe(event: Event) -> None:
        for observer in chosen:
            observer(event)

    return observe
