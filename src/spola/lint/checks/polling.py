"""``poll-uncovered-states``: a poll loop names only some of the values its response field can take.

A poll step is a step with a transition back into its own loop. The response body fields its
success criteria and success actions compare with literals are looked up in the operation's
response schema; for a field with an ``enum``, a value is *uncovered* when the step can succeed
with it and every criteria-guarded success action is then certainly not taken (criteria are
decided with three-valued logic: a comparison on another field or on the status code may hold).
A value the criteria name (``== 'X'``, ``!= 'X'``, or an ordering comparison it satisfies) was
thought of, even when it takes the catch-all: ``status != 'DONE'`` looping means DONE moves on.
The others go to the step's catch-all transition; when that leaves the loop (the next step, the
end of the workflow, a goto elsewhere), a run that is still QUEUED is treated as done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.lint.conditions import Comparison, Path, comparisons, decide_all, path_text
from spola.lint.flow import END, WORKFLOW, Edge, effective_actions
from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext
    from spola.lint.flow import WorkflowGraph
    from spola.model import Step, SuccessAction, Workflow


def _guarded_actions(step: Step, workflow: Workflow) -> list[SuccessAction]:
    """The success actions tried before the catch-all (those with criteria, up to the first without)."""
    guarded = []
    for action in effective_actions(step.on_success, workflow.success_actions):
        if not action.criteria:
            break
        guarded.append(action)
    return guarded


def _named(comparisons_on_path: list[Comparison], value: Any) -> bool:
    for comparison in comparisons_on_path:
        if comparison.op in ("==", "!="):
            if Comparison(comparison.path, "==", comparison.literal).holds_for(value):
                return True
        elif comparison.holds_for(value):
            return True
    return False


def _falls_through(step: Step, actions: list[SuccessAction], path: Path, value: Any) -> bool:
    if decide_all(step.success_criteria, path, value) is False:
        return False  # the step fails: the failure actions handle it
    return all(decide_all(action.criteria, path, value) is False for action in actions)


def _catch_all(graph: WorkflowGraph, index: int) -> Edge | None:
    """The transition taken on success when no criteria-guarded action applies."""
    edges = graph.edges[index]
    return next((e for e in edges if e.kind == "next" or (e.kind == "success" and not e.conditional)), None)


def _describe(edge: Edge, workflow: Workflow) -> str:
    if edge.target == END and edge.kind == "next":
        return "the end of the workflow (it is the last step)"
    if edge.target == END:
        return f"the `end` action '{edge.action.name if edge.action else ''}'"
    if isinstance(edge.target, str):
        return f"workflow '{edge.target.removeprefix(WORKFLOW)}'"
    step = workflow.steps[edge.target].step_id
    return f"step '{step}' (the next step)" if edge.kind == "next" else f"step '{step}'"


def _show(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def uncovered_poll_states(ctx: LintContext) -> Iterator[Finding]:
    """One finding per poll step and response field whose enum the criteria do not cover."""
    for workflow in ctx.document.workflows:
        graph = ctx.graph(workflow)
        for index, step in enumerate(workflow.steps):
            loops_back = any(
                e.kind in ("success", "failure") and graph.in_loop_with(index, e.target)
                for e in graph.edges[index]
            )
            if not loops_back:
                continue
            exit_edge = _catch_all(graph, index)
            if exit_edge is None or graph.in_loop_with(index, exit_edge.target):
                continue  # anything not named keeps polling
            operation = ctx.operation(step)
            if operation is None:
                continue
            actions = _guarded_actions(step, workflow)
            paths: dict[Path, list[Comparison]] = {}
            for criterion in [*step.success_criteria, *(c for a in actions for c in a.criteria)]:
                for comparison in comparisons(criterion):
                    paths.setdefault(comparison.path, []).append(comparison)
            for path, found in paths.items():
                enum = ctx.schemas.values_at(operation, path)
                missing = [v for v in enum if not _named(found, v) and _falls_through(step, actions, path, v)]
                if not missing:
                    continue
                named = [v for v in enum if v not in missing]
                field = str(path[-1]) if path else "the body"
                yield ctx.finding(
                    "poll-uncovered-states",
                    join(step.pointer, "onSuccess") if step.on_success else step.pointer,
                    f"poll loop of step '{step.step_id}' branches on {field} ({path_text(path)}), which "
                    f"{operation} can also return as {_show(missing)}; the criteria only cover "
                    f"{_show(named)}, so those states fall through to {_describe(exit_edge, workflow)} "
                    "while the run may not be finished",
                    hint=f"add a goto back to the loop for the non-terminal ones among {_show(missing)}, "
                    "and an end or goto for the terminal ones",
                )
