"""Cross-reference checks inside one Arazzo document (no sources needed).

goto / retry targets, workflow references, workflow and step ``dependsOn``. References into other
documents (``$sourceDescriptions.<name>...``) are left to ``resolve``, which loads those documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.model.fields import did_you_mean
from spola.model.pointers import join
from spola.model.refs_text import parse_step_dependency, parse_workflow_ref

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.model.collector import Collector
    from spola.model.document import Document, FailureAction, Step, SuccessAction, Workflow


def check_references(c: Collector, document: Document) -> None:
    """Record a finding for every local reference that points at nothing."""
    ids = {w.workflow_id for w in document.workflows}
    for workflow in document.workflows:
        step_ids = [s.step_id for s in workflow.steps]
        for index, ref in enumerate(workflow.depends_on):
            _workflow_ref(c, ref, join(workflow.pointer, "dependsOn", index), ids, "dependsOn")
            if ref == workflow.workflow_id:
                c.error(
                    join(workflow.pointer, "dependsOn", index),
                    "a workflow cannot depend on itself",
                    rule="reference",
                )
        for action, where in _actions(workflow):
            _action(c, action=action, where=where, workflow=workflow, step_ids=step_ids, ids=ids)
        for step in workflow.steps:
            if step.workflow_id is not None:
                _workflow_ref(c, step.workflow_id, join(step.pointer, "workflowId"), ids, "workflowId")
                if step.workflow_id == workflow.workflow_id:
                    c.warn(
                        join(step.pointer, "workflowId"),
                        "the step calls its own workflow (recursion)",
                        rule="reference",
                    )
            _step_dependencies(c, step, workflow, document)
    _dependency_cycles(c, document)


def _actions(workflow: Workflow) -> Iterator[tuple[SuccessAction | FailureAction, str]]:
    actions: list[SuccessAction | FailureAction] = [*workflow.success_actions, *workflow.failure_actions]
    for step in workflow.steps:
        actions.extend(step.on_success)
        actions.extend(step.on_failure)
    for action in actions:
        yield action, action.pointer


def _action(
    c: Collector,
    *,
    action: SuccessAction | FailureAction,
    where: str,
    workflow: Workflow,
    step_ids: list[str],
    ids: set[str],
) -> None:
    if action.type == "end":
        return
    via = f" (from {action.reference})" if action.reference else ""
    if action.step_id is not None and action.step_id not in step_ids:
        c.error(
            join(where, "stepId") if action.reference is None else where,
            f"{action.type} target '{action.step_id}'{via} is not a step of workflow "
            f"'{workflow.workflow_id}'",
            hint=did_you_mean(action.step_id, step_ids),
            rule="reference",
        )
    if action.workflow_id is not None:
        _workflow_ref(
            c,
            action.workflow_id,
            join(where, "workflowId") if action.reference is None else where,
            ids,
            "workflowId",
        )


def _workflow_ref(c: Collector, ref: str, where: str, ids: set[str], field: str) -> None:
    parsed = parse_workflow_ref(ref)
    if parsed is None:
        c.error(
            where,
            f"'{ref}' is not a workflow reference; write a workflowId of this document or "
            "$sourceDescriptions.<name>.<workflowId>",
            rule="reference",
        )
        return
    source, workflow_id = parsed
    if source is None and workflow_id not in ids:
        c.error(
            where,
            f"{field} '{workflow_id}' is not a workflow of this document",
            hint=did_you_mean(workflow_id, ids) or f"workflows: {', '.join(sorted(ids))}",
            rule="reference",
        )


def _step_dependencies(c: Collector, step: Step, workflow: Workflow, document: Document) -> None:
    for index, text in enumerate(step.depends_on):
        where = join(step.pointer, "dependsOn", index)
        dep = parse_step_dependency(text)
        if dep is None or dep.source is not None:
            continue  # malformed ones were reported when read; other documents are checked in resolve
        target = workflow
        if dep.workflow_id is not None:
            found = next((w for w in document.workflows if w.workflow_id == dep.workflow_id), None)
            if found is None:
                c.error(
                    where,
                    f"dependsOn '{text}': no workflow '{dep.workflow_id}' in this document",
                    rule="reference",
                )
                continue
            target = found
        ids = [s.step_id for s in target.steps]
        if dep.step_id not in ids:
            c.error(
                where,
                f"dependsOn '{text}': no step '{dep.step_id}' in workflow '{target.workflow_id}'",
                hint=did_you_mean(dep.step_id, ids),
                rule="reference",
            )
        elif target is workflow and dep.step_id == step.step_id:
            c.error(where, "a step cannot depend on itself", rule="reference")


def _dependency_cycles(c: Collector, document: Document) -> None:
    graph: dict[str, list[str]] = {
        w.workflow_id: [d for d in w.depends_on if not d.startswith("$")] for w in document.workflows
    }
    state: dict[str, int] = {}
    pointers = {w.workflow_id: w.pointer for w in document.workflows}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                c.error(
                    join(pointers[node], "dependsOn"),
                    "workflow dependsOn cycle: " + " → ".join(cycle),
                    rule="reference",
                )
            elif nxt in graph and state.get(nxt) is None:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for workflow_id in graph:
        if state.get(workflow_id) is None:
            visit(workflow_id, [workflow_id])


def iter_steps(document: Document) -> Iterator[tuple[Workflow, Step]]:
    """Every (workflow, step) pair of the document, in order."""
    for workflow in document.workflows:
        for step in workflow.steps:
            yield workflow, step
