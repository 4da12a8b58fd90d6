"""``output-may-be-null``: workflow outputs that read a step the workflow can finish without."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.lint.flow import END, Edge
from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext
    from spola.model import Workflow


def _how(edge: Edge, workflow: Workflow) -> str:
    step = workflow.steps[edge.source].step_id
    if edge.action is not None and edge.target == END:
        return f"the `end` action '{edge.action.name}' of step '{step}' can finish the workflow first"
    if edge.action is not None:
        target = str(edge.target).removeprefix("workflow:")
        return f"action '{edge.action.name}' of step '{step}' hands over to workflow '{target}' first"
    return f"a path through gotos reaches the end after step '{step}' without running it"


def outputs_may_be_null(ctx: LintContext) -> Iterator[Finding]:
    """Each workflow output reading ``$steps.<id>`` where a successful path skips step ``<id>``."""
    for workflow in ctx.document.workflows:
        graph = ctx.graph(workflow)
        skippable: dict[int, Edge | None] = {}
        for name, value in workflow.outputs.items():
            for step_id in dict.fromkeys(e.step_id for e in value.expressions if e.step_id is not None):
                index = graph.ids.get(step_id)
                if index is None:
                    continue  # unknown-step
                if index not in skippable:
                    skippable[index] = graph.finishing_edge_avoiding(index)
                edge = skippable[index]
                if edge is None:
                    continue
                yield ctx.finding(
                    "output-may-be-null",
                    join(workflow.pointer, "outputs", name),
                    f"output '{name}' of workflow '{workflow.workflow_id}' reads step '{step_id}', "
                    f"which a successful run may skip: {_how(edge, workflow)}; the output is then null",
                )
