"""Walks over a workflow's actions, criteria, value trees and their expressions (checks, the engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import Struct

from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.criteria import Value
    from spola.expr import Expression
    from spola.model import Criterion, FailureAction, Parameter, Step, SuccessAction, Workflow


class Site(Struct, frozen=True):
    """A value tree as written (``raw``) and compiled (``value``), at ``pointer``; ``step`` when in one."""

    pointer: str
    raw: Any
    value: Value | None
    step: Step | None = None


def actions_of(workflow: Workflow) -> Iterator[SuccessAction | FailureAction]:
    """The workflow's own actions, then every step's."""
    yield from workflow.success_actions
    yield from workflow.failure_actions
    for step in workflow.steps:
        yield from step.on_success
        yield from step.on_failure


def criteria_of(workflow: Workflow) -> Iterator[Criterion]:
    """Every Criterion Object of the workflow: success criteria, then action criteria."""
    for step in workflow.steps:
        yield from step.success_criteria
    for action in actions_of(workflow):
        yield from action.criteria


def _parameters(params: tuple[Parameter, ...], step: Step | None) -> Iterator[Site]:
    for param in params:
        yield Site(join(param.pointer, "value"), param.raw_value, param.value, step)


def sites_of(workflow: Workflow, *, workflow_outputs: bool = True) -> Iterator[Site]:
    """Every value tree of the workflow: parameters, payloads, replacements, outputs (the workflow's
    own outputs left out when ``workflow_outputs`` is false)."""
    yield from _parameters(workflow.parameters, None)
    if workflow_outputs:
        for name, value in workflow.outputs.items():
            yield Site(join(workflow.pointer, "outputs", name), value.raw, value)
    shared: list[SuccessAction | FailureAction] = [*workflow.success_actions, *workflow.failure_actions]
    for action in shared:
        yield from _parameters(action.parameters, None)
    for step in workflow.steps:
        yield from _parameters(step.parameters, step)
        body = step.request_body
        if body is not None:
            if body.has_payload:
                yield Site(join(body.pointer, "payload"), body.raw_payload, body.payload, step)
            for replacement in body.replacements:
                yield Site(join(replacement.pointer, "value"), replacement.raw_value, replacement.value, step)
        for name, value in step.outputs.items():
            yield Site(join(step.pointer, "outputs", name), value.raw, value, step)
        own: list[SuccessAction | FailureAction] = [*step.on_success, *step.on_failure]
        for action in own:
            yield from _parameters(action.parameters, step)


def strings_in(raw: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """Every string inside a raw value tree, with its pointer."""
    if isinstance(raw, str):
        yield pointer, raw
    elif isinstance(raw, dict):
        for key, item in raw.items():
            yield from strings_in(item, join(pointer, str(key)))
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            yield from strings_in(item, join(pointer, index))


def expressions_of(workflow: Workflow, *, workflow_outputs: bool = True) -> Iterator[tuple[str, Expression]]:
    """Every runtime expression of the workflow's values and criteria, with the pointer it sits at
    (those of the workflow's own outputs left out when ``workflow_outputs`` is false)."""
    for site in sites_of(workflow, workflow_outputs=workflow_outputs):
        if site.value is not None:
            for expression in site.value.expressions:
                yield site.pointer, expression
    for criterion in criteria_of(workflow):
        for expression in criterion.compiled.expressions:
            yield criterion.pointer, expression
