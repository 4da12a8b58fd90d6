"""``cancel-extension``: a workflow's ``x-spola-cancel`` must name a workflow in reach with its inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.model.cancel import cancel_findings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext


def cancel_extensions(ctx: LintContext) -> Iterator[Finding]:
    """Every problem of every workflow's ``x-spola-cancel``."""
    for workflow in ctx.document.workflows:
        yield from cancel_findings(ctx.document, workflow)
