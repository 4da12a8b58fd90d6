"""A run as the report files see it: every step execution, every wait, the outcome.

Built live by a `Recorder` (the driver's observer) or afterwards from the run store
(`from_store`). Everything in it is already redacted: the engine redacts its events, the store
its records; the writers redact again with the run's `Redactor` where one is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spola.core.events import (
    ActionTaken,
    CriterionResult,
    RequestSummary,
    ResponseSummary,
    StepFinished,
    StepStarted,
    Waiting,
    WorkflowFinished,
)

if TYPE_CHECKING:
    from spola.core.events import Event, Observer
    from spola.core.report import RunResult
    from spola.redact import Redactor


@dataclass(slots=True)
class Execution:
    """One step execution (one request and its response, or one nested workflow)."""

    workflow_id: str
    step_id: str
    step_path: str
    depth: int
    execution: int
    attempt: int
    call_id: int | None
    started_at: float
    finished_at: float | None = None
    request: RequestSummary | None = None
    response: ResponseSummary | None = None
    passed: bool | None = None
    next: str = ""
    reasons: tuple[str, ...] = ()
    criteria: tuple[CriterionResult, ...] = ()
    action: ActionTaken | None = None
    remote_state: tuple[tuple[str, Any], ...] = ()
    outputs: dict[str, Any] | None = None

    @property
    def status_code(self) -> int | None:
        """The HTTP status, None for a nested workflow, a transport failure or no response yet."""
        return self.response.status if self.response is not None else None

    @property
    def outcome(self) -> str:
        """``passed``, ``failed``, ``resent`` (throttled), ``pending`` (no verdict yet)."""
        if self.passed is None:
            return "pending"
        if self.action is not None and self.action.kind == "resend":
            return "resent"
        return "passed" if self.passed else "failed"


@dataclass(frozen=True, slots=True)
class WaitSpan:
    """A pause before a step ran again."""

    workflow_id: str
    step_id: str
    depth: int
    at: float
    until: float
    reason: str


@dataclass(frozen=True, slots=True)
class Expectation:
    """A ``--expect`` condition and how it fared (``observed``: what its operands were)."""

    condition: str
    passed: bool
    observed: tuple[tuple[str, Any], ...] = ()
    problem: str | None = None

    @property
    def message(self) -> str:
        """``expected `$outputs.finalStatus == 10`, but $outputs.finalStatus is 20``."""
        if self.passed:
            return f"`{self.condition}` holds"
        if self.problem:
            return f"cannot check `{self.condition}`: {self.problem}"
        seen = ", ".join(f"{name} is {_show(value)}" for name, value in self.observed)
        return f"expected `{self.condition}`" + (f", but {seen}" if seen else ", but it is false")


def _show(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


@dataclass(slots=True)
class RunReport:
    """Everything a report file shows about one run."""

    run_id: str
    workflow_id: str
    document: str
    started_at: float
    status: str = "running"
    finished_at: float | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    error_step: str | None = None
    error: str | None = None
    executions: list[Execution] = field(default_factory=list)
    waits: list[WaitSpan] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    cancel: dict[str, Any] | None = None
    redactor: Redactor | None = None

    def redact(self, value: Any) -> Any:
        """A value with the run's secrets removed (a no-op for reports built from the store, whose
        records were redacted when written)."""
        return value if self.redactor is None else self.redactor.redact_value(value)

    def redact_text(self, text: str) -> str:
        """Text with the run's secrets removed."""
        return text if self.redactor is None else self.redactor.redact_text(text)

    @property
    def ended_at(self) -> float:
        """The end of the time axis: when it finished, else the last thing seen."""
        if self.finished_at is not None:
            return self.finished_at
        times = [self.started_at]
        times += [e.finished_at or e.started_at for e in self.executions]
        times += [w.until for w in self.waits]
        return max(times)

    @property
    def duration(self) -> float:
        """Seconds from start to end."""
        return max(0.0, self.ended_at - self.started_at)

    @property
    def failed_expectations(self) -> list[Expectation]:
        """The ``--expect`` conditions that did not hold."""
        return [e for e in self.expectations if not e.passed]

    @property
    def ok(self) -> bool:
        """The run succeeded and every expectation held."""
        return self.status == "succeeded" and not self.failed_expectations

    def steps(self) -> list[tuple[str, str, int, list[Execution]]]:
        """Executions grouped by step, in first-seen order: (step path, step id, depth, executions)."""
        groups: dict[str, tuple[str, str, int, list[Execution]]] = {}
        for execution in self.executions:
            group = groups.get(execution.step_path)
            if group is None:
                group = groups[execution.step_path] = (
                    execution.step_path,
                    execution.step_id,
                    execution.depth,
                    [],
                )
            group[3].append(execution)
        return list(groups.values())

    def finish(self, result: RunResult, at: float) -> None:
        """Take the final status, outputs and error from the run's result."""
        self.status = result.status
        self.finished_at = at
        self.outputs = dict(result.outputs)
        if result.error is not None:
            self.error_step, self.error = result.error.step_id, result.error.message
        cancel = getattr(result, "cancel", None)
        if cancel is not None and hasattr(cancel, "to_dict"):
            self.cancel = cancel.to_dict()


class Recorder:
    """The driver's observer that records a `RunReport` (and passes each event on to ``forward``)."""

    def __init__(self, report: RunReport, forward: Observer | None = None) -> None:
        self.report = report
        self.forward = forward
        self._open: dict[tuple[str, int, int], Execution] = {}

    def __call__(self, event: Event) -> None:
        """Observe one engine event."""
        self.record(event)
        if self.forward is not None:
            self.forward(event)

    def record(self, event: Event) -> None:
        """Add an event to the report."""
        if isinstance(event, StepStarted):
            execution = Execution(
                workflow_id=event.workflow_id,
                step_id=event.step_id,
                step_path=event.step_path or f"{event.workflow_id}/{event.step_id}",
                depth=event.depth,
                execution=event.execution,
                attempt=event.attempt,
                call_id=event.call_id,
                started_at=event.at,
                request=event.request,
            )
            self.report.executions.append(execution)
            self._open[(execution.step_path, event.execution, event.attempt)] = execution
        elif isinstance(event, StepFinished):
            path = event.step_path or f"{event.workflow_id}/{event.step_id}"
            found = self._open.pop((path, event.execution, event.attempt), None)
            if found is None:  # judged without a request (a problem before sending, a replayed step)
                found = Execution(
                    workflow_id=event.workflow_id,
                    step_id=event.step_id,
                    step_path=path,
                    depth=event.depth,
                    execution=event.execution,
                    attempt=event.attempt,
                    call_id=event.call_id,
                    started_at=event.started_at or event.at,
                )
                self.report.executions.append(found)
            found.finished_at = event.at
            found.response = event.response
            found.passed = event.passed
            found.next = event.next
            found.reasons = event.reasons
            found.criteria = event.criteria
            found.action = event.action
            found.remote_state = event.remote_state
            found.outputs = event.outputs
        elif isinstance(event, Waiting):
            self.report.waits.append(
                WaitSpan(event.workflow_id, event.step_id, event.depth, event.at, event.until, event.reason)
            )
        elif isinstance(event, WorkflowFinished) and event.depth == 0:
            self.report.finished_at = event.at or None
