"""Rich output: live step progress, the outputs table, one-paragraph errors."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.live import Live
from rich.table import Table
from rich.text import Text

from spola.core.events import Event, StepFinished, StepStarted, Waiting, WorkflowFinished

if TYPE_CHECKING:
    from rich.console import Console

    from spola.core.report import CancelReport, RunResult


@dataclass(slots=True)
class _Row:
    label: str
    method: str = ""
    url: str = ""
    status: str = "…"
    polls: int = 0
    elapsed_ms: float = 0.0
    note: str = ""
    passed: bool | None = None


@dataclass
class Progress:
    """Shows each step as it runs: method, URL, status, poll count, elapsed.

    On a terminal the table updates in place; otherwise one plain line per finished step and wait.
    """

    console: Console
    verbose: bool = False
    live: Live | None = None
    rows: dict[str, _Row] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self.live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.update(self._table())
            self.live.__exit__(None, None, None)

    def __call__(self, event: Event) -> None:
        """Observe one engine event."""
        if isinstance(event, StepStarted):
            row = self._row(event.workflow_id, event.step_id, event.depth)
            row.method, row.url = event.method or "workflow", event.url or ""
            row.polls = event.execution
            row.status, row.note = "…", ""
        elif isinstance(event, StepFinished):
            row = self._row(event.workflow_id, event.step_id, event.depth)
            row.status = str(event.status_code) if event.status_code is not None else "-"
            row.elapsed_ms = event.elapsed * 1000
            row.passed = event.passed
            row.note = event.next
            if not self.live:
                mark = "ok " if event.passed else "ERR"
                line = f"{mark} {row.label:<28} {row.method:<6} {row.url}  {row.status}"
                line += f"  #{event.execution}  {row.elapsed_ms:.0f} ms  -> {event.next}"
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)
            if self.verbose or not event.passed:
                for reason in event.reasons:
                    self.console.print(f"      {reason}", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, Waiting):
            row = self._row(event.workflow_id, event.step_id, event.depth)
            row.note = f"waiting {event.seconds:.1f} s ({event.reason})"
            if not self.live and self.verbose:
                self.console.print(f"    {row.label}: {row.note}", markup=False, highlight=False)
        elif isinstance(event, WorkflowFinished) and not self.live and event.depth:
            self.console.print(f"    workflow {event.workflow_id} {event.status}", markup=False)
        if self.live is not None:
            self.live.update(self._table())

    def _row(self, workflow_id: str, step_id: str, depth: int) -> _Row:
        key = f"{workflow_id}/{step_id}"
        row = self.rows.get(key)
        if row is None:
            label = ("  " * depth) + (step_id if depth == 0 else f"{workflow_id}.{step_id}")
            row = self.rows[key] = _Row(label)
        return row

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        for name in ("step", "request", "status", "#", "elapsed", ""):
            table.add_column(name, overflow="fold" if name == "request" else "ellipsis")
        for row in self.rows.values():
            colour = "green" if row.passed else ("red" if row.passed is False else "yellow")
            table.add_row(
                row.label,
                f"{row.method} {row.url}",
                Text(row.status, style=colour),
                str(row.polls),
                f"{row.elapsed_ms:.0f} ms",
                Text(row.note, style="dim"),
            )
        table.caption = f"{time.monotonic() - self.started:.1f} s"
        return table


def print_result(console: Console, result: RunResult) -> None:
    """The outputs as a table and a one-line verdict."""
    if result.outputs:
        table = Table(title="outputs", show_header=True, header_style="bold")
        table.add_column("name")
        table.add_column("value", overflow="fold")
        for name, value in result.outputs.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            table.add_row(name, Text(text))
        console.print(table)
    colour = "green" if result.succeeded else "red"
    console.print(
        Text(f"{result.workflow_id}: {result.status} (run {result.run_id})", style=f"bold {colour}")
    )
    if result.error:
        step = result.error.step_id
        where = f"step {step}: " if step and not result.error.message.startswith(f"step {step}") else ""
        console.print(Text(where + result.error.message, style=colour), soft_wrap=True)
    if result.cancel is not None:
        print_cancel(console, result.cancel)


def print_cancel(console: Console, report: CancelReport) -> None:
    """One line for what the cancel workflow did to the remote work, and its message if any."""
    colour = "green" if report.status in ("succeeded", "skipped") else "red"
    shown = ", ".join(f"{k} {_short(v)}" for k, v in report.outputs.items() if v is not None)
    line = f"cancel workflow {report.workflow_id}: {report.status}" + (f" ({shown})" if shown else "")
    console.print(Text(line, style=f"bold {colour}"), soft_wrap=True)
    if report.message:
        console.print(Text(report.message, style=colour), soft_wrap=True)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def to_json(data: Any) -> str:
    """Compact, stable JSON for stdout (``spola run --json`` writes the same without importing Rich)."""
    return json.dumps(data, ensure_ascii=False, default=str)
