"""``ref-unresolved`` inside the OpenAPI operations a document calls.

The model resolves every ``$ref`` a request needs (parameters, request body) when it loads the
document; the responses are only read by criteria and by this linter, so they are checked here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext


def response_refs(ctx: LintContext) -> Iterator[Finding]:
    """A warning per operation whose response ``$ref``s point at nothing (once per operation)."""
    seen: set[tuple[str, str]] = set()
    for _, step in ctx.steps():
        operation = ctx.operation(step)
        if operation is None or (operation.file, operation.pointer) in seen:
            continue
        seen.add((operation.file, operation.pointer))
        for problem in ctx.schemas.unresolved(operation):
            yield ctx.finding(
                "ref-unresolved",
                join(step.pointer, "operationId" if step.operation_id is not None else "operationPath"),
                f"{operation} in {operation.file}: {problem}",
                hint="fix the $ref in the OpenAPI description; criteria that read the response may fail",
                severity="warning",
            )
