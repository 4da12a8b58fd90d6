"""A workflow drawn as its steps and transitions, in Mermaid or Graphviz DOT, for docs and reviews.

Nodes are the steps (step id and what it calls), a start node, and the end, failure and other
workflows the transitions lead to. Edges follow the engine (`spola.lint.flow`): success actions
with their names and criteria, the default move to the next step (dashed), failure actions
(``goto``, ``retry`` with its delay and limit, ``end``). The implicit failure of a step without a
matching failure action is not drawn: every step has one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from msgspec import Struct

from spola.lint.flow import END, FAIL, WORKFLOW, Edge, WorkflowGraph
from spola.model import FailureAction

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spola.model import Step, Workflow

FORMATS: Final = ("mermaid", "dot")
MAX_LABEL: Final = 80


class Node(Struct, frozen=True):
    """A node to draw: an id unique in the whole graph, its label and its kind."""

    id: str
    label: str
    kind: str  # "step", "start", "end", "fail", "workflow"


class Arrow(Struct, frozen=True):
    """An edge to draw; ``dashed`` for the default move and for failure transitions."""

    source: str
    target: str
    label: str
    dashed: bool


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def step_label(step: Step) -> str:
    """``stepId`` and what the step calls, on two lines."""
    if step.workflow_id is not None:
        target = f"workflow {step.workflow_id}"
    elif step.operation_id is not None:
        target = step.operation_id
    else:
        path = step.operation_path or step.channel_path or ""
        target = path.split("#", 1)[-1].replace("~1", "/").replace("~0", "~")
    return f"{step.step_id}\n{_short(target)}"


def edge_label(edge: Edge) -> str:
    """The action's name and criteria (``&&``-joined), or what a retry waits; empty for the default."""
    action = edge.action
    if action is None:
        return ""
    text = action.name
    if edge.kind == "failure":
        text = f"on failure: {text}"
    if isinstance(action, FailureAction) and action.type == "retry":
        limit = action.retry_limit if action.retry_limit is not None else 1
        after = f", after {action.retry_after:g}s" if action.retry_after is not None else ""
        text = f"retry {action.name} (max {limit}{after})"
    if action.criteria:
        text += ": " + " && ".join(c.condition for c in action.criteria)
    return _short(text)


def layout(workflows: Sequence[Workflow]) -> list[tuple[Workflow, list[Node], list[Arrow]]]:
    """Nodes and arrows of each workflow, with ids prefixed by the workflow's position."""
    drawn = []
    for number, workflow in enumerate(workflows):
        prefix = f"w{number}_"
        graph = WorkflowGraph(workflow)
        nodes = [Node(prefix + "start", "start", "start")]
        nodes.extend(Node(f"{prefix}s{i}", step_label(s), "step") for i, s in enumerate(workflow.steps))
        arrows = [Arrow(prefix + "start", prefix + "s0", "", False)] if workflow.steps else []
        extra: dict[str, Node] = {}
        for edges in graph.edges:
            for edge in edges:
                if edge.kind == "fail":
                    continue
                target = _target_node(prefix, edge, extra)
                dashed = edge.kind in ("next", "failure", "retry")
                arrows.append(Arrow(f"{prefix}s{edge.source}", target, edge_label(edge), dashed))
        nodes.extend(extra.values())
        drawn.append((workflow, nodes, arrows))
    return drawn


def _target_node(prefix: str, edge: Edge, extra: dict[str, Node]) -> str:
    target = edge.target
    if isinstance(target, int):
        return f"{prefix}s{target}"
    if target == END:
        node = Node(prefix + "end", "end", "end")
    elif target == FAIL:
        node = Node(prefix + "fail", "fail", "fail")
    else:
        name = target.removeprefix(WORKFLOW)
        index = len([n for n in extra.values() if n.kind == "workflow"])
        node = extra.get(target) or Node(f"{prefix}wf{index}", f"workflow {name}", "workflow")
        extra[target] = node
        return node.id
    extra[str(target)] = node
    return node.id


# --- Mermaid --------------------------------------------------------------------------------------

_MERMAID_SHAPES: Final = {
    "step": ('["', '"]'),
    "start": ('(("', '"))'),
    "end": ('(("', '"))'),
    "fail": ('(("', '"))'),
    "workflow": ('("', '")'),
}


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes; newlines become ``<br/>``)."""
    escaped = text.replace("#", "#35;").replace('"', "#quot;").replace("|", "#124;")
    escaped = escaped.replace("<", "#lt;").replace(">", "#gt;")
    return escaped.replace("\n", "<br/>")


def to_mermaid(workflows: Sequence[Workflow]) -> str:
    """A Mermaid ``flowchart TD``; several workflows become subgraphs."""
    lines = ["flowchart TD"]
    several = len(workflows) > 1
    for workflow, nodes, arrows in layout(workflows):
        indent = "    " if several else "  "
        if several:
            lines.append(f'  subgraph {nodes[0].id[:-6]}["{mermaid_text(workflow.workflow_id)}"]')
        else:
            lines.append(f"  %% workflow {workflow.workflow_id}")
        for node in nodes:
            left, right = _MERMAID_SHAPES[node.kind]
            lines.append(f"{indent}{node.id}{left}{mermaid_text(node.label)}{right}")
        for arrow in arrows:
            link = "-.->" if arrow.dashed else "-->"
            label = f'|"{mermaid_text(arrow.label)}"|' if arrow.label else ""
            lines.append(f"{indent}{arrow.source} {link}{label} {arrow.target}")
        if several:
            lines.append("  end")
    return "\n".join(lines)


# --- Graphviz DOT ---------------------------------------------------------------------------------

_DOT_SHAPES: Final = {
    "step": "box",
    "start": "circle",
    "end": "doublecircle",
    "fail": "doubleoctagon",
    "workflow": "component",
}


def dot_text(text: str) -> str:
    """A quoted DOT string (backslashes and quotes escaped, newlines as ``\\n``)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(workflows: Sequence[Workflow]) -> str:
    """A Graphviz ``digraph``; several workflows become clusters."""
    name = workflows[0].workflow_id if len(workflows) == 1 else "workflows"
    lines = [f"digraph {dot_text(name)} {{", "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']
    lines.append('  edge [fontname="Helvetica", fontsize=10];')
    several = len(workflows) > 1
    for number, (workflow, nodes, arrows) in enumerate(layout(workflows)):
        indent = "    " if several else "  "
        if several:
            lines.append(f"  subgraph cluster_{number} {{")
            lines.append(f"    label={dot_text(workflow.workflow_id)};")
        for node in nodes:
            lines.append(f"{indent}{node.id} [shape={_DOT_SHAPES[node.kind]}, label={dot_text(node.label)}];")
        for arrow in arrows:
            attrs = [f"label={dot_text(arrow.label)}"] if arrow.label else []
            if arrow.dashed:
                attrs.append("style=dashed")
            suffix = f" [{', '.join(attrs)}]" if attrs else ""
            lines.append(f"{indent}{arrow.source} -> {arrow.target}{suffix};")
        if several:
            lines.append("  }")
    lines.append("}")
    return "\n".join(lines)
