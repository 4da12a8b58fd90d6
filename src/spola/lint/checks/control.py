"""Control flow: unreachable steps, loops with no way out, and steps that goto themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.lint.flow import FAIL
from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext


def unreachable_steps(ctx: LintContext) -> Iterator[Finding]:
    """``unreachable-step``: no transition from the first step leads to the step."""
    for workflow in ctx.document.workflows:
        graph = ctx.graph(workflow)
        reached = graph.reachable(0)
        for index, step in enumerate(workflow.steps):
            if index in reached:
                continue
            yield ctx.finding(
                "unreachable-step",
                step.pointer,
                f"step '{step.step_id}' can never run: no path of workflow '{workflow.workflow_id}' "
                "leads to it (the step before it always jumps elsewhere, and no goto names it)",
            )


def loops_without_exit(ctx: LintContext) -> Iterator[Finding]:
    """``loop-no-exit``: a cycle of steps whose every transition stays inside (or fails)."""
    for workflow in ctx.document.workflows:
        graph = ctx.graph(workflow)
        reached = graph.reachable(0)
        for members in graph.loops():
            if not reached.intersection(members):
                continue  # reported as unreachable
            inside = set(members)
            exits = [
                edge
                for index in members
                for edge in graph.edges[index]
                if edge.kind in ("success", "next", "failure")
                and edge.target not in inside
                and edge.target != FAIL
            ]
            if exits:
                continue
            steps = workflow.steps
            names = " → ".join(steps[i].step_id for i in [*members, members[0]])
            yield ctx.finding(
                "loop-no-exit",
                steps[members[0]].pointer,
                f"the loop {names} has no way out: every success transition (and every failure goto) "
                "leads back into it, so the workflow can only leave it by failing or by hitting "
                "the step limit",
            )


def self_gotos(ctx: LintContext) -> Iterator[Finding]:
    """``goto-self-loop``: a goto back to the same step (a poll loop without a declared delay)."""
    seen: set[str] = set()
    for workflow in ctx.document.workflows:
        graph = ctx.graph(workflow)
        for index, step in enumerate(workflow.steps):
            for edge in graph.edges[index]:
                action = edge.action
                if edge.kind not in ("success", "failure") or edge.target != index or action is None:
                    continue
                if action.type != "goto":
                    continue
                pointer = join(action.pointer, "stepId") if action.reference is None else action.pointer
                if pointer in seen:
                    continue
                seen.add(pointer)
                yield ctx.finding(
                    "goto-self-loop",
                    pointer,
                    f"action '{action.name}' of step '{step.step_id}' re-runs the step with goto: spola "
                    "waits between repeats (its poll back-off), but other runners may call the API "
                    "again at once",
                    hint="for portability, make the loop a failure action `type: retry` with `retryAfter` "
                    "and `retryLimit` (success criteria that only pass in a final state)",
                )
