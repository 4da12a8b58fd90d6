"""Structured logs: one JSON object per engine event (``--log-format json`` on stderr, ``--log-file``).

Each line: ``{"time": ISO-8601 UTC, "level": "info"|"warning", "event": kind, "runId": …, <fields>}`` with
the event's fields in camelCase (``workflowId``, ``stepId``, ``statusCode``, ``remoteState``, …). Events are
redacted by the engine before any observer sees them, so nothing here needs a secret's value.
"""

from __future__ import annotations

import json
import time
from typing import IO, TYPE_CHECKING, Any

from spola.core.events import StepFinished, StepStarted, Waiting, WorkflowFinished
from spola.structs import asdict

if TYPE_CHECKING:
    from spola.core.events import Event
    from spola.core.report import RunResult

KINDS = {StepStarted: "step.started", StepFinished: "step.finished", Waiting: "step.waiting",
         WorkflowFinished: "workflow.finished"}  # fmt: skip


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {(_camel(k) if isinstance(k, str) else k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def iso(at: float) -> str:
    """``2026-12-02T14:00:00.123Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"


class JsonLog:
    """An observer writing one JSON line per event to ``stream`` (flushed per line)."""

    def __init__(self, stream: IO[str], run_id: str | None = None) -> None:
        self.stream = stream
        self.run_id = run_id

    def _write(self, kind: str, level: str, fields: dict[str, Any], at: float = 0.0) -> None:
        record: dict[str, Any] = {"time": iso(at or time.time()), "level": level, "event": kind}
        if self.run_id:
            record["runId"] = self.run_id
        record.update(fields)
        self.stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()

    def __call__(self, event: Event) -> None:
        """Log one engine event."""
        kind = KINDS.get(type(event), type(event).__name__)
        fields = _plain(asdict(event))
        failed = isinstance(event, StepFinished) and not event.passed
        self._write(kind, "warning" if failed else "info", fields, float(getattr(event, "at", 0.0) or 0.0))

    def result(self, result: RunResult) -> None:
        """Log the run's end: status, outputs (redacted), error, cancel outcome."""
        data = result.to_dict()
        level = "info" if result.status == "succeeded" else "warning"
        self._write("run.finished", level, {k: v for k, v in data.items() if k != "steps"})
