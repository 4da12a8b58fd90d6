"""What a step's request needs that never changes between its executions, looked up once per run.

A poll loop runs the same step hundreds of times: its operation, merged parameter list, source URL,
base URL and timeout are the same every time, so the `Run` keeps a `StepPlan` per step and an
execution only evaluates the parameter values and body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

from spola.request_builder import RequestBuildError, base_url, merge_parameters

if TYPE_CHECKING:
    from spola.model import Document, Operation, Parameter, Step, Workflow
    from spola.options import RunOptions


class StepPlan(Struct, frozen=True):
    """The fixed part of a step's request; ``base`` is None when it cannot be formed (the request
    builder then says why, when the step runs)."""

    step: Step
    operation: Operation | None
    parameters: tuple[Parameter, ...]
    source_url: str | None
    base: str | None
    timeout: float


def plan_step(document: Document, workflow: Workflow, step: Step, options: RunOptions) -> StepPlan:
    """Look up everything about ``step``'s request that does not depend on the run's values."""
    parameters = tuple(merge_parameters(workflow.parameters, step.parameters))
    timeout = options.http_timeout
    if step.timeout:
        timeout = min(timeout, step.timeout / 1000)
    operation = None if step.workflow_id else document.operation_for(step)
    if operation is None:
        return StepPlan(step, None, parameters, None, None, timeout)
    source = next((s for s in document.source_descriptions if s.name == operation.source), None)
    source_url = source.url if source else None
    try:
        base: str | None = base_url(operation, options, source_url)
    except RequestBuildError:
        base = None
    return StepPlan(step, operation, parameters, source_url, base, timeout)
