"""Journal what the engine explains about each step execution, so reports can be rebuilt later.

`JournalLog` is an observer: per `StepFinished` it queues a ``step-finished`` event (criteria,
action, remote state, outputs; the request and response are journalled as the exchange itself)
and per `Waiting` a ``step-wait`` event. Events are already redacted by the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.core.events import StepFinished, Waiting, event_to_dict
from spola.store.records import EventRecord

if TYPE_CHECKING:
    from spola.core.events import Event, Observer
    from spola.store.journal import Journal

STEP_FINISHED = "step-finished"
STEP_WAIT = "step-wait"


class JournalLog:
    """Writes step outcomes and waits to the journal, then passes each event on to ``forward``."""

    def __init__(self, journal: Journal, run_id: str, forward: Observer | None = None) -> None:
        self.journal = journal
        self.run_id = run_id
        self.forward = forward

    def __call__(self, event: Event) -> None:
        """Observe one engine event."""
        if isinstance(event, StepFinished):
            data = event_to_dict(event, for_json=True)
            data.pop("response", None)
            data.pop("kind", None)
            self.journal.event(EventRecord(self.run_id, STEP_FINISHED, event.at, data, seq=event.call_id))
        elif isinstance(event, Waiting):
            data = event_to_dict(event, for_json=True)
            data.pop("kind", None)
            self.journal.event(EventRecord(self.run_id, STEP_WAIT, event.at, data))
        if self.forward is not None:
            self.forward(event)
