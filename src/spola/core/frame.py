"""One workflow execution inside a run: where it is, what its steps produced, what it waits for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from msgspec import Struct, field

if TYPE_CHECKING:
    from spola.core.events import RequestSummary
    from spola.core.plan import StepPlan
    from spola.core.report import RunError, StepReport
    from spola.exchange import HttpRequest, HttpResponse
    from spola.expr import RequestView
    from spola.model import Document, Step, Workflow
    from spola.redact import Redactor
    from spola.request_builder import BuiltRequest

Phase = Literal["deps", "ready", "wait_timer", "wait_call", "wait_children", "done"]
Link = Literal["root", "step", "dependency", "goto", "retry"]


class Frame(Struct):
    """The state of one workflow execution; plain data the engine mutates and a journal can replay."""

    fid: int
    document: Document
    workflow: Workflow
    inputs: dict[str, Any]
    depth: int
    parent: int | None
    link: Link
    path: str
    phase: Phase = "deps"
    index: int = 0
    wake_at: float = 0.0
    call_id: int | None = None
    pending: set[int] = field(default_factory=set)
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    retries: dict[tuple[str, str], int] = field(default_factory=dict)
    return_to: int | None = None
    pending_delay: float | None = None
    delay_reason: str = ""
    resend: bool = False
    throttle_attempts: int = 0
    throttle_waited: float = 0.0
    request: HttpRequest | None = None
    idempotent: bool = False
    last_response: HttpResponse | None = None
    last_received_at: float = 0.0
    step_started_at: float = 0.0
    status: str | None = None
    error: RunError | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    deferred_retry_delay: float | None = None
    last_built: tuple[StepPlan, frozenset[str], BuiltRequest, str] | None = None
    """The request the frame's last step execution built, its plan, the secrets it was built with
    and the step's path, kept when the plan is `StepPlan.repeatable` (cleared whenever a step
    starts): the request of that step run again right after itself, with the same secrets."""
    owed_step: Step | None = None
    """A step whose outputs are not evaluated yet (`owed_response` holds its response): a poll
    step's outputs that nothing reads before the next poll replaces them
    (`spola.core.flow.settle_outputs` evaluates them when the workflow ends or the run is
    snapshot). Plain fields, not a pair: a waiting run keeps no object more for the collector."""
    owed_response: HttpResponse | None = None
    late_step: Step | None = None
    """The step judged last; ``read_late``: whether its outputs may be owed (`spola.core.flow._read_late`)."""
    read_late: bool = False
    step_report: StepReport | None = None
    """The run's report entry of the step the frame started last (the run's ``reports`` hold it)."""
    request_view: tuple[HttpRequest, RequestView] | None = None
    """``$request`` as expressions see it, and the request it shows (a repeated request is shown
    by the same view)."""
    request_summary: tuple[HttpRequest, Redactor, RequestSummary] | None = None
    """The last request as events show it, and the request and redactor it was made from."""

    @property
    def step(self) -> Step:
        """The step at the current index."""
        return self.workflow.steps[self.index]

    def step_index(self, step_id: str) -> int:
        """Index of a step of this workflow by id (checked at load time, so it exists)."""
        steps = self.workflow.steps
        index = self.index
        if index < len(steps) and steps[index].step_id == step_id:
            return index  # the step at hand (a poll's goto to itself)
        for i, step in enumerate(steps):
            if step.step_id == step_id:
                return i
        raise KeyError(step_id)
