"""The live view of a run on stderr: what each step, and the remote job behind it, is doing now.

On a terminal (Rich ``Live``) one line per step, updated in place: a spinner while it runs or waits,
the poll count, the time since the step first ran, the last HTTP status, the **remote state** (the
values of the step's outputs its criteria read, e.g. ``life_cycle_state RUNNING``) and what comes
next. When stderr is not a terminal: one plain line per event. ``-v`` adds, per execution, the
request and response (redacted) and every criterion with its result and the values it compared, then
the action taken and why. The events carry everything already redacted (see docs/CONTRACTS.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from spola.core.events import Event, StepFinished, StepStarted, Waiting, WorkflowFinished

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def remote_state_text(pairs: Any) -> str:
    """``life_cycle_state RUNNING, result_state -`` from an event's ``remote_state`` pairs."""
    parts = []
    for pair in pairs or ():
        name, value = pair
        parts.append(f"{name} {'-' if value is None else _value(value)}")
    return ", ".join(parts)


def criterion_text(criterion: Any) -> str:
    """`` `cond` false (was TERMINATING)`` for a criterion result of an event."""
    verdict = "true" if criterion.passed else "false"
    text = f"`{criterion.condition}` {verdict}"
    observed = getattr(criterion, "observed", ()) or ()
    if observed:
        text += " (was " + ", ".join(_value(v) for _, v in observed) + ")"
    elif not criterion.passed and getattr(criterion, "reason", None):
        text += f" ({criterion.reason})"
    return text


@dataclass(slots=True)
class _Step:
    label: str
    polls: int = 0
    first: float = 0.0
    last: float = 0.0
    status: str = ""
    state: str = ""
    request: str = ""
    note: str = ""
    running: bool = True
    passed: bool | None = None


@dataclass
class LiveView:
    """Observes a run's events and shows them on ``console`` (stderr); use as a context manager."""

    console: Console
    verbose: bool = False
    clock: Any = time.monotonic
    live: Live | None = None
    steps: dict[str, _Step] = field(default_factory=dict)
    started: float = 0.0

    def __enter__(self) -> LiveView:
        self.started = self.clock()
        if self.console.is_terminal:
            self.live = Live(
                console=self.console, refresh_per_second=8, transient=False, get_renderable=self._render
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            for step in self.steps.values():
                if step.running:
                    step.running, step.passed, step.note = False, None, "stopped"
            self.live.refresh()
            self.live.__exit__(None, None, None)

    # ------------------------------------------------------------------ events
    def __call__(self, event: Event) -> None:
        """Observe one engine event."""
        if isinstance(event, StepStarted):
            self._started(event)
        elif isinstance(event, StepFinished):
            self._finished(event)
        elif isinstance(event, Waiting):
            step = self._step(event.workflow_id, event.step_id, event.depth)
            step.note, step.running = f"waiting {event.seconds:.1f} s", True
            step.last = 0.0
            self._line(f"{step.label}: waiting {event.seconds:.1f} s ({event.reason})", dim=True)
        elif isinstance(event, WorkflowFinished) and event.depth:
            self._line(f"{'  ' * event.depth}workflow {event.workflow_id} {event.status}")
        if self.live is not None:
            self.live.refresh()

    def _started(self, event: StepStarted) -> None:
        step = self._step(event.workflow_id, event.step_id, event.depth)
        if not step.first:
            step.first = self.clock()
        step.polls, step.running, step.passed, step.last = event.execution, True, None, 0.0
        step.note = "running"
        step.request = f"{event.method} {event.url}" if event.method else "workflow"
        if self.verbose:
            request = getattr(event, "request", None)
            what = f"{event.method} {event.url}" if event.method else f"workflow {event.step_id}"
            self._line(f"{step.label} #{event.execution}: {what}")
            if request is not None:
                self._body("request", getattr(request, "headers", ()), getattr(request, "body", None))

    def _finished(self, event: StepFinished) -> None:
        step = self._step(event.workflow_id, event.step_id, event.depth)
        step.status = str(event.status_code) if event.status_code is not None else "-"
        step.passed, step.running = event.passed, False
        step.last = self.clock()
        state = remote_state_text(getattr(event, "remote_state", ()))
        if state:
            step.state = state
        action = getattr(event, "action", None)
        step.note = f"→ {event.next}"
        if self.live is None:
            mark = "ok " if event.passed else "ERR"
            line = f"{mark} {step.label} #{event.execution} {step.request}  {step.status}"
            line += f"  {event.elapsed * 1000:.0f} ms"
            if state:
                line += f"  [{state}]"
            self._line(f"{line}  -> {event.next}")
        if self.verbose:
            response = getattr(event, "response", None)
            if response is not None:
                headers = getattr(response, "headers", ())
                self._body(f"response {step.status}", headers, getattr(response, "body", None))
            criteria = getattr(event, "criteria", ()) or ()
            for criterion in criteria:
                self._line(f"    {criterion.role}: {criterion_text(criterion)}")
            if action is not None:
                self._line(f"    {action.why}")
        if (self.verbose or not event.passed) and not getattr(event, "criteria", ()):
            for reason in event.reasons:
                self._line(f"    {reason}")

    def _body(self, what: str, headers: Any, body: str | None) -> None:
        shown = ", ".join(f"{k}: {v}" for k, v in headers or ())
        self._line(f"    {what}" + (f" [{shown}]" if shown else ""), dim=True)
        if body:
            self._line("      " + (body if len(body) <= 400 else body[:400] + "…"), dim=True)

    # ------------------------------------------------------------------ output
    def _line(self, text: str, *, dim: bool = False) -> None:
        if self.live is not None and not self.verbose:
            return  # the table shows it
        if self.live is None and dim and not self.verbose:
            return
        self.console.print(Text(text, style="dim" if dim else ""), soft_wrap=True, highlight=False)

    def _step(self, workflow_id: str, step_id: str, depth: int) -> _Step:
        key = f"{depth}:{workflow_id}/{step_id}"
        step = self.steps.get(key)
        if step is None:
            label = ("  " * depth) + (step_id if depth == 0 else f"{workflow_id}.{step_id}")
            step = self.steps[key] = _Step(label)
        return step

    def _render(self) -> RenderableType:
        table = Table.grid(padding=(0, 1))
        now = self.clock()
        for step in list(self.steps.values()):  # Rich refreshes from its own thread
            if step.running:
                mark: RenderableType = Spinner("dots", style="cyan")
            elif step.passed is None:
                mark = Text("■", style="yellow")
            else:
                mark = Text("✓" if step.passed else "✗", style="green" if step.passed else "red")
            colour = "green" if step.passed else ("red" if step.passed is False else "yellow")
            end = step.last if not step.running and step.last else now
            took = end - step.first if step.first else 0.0
            table.add_row(
                mark,
                Text(step.label, style="bold"),
                Text(f"#{step.polls}", style="dim"),
                Text(f"{took:5.1f} s"),
                Text(step.status or "…", style=colour),
                Text(step.state, style="cyan"),
                Text(step.note, style="dim"),
            )
        footer = Text(f"{now - self.started:.1f} s", style="dim")
        return Group(table, footer)
