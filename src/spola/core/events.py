"""What happened during a run, for progress displays and logs (secrets already redacted)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StepStarted:
    """A step's request is about to go out (or a nested workflow starts)."""

    workflow_id: str
    step_id: str
    execution: int
    method: str | None
    url: str | None
    depth: int = 0


@dataclass(frozen=True, slots=True)
class StepFinished:
    """A step's response was judged; ``next`` says where control goes."""

    workflow_id: str
    step_id: str
    execution: int
    status_code: int | None
    passed: bool
    next: str
    elapsed: float
    reasons: tuple[str, ...] = ()
    depth: int = 0


@dataclass(frozen=True, slots=True)
class Waiting:
    """The run pauses before a step runs again."""

    workflow_id: str
    step_id: str
    seconds: float
    reason: str
    depth: int = 0


@dataclass(frozen=True, slots=True)
class WorkflowFinished:
    """A workflow (the main one or a nested one) ended."""

    workflow_id: str
    status: str
    depth: int = 0


Event = StepStarted | StepFinished | Waiting | WorkflowFinished
