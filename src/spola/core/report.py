"""Per-step and per-workflow outcomes: the result ``spola run --json`` prints and ``spola.run`` returns."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field


class StepReport(Struct, gc=False):
    """How one step fared over all its executions in a run (data only: untracked by the cyclic
    collector, which thousands of runs in flight would otherwise make walk it at every full pass)."""

    step_id: str
    workflow_id: str
    status: str = "skipped"
    executions: int = 0
    last_status_code: int | None = None
    duration_ms: float = 0.0
    reasons: list[str] = field(default_factory=list)
    depth: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a step in ``--json`` output."""
        data: dict[str, Any] = {
            "stepId": self.step_id,
            "workflowId": self.workflow_id,
            "status": self.status,
            "executions": self.executions,
            "lastStatusCode": self.last_status_code,
            "durationMs": round(self.duration_ms, 1),
        }
        if self.reasons:
            data["reasons"] = list(self.reasons)
        return data


class RunError(Struct, frozen=True):
    """Why a run failed: the step (if any) and a one-paragraph message."""

    step_id: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``error``."""
        return {"stepId": self.step_id, "message": self.message}


class CancelReport(Struct, frozen=True):
    """What spola did about the remote work when the run was stopped (``x-spola-cancel``).

    ``status``: ``succeeded`` / ``failed`` (the cancel workflow's outcome), ``skipped`` (nothing to
    cancel: an input it needs was never produced) or ``timed out``; ``reason`` says why the run stopped.
    """

    workflow_id: str
    status: str
    reason: str
    outputs: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    steps: tuple[StepReport, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``cancel`` in ``--json`` output."""
        return {
            "workflowId": self.workflow_id,
            "status": self.status,
            "reason": self.reason,
            "outputs": self.outputs,
            "message": self.message,
            "steps": [s.to_dict() for s in self.steps],
        }


class RunResult(Struct, frozen=True):
    """The outcome of a run: status, outputs and what each step did."""

    run_id: str
    workflow_id: str
    status: str
    outputs: dict[str, Any]
    steps: tuple[StepReport, ...]
    error: RunError | None = None
    cancel: CancelReport | None = None

    @property
    def succeeded(self) -> bool:
        """True when the workflow succeeded."""
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``spola run --json`` prints."""
        return {
            "runId": self.run_id,
            "workflowId": self.workflow_id,
            "status": self.status,
            "outputs": self.outputs,
            "steps": [s.to_dict() for s in self.steps],
            "error": self.error.to_dict() if self.error else None,
            **({"cancel": self.cancel.to_dict()} if self.cancel is not None else {}),
        }
