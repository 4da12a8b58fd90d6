"""A workflow that runs itself whatever happens: found before anything is sent.

Edges are the nestings a workflow cannot avoid once it starts: its ``dependsOn`` workflows, and a
step that runs a workflow when no earlier step (nor the workflow) has a success action that could
end or divert the run first. A cycle of such edges from the workflow asked for recurses until
``--max-depth``; it is refused up front. Conditional recursion is left to the run-time depth limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.errors import NestingTooDeep, SpolaError

if TYPE_CHECKING:
    from spola.model import Document, Workflow


def _unavoidable(document: Document, workflow: Workflow) -> list[tuple[str, Document, Workflow]]:
    refs = list(workflow.depends_on)
    if not workflow.success_actions:
        for step in workflow.steps:
            if step.workflow_id:
                refs.append(step.workflow_id)
                break
            if step.on_success:
                break
    out: list[tuple[str, Document, Workflow]] = []
    for ref in refs:
        try:
            child_document, child = document.resolve_workflow(ref)
        except SpolaError:
            continue  # reported where the step runs
        out.append((ref, child_document, child))
    return out


def check_self_running(document: Document, workflow: Workflow) -> None:
    """Raise ``NestingTooDeep`` when ``workflow`` unavoidably runs itself (directly or in a cycle).

    Raises:
        NestingTooDeep: the chain of workflows that repeats.
    """
    path: list[tuple[int, str]] = [(id(workflow), workflow.workflow_id)]
    done: set[int] = set()
    stack = [iter(_unavoidable(document, workflow))]
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            done.add(path.pop()[0])
            continue
        _, child_document, child = nxt
        key = id(child)
        if any(key == k for k, _ in path):
            chain = " → ".join([*(name for _, name in path), child.workflow_id])
            raise NestingTooDeep(
                f"workflow {child.workflow_id} runs itself whatever happens ({chain}): it would nest "
                "until the --max-depth limit; nothing was sent",
                hint="End the recursion with a success action (end or goto) before the step that runs it.",
            )
        if key in done:
            continue
        path.append((key, child.workflow_id))
        stack.append(iter(_unavoidable(child_document, child)))
