"""A workflow as a graph of transitions, the way spola's engine moves between steps.

After a step succeeds, its ``onSuccess`` actions (then the workflow's ``successActions`` it does
not override) are tried in order; the first whose criteria hold is taken, and when none is taken
the workflow moves to the next step, or finishes after the last one. After a failure the
``onFailure`` actions are tried the same way; a ``retry`` re-runs a step a bounded number of
times, and when no action is taken the workflow fails. ``Edge`` records each of those
possibilities; the analyses below (reachability, loops, skippable steps) walk them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeVar

from msgspec import Struct

from spola.model import FailureAction, SuccessAction

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from spola.model import Workflow

ActionT = TypeVar("ActionT", SuccessAction, FailureAction)

END: Final = "end"
"""Target of a transition that finishes the workflow successfully."""
FAIL: Final = "fail"
"""Target of a transition that finishes the workflow as failed."""
WORKFLOW: Final = "workflow:"
"""Prefix of a target that hands over to another workflow (``workflow:<id>``)."""

Target = int | str


class Edge(Struct, frozen=True):
    """One possible transition out of step ``source`` (an index into the workflow's steps).

    ``kind`` is ``success`` / ``failure`` (an action), ``retry`` (a bounded failure retry), ``next``
    (no success action taken) or ``fail`` (no failure action taken). ``conditional`` is True when
    the action has criteria.
    """

    source: int
    target: Target
    kind: str
    action: SuccessAction | FailureAction | None = None
    conditional: bool = False

    @property
    def finishes(self) -> bool:
        """True when taking this edge finishes the workflow successfully (``end``, a workflow goto)."""
        return self.kind in ("success", "next") and isinstance(self.target, str) and self.target != FAIL


def effective_actions(step_actions: Sequence[ActionT], workflow_actions: Sequence[ActionT]) -> list[ActionT]:
    """A step's actions followed by the workflow's it does not override by name (as the engine does)."""
    names = {a.name for a in step_actions}
    return list(step_actions) + [a for a in workflow_actions if a.name not in names]


def _target(action: SuccessAction | FailureAction, index: int, ids: dict[str, int]) -> Target | None:
    if action.type == "end":
        return END if isinstance(action, SuccessAction) else FAIL
    if action.step_id is not None:
        return ids.get(action.step_id)
    if action.workflow_id is not None:
        return WORKFLOW + action.workflow_id
    return index if action.type == "retry" else None


class WorkflowGraph:
    """The transitions of one workflow, with the analyses the lint rules share."""

    __slots__ = ("_scc", "edges", "ids", "workflow")

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.ids = {step.step_id: index for index, step in enumerate(workflow.steps)}
        self.edges: list[list[Edge]] = [self._edges_of(index) for index in range(len(workflow.steps))]
        self._scc: list[int] | None = None

    def _edges_of(self, index: int) -> list[Edge]:
        step = self.workflow.steps[index]
        edges: list[Edge] = []
        caught = False
        for action in effective_actions(step.on_success, self.workflow.success_actions):
            target = _target(action, index, self.ids)
            if target is not None:
                edges.append(Edge(index, target, "success", action, bool(action.criteria)))
            if not action.criteria:
                caught = True
                break
        if not caught:
            last = index + 1 >= len(self.workflow.steps)
            edges.append(Edge(index, END if last else index + 1, "next"))
        caught = False
        for failure in effective_actions(step.on_failure, self.workflow.failure_actions):
            target = _target(failure, index, self.ids)
            kind = "retry" if failure.type == "retry" else "failure"
            if target is not None:
                edges.append(Edge(index, target, kind, failure, bool(failure.criteria)))
            if not failure.criteria and kind != "retry":
                caught = True
                break
        if not caught:
            edges.append(Edge(index, FAIL, "fail"))
        return edges

    def successors(self, index: int, *, kinds: Iterable[str] | None = None) -> list[int]:
        """The step indices reachable in one transition (of the given kinds)."""
        wanted = set(kinds) if kinds is not None else None
        return [
            e.target
            for e in self.edges[index]
            if isinstance(e.target, int) and (wanted is None or e.kind in wanted)
        ]

    def reachable(self, start: int = 0, *, avoid: int | None = None) -> set[int]:
        """The steps reachable from ``start`` by any transition, never entering ``avoid``."""
        if not self.edges or start == avoid:
            return set()
        seen = {start}
        todo = [start]
        while todo:
            for nxt in self.successors(todo.pop()):
                if nxt not in seen and nxt != avoid:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def finishing_edge_avoiding(self, avoid: int) -> Edge | None:
        """A transition that finishes the workflow successfully on a path that never runs ``avoid``."""
        for index in sorted(self.reachable(0, avoid=avoid)):
            for edge in self.edges[index]:
                if edge.finishes:
                    return edge
        return None

    def components(self) -> list[int]:
        """The strongly connected component of each step (retries left out: they are bounded)."""
        if self._scc is None:
            self._scc = _tarjan(
                len(self.edges), lambda i: self.successors(i, kinds=("success", "next", "failure"))
            )
        return self._scc

    def loops(self) -> list[list[int]]:
        """Every set of steps that can repeat (a cycle of transitions), each sorted, in order."""
        scc = self.components()
        groups: dict[int, list[int]] = {}
        for index, group in enumerate(scc):
            groups.setdefault(group, []).append(index)
        result = []
        for members in groups.values():
            looping = len(members) > 1 or members[0] in self.successors(
                members[0], kinds=("success", "next", "failure")
            )
            if looping:
                result.append(sorted(members))
        return sorted(result)

    def in_loop_with(self, index: int, target: Target) -> bool:
        """True when ``target`` is a step that can lead back to step ``index`` (same loop)."""
        if not isinstance(target, int):
            return False
        scc = self.components()
        return target == index or scc[target] == scc[index]


def _tarjan(size: int, successors: Callable[[int], list[int]]) -> list[int]:
    """Tarjan's strongly connected components, iteratively; returns a component id per node."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    component = [-1] * size
    counter = 0
    groups = 0
    for root in range(size):
        if root in index_of:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            nexts = successors(node)
            if child < len(nexts):
                work.append((node, child + 1))
                nxt = nexts[child]
                if nxt not in index_of:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index_of[nxt])
                continue
            if low[node] == index_of[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = groups
                    if member == node:
                        break
                groups += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component
