"""What ``spola run`` checks before its first request: a problem is judged where it lives.

The document's own errors and the linter's blocking findings (requests that cannot be built) refuse the
run only when they lie in what the chosen workflow can reach (``spola.model.reach``); the rest come back
as warnings, and the chosen workflow runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

from spola.errors import DocumentError, Finding, Location
from spola.lint.checks.habits import notices
from spola.lint.engine import blocking_findings
from spola.model import load_for_run
from spola.model.reach import in_reach, reach

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from spola.limits import LoadLimits
    from spola.model import Document, Workflow


class Preflight(Struct, frozen=True):
    """A document ready to run one workflow, and the problems found elsewhere in it."""

    document: Document
    workflow: Workflow
    elsewhere: tuple[Finding, ...]
    habits: tuple[str, ...] = ()
    """Other runners' habits the run reads, once per document (``… means $steps.x.outputs.y``)."""


def preflight(
    path: str | Path,
    workflow_id: str | None,
    *,
    allow_remote: bool = False,
    limits: LoadLimits | None = None,
    allow_hosts: Sequence[str] = (),
) -> Preflight:
    """Load ``path`` for a run of ``workflow_id`` (or its only workflow).

    Raises:
        DocumentError: a problem in what the run reaches (nothing was sent); lists each.
        WorkflowNotFound: no such workflow.
    """
    document, workflow, elsewhere = load_for_run(
        path, workflow_id, allow_remote=allow_remote, limits=limits, allow_hosts=allow_hosts
    )
    where = reach(document, workflow.workflow_id)
    blocking: list[Finding] = []
    for finding in blocking_findings(document):
        (blocking if in_reach(finding, where) else elsewhere).append(finding)
    if blocking:
        raise DocumentError(
            f"workflow '{workflow.workflow_id}' of {path} would fail before its first request; "
            "nothing was sent",
            findings=blocking,
            location=Location(str(path)),
            hint="spola validate lists every finding.",
        )
    habits = notices(document, where.covers)
    return Preflight(document, workflow, tuple(elsewhere), tuple(habits))


def describe_elsewhere(finding: Finding, workflow_id: str) -> str:
    """One warning line for a problem the run does not reach."""
    return f"warning: {finding} (not reached by workflow '{workflow_id}', which runs)"
