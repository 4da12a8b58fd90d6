"""What runtime expressions read must exist: steps and their outputs, workflows and their outputs,
inputs the workflow declares, components and source descriptions.

The model already checks goto targets, ``dependsOn`` and ``workflowId`` fields while loading; this
check covers the expressions inside values, outputs and criteria, which it does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.expr.scanner import SHORTHAND
from spola.model.fields import did_you_mean
from spola.model.walk import expressions_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from spola.errors import Finding
    from spola.expr import Expression
    from spola.lint.context import LintContext
    from spola.model import Document, Workflow


def _declared(names: Iterable[str], name: str) -> bool:
    known = set(names)
    return name in known or name.split(".", 1)[0] in known


def _input_names(workflow: Workflow) -> set[str] | None:
    schema = workflow.inputs
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return None
    return {str(k) for k in schema["properties"]}


class _Checker:
    """Checks the expressions of one workflow; ``problems`` collects (rule, pointer, message, hint)."""

    def __init__(self, document: Document, workflow: Workflow) -> None:
        self.document = document
        self.workflow = workflow
        self.steps = {s.step_id: s for s in workflow.steps}
        self.workflows = {w.workflow_id: w for w in document.workflows}
        self.inputs = _input_names(workflow)
        self.problems: list[tuple[str, str, str, str | None]] = []
        self.handlers: dict[str, Callable[[str, Expression], None]] = {
            "steps": self._steps,
            "workflows": self._workflows,
            "inputs": self._inputs,
            "components": self._components,
            "sourceDescriptions": self._sources,
        }

    def add(self, rule: str, pointer: str, message: str, hint: str | None = None) -> None:
        self.problems.append((rule, pointer, message, hint))

    def check(self, pointer: str, e: Expression) -> None:
        if e.habit == SHORTHAND:
            return  # checks/habits.py says what a shorthand that reads nothing is
        handler = self.handlers.get(e.kind)
        if handler is not None:
            handler(pointer, e)

    def _steps(self, pointer: str, e: Expression) -> None:
        step = self.steps.get(e.id or "")
        if step is None:
            self.add(
                "unknown-step",
                pointer,
                f"`{e}` reads step '{e.id}', which is not a step of workflow '{self.workflow.workflow_id}'",
                did_you_mean(e.id or "", self.steps),
            )
        elif e.name is not None and not _declared(step.outputs, e.name):
            self.add(
                "unknown-output",
                pointer,
                f"`{e}` reads output '{e.name}', which step '{step.step_id}' does not declare",
                did_you_mean(e.name, step.outputs) or _listing("outputs", step.outputs),
            )

    def _workflows(self, pointer: str, e: Expression) -> None:
        target = self.workflows.get(e.id or "")
        if target is None:
            self.add(
                "unknown-workflow",
                pointer,
                f"`{e}` reads workflow '{e.id}', which this document does not have",
                did_you_mean(e.id or "", self.workflows),
            )
        elif e.field == "outputs" and e.name is not None and not _declared(target.outputs, e.name):
            self.add(
                "unknown-output",
                pointer,
                f"`{e}` reads output '{e.name}', which workflow '{target.workflow_id}' does not declare",
                did_you_mean(e.name, target.outputs) or _listing("outputs", target.outputs),
            )

    def _inputs(self, pointer: str, e: Expression) -> None:
        if self.inputs is None or e.name is None or _declared(self.inputs, e.name):
            return
        self.add(
            "unknown-input",
            pointer,
            f"`{e}` reads input '{e.name}', which the inputs of workflow "
            f"'{self.workflow.workflow_id}' do not declare",
            did_you_mean(e.name, self.inputs) or _listing("inputs", self.inputs),
        )

    def _components(self, pointer: str, e: Expression) -> None:
        table: Any = self.document.components.raw.get(e.id or "")
        if isinstance(table, dict) and e.name is not None and _declared(table, e.name):
            return
        self.add(
            "ref-unresolved",
            pointer,
            f"`{e}` names a component that the document does not define",
            did_you_mean(e.name or "", table) if isinstance(table, dict) else None,
        )

    def _sources(self, pointer: str, e: Expression) -> None:
        names = [s.name for s in self.document.source_descriptions]
        if e.id not in names:
            self.add(
                "ref-unresolved",
                pointer,
                f"`{e}` names source description '{e.id}', which the document does not have",
                did_you_mean(e.id or "", names),
            )


def _listing(what: str, names: Iterable[str]) -> str:
    shown = sorted(names)
    return f"declared {what}: {', '.join(shown)}" if shown else f"it declares no {what}"


def expression_references(ctx: LintContext) -> Iterator[Finding]:
    """``unknown-step`` / ``unknown-workflow`` / ``unknown-output`` / ``unknown-input`` /
    ``ref-unresolved`` for what runtime expressions read."""
    seen: set[tuple[str, str, str]] = set()
    for workflow in ctx.document.workflows:
        checker = _Checker(ctx.document, workflow)
        for pointer, expression in expressions_of(workflow):
            checker.check(pointer, expression)
        for rule, pointer, message, hint in checker.problems:
            if (rule, pointer, message) in seen:
                continue
            seen.add((rule, pointer, message))
            yield ctx.finding(rule, pointer, message, hint=hint)
