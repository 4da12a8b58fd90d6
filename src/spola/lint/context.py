"""What every check reads: the loaded document, located findings, operations, graphs, schemas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.errors import Finding, SpolaError
from spola.lint.flow import WorkflowGraph
from spola.lint.rules import RULES
from spola.lint.schemas import SchemaReader

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.model import Document, Operation, Step, Workflow


class LintContext:
    """One document being linted; caches graphs and schema readers across checks."""

    __slots__ = ("_graphs", "_schemas", "document")

    def __init__(self, document: Document) -> None:
        self.document = document
        self._graphs: dict[str, WorkflowGraph] = {}
        self._schemas: SchemaReader | None = None

    def finding(
        self,
        rule_id: str,
        pointer: str,
        message: str,
        *,
        hint: str | None = None,
        severity: str | None = None,
        fix: str | None = None,
    ) -> Finding:
        """A finding of a rule at a JSON Pointer of the document (its severity unless given); ``fix``
        is the rewritten value at the pointer when the rule has a mechanical fix."""
        rule = RULES[rule_id]
        return Finding(
            message, self.document.locate(pointer), hint or rule.fix, rule_id, severity or rule.severity, fix
        )

    def graph(self, workflow: Workflow) -> WorkflowGraph:
        """The transition graph of a workflow (built once)."""
        graph = self._graphs.get(workflow.pointer)
        if graph is None:
            graph = self._graphs[workflow.pointer] = WorkflowGraph(workflow)
        return graph

    def operation(self, step: Step) -> Operation | None:
        """The operation a step calls, or None (a workflow step, AsyncAPI, or sources not loaded)."""
        try:
            return self.document.operation_for(step)
        except SpolaError:
            return None

    @property
    def schemas(self) -> SchemaReader:
        """Reads response schemas of the document's OpenAPI sources, ``$ref``s followed."""
        if self._schemas is None:
            self._schemas = SchemaReader(self.document)
        return self._schemas

    def steps(self) -> Iterator[tuple[Workflow, Step]]:
        """Every (workflow, step) pair, in document order."""
        for workflow in self.document.workflows:
            for step in workflow.steps:
                yield workflow, step

    def source_tree(self, name: str) -> dict[str, Any] | None:
        """The parsed OpenAPI description of a source, or None when it is not a loaded OpenAPI source."""
        source = self.document.sources.get(name)
        if source is None or source.openapi is None:
            return None
        return source.openapi.raw
