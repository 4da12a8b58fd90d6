"""What a step's request needs that never changes between its executions, made once and shared.

A poll loop runs the same step hundreds of times: its operation, merged parameter list, source URL,
base URL and timeout are the same every time, and so is every decision the request builder takes
from them (`spola.request_builder.compile_request`: each parameter's location and serialisation,
the path template's slots, the body's media type, whether security or the method alone decide),
so an execution looks its `StepPlan` up and only evaluates the parameter values and body
(`StepPlan.build`). Nothing here depends on the credentials: whether they apply is decided per
execution.

Plans are shared by every run whose options agree on what a plan reads (the servers, the server
variables, the HTTP timeout): the runs of a batch differ only in their seed, so ten thousand of them
hold one plan per step, not one each. `shared_plan` keys on the step and on those option values by
identity (a batch's per-run options are copies that keep the same ``servers`` and ``server_vars``
objects), checked with ``is`` on a hit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

from spola.request_builder import (
    BuiltRequest,
    CompiledRequest,
    RequestBuildError,
    base_url,
    compile_request,
    merge_parameters,
)

if TYPE_CHECKING:
    from spola.expr import Scope
    from spola.model import Document, Operation, Parameter, Step, Workflow
    from spola.options import RunOptions


class StepPlan(Struct, frozen=True, gc=False):
    """The fixed part of a step's request; ``base`` is None when it cannot be formed (the request
    builder then says why, when the step runs). Not tracked by the cyclic collector (``gc=False``):
    it refers to the document's objects, which never refer back to a plan."""

    step: Step
    operation: Operation | None
    parameters: tuple[Parameter, ...]
    source_url: str | None
    base: str | None
    timeout: float
    request: CompiledRequest | None = None
    """The compiled request (None when there is no operation)."""
    repeatable: bool = False
    """The request reads nothing that an execution of the step itself changes (see `_repeatable`):
    when the step runs again right after itself (a poll loop), its last request is the same one."""

    def build(
        self, scope: Scope, options: RunOptions, secret_values: frozenset[str] = frozenset()
    ) -> BuiltRequest:
        """The step's request in ``scope``: what `spola.request_builder.build_request` gives for this
        plan's operation, parameters, body, source URL and base (the same request, the same errors).

        Raises:
            RequestBuildError: the step has no operation, a path parameter has no value, or no
                server URL can be formed.
        """
        if self.request is None:
            raise RequestBuildError(f"step {self.step.step_id} has no operation to build a request for")
        return self.request.build(scope, options, secret_values)


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
    request = compile_request(
        operation=operation,
        parameters=parameters,
        request_body=step.request_body,
        source_url=source_url,
        base=base,
    )
    return StepPlan(
        step, operation, parameters, source_url, base, timeout, request, _repeatable(step, parameters)
    )


_STABLE_KINDS = frozenset({"inputs", "sourceDescriptions", "components", "self"})
"""What an expression may read for a step's request to stay the same between two executions of the
step in a row: the workflow's inputs and the document never change within a workflow execution."""


def _repeatable(step: Step, parameters: tuple[Parameter, ...]) -> bool:
    """Whether the request of ``step`` reads only the workflow's inputs, the document and other
    steps' outputs: nothing that running the step itself changes ($response, $statusCode, its own
    outputs) and nothing another workflow changes meanwhile ($workflows, $outputs)."""
    values = [p.value for p in parameters]
    body = step.request_body
    if body is not None:
        if body.payload is not None:
            values.append(body.payload)
        values += [r.value for r in body.replacements]
    for value in values:
        for ref in value.references():
            if ref.kind in _STABLE_KINDS:
                continue
            if ref.kind == "steps" and ref.id is not None and ref.id != step.step_id:
                continue
            return False
    return True


_LIMIT = 4096
_PLANS: dict[tuple[int, int, int, float], tuple[object, object, StepPlan]] = {}
_LAST: dict[int, tuple[object, object, float, StepPlan]] = {}
"""By step: the plan `shared_plan` gave last for it (a poll loop asks for the same one each time),
checked like a hit in ``_PLANS``; only ever holds plans that ``_PLANS`` holds."""


def shared_plan(document: Document, workflow: Workflow, step: Step, options: RunOptions) -> StepPlan:
    """`plan_step`, made once for every run whose options agree on what a plan reads (see the
    module's notes); at most ``_LIMIT`` plans are held (all dropped when full)."""
    servers, server_vars = options.servers, options.server_vars
    last = _LAST.get(id(step))
    if (
        last is not None
        and last[3].step is step
        and last[0] is servers
        and last[1] is server_vars
        and last[2] == options.http_timeout
    ):
        return last[3]
    key = (id(step), id(servers), id(server_vars), options.http_timeout)
    known = _PLANS.get(key)
    if known is not None and known[2].step is step and known[0] is servers and known[1] is server_vars:
        plan = known[2]
    else:
        plan = plan_step(document, workflow, step, options)
        if len(_PLANS) >= _LIMIT:
            _PLANS.clear()
            _LAST.clear()
        _PLANS[key] = (servers, server_vars, plan)
    _LAST[id(step)] = (servers, server_vars, options.http_timeout, plan)
    return plan
