"""``spola graph DOC [-w ID] [--format mermaid|dot]``: a workflow as steps and transitions."""

from __future__ import annotations

import sys

from spola.errors import UsageError
from spola.lint.graph import FORMATS, to_dot, to_mermaid
from spola.model import load


def print_graph(doc: str, workflow: str | None, *, fmt: str) -> None:
    """Print the graph of one workflow (or of every workflow when none is named) to stdout.

    The document's sources are not loaded: a graph needs only the document itself.

    Raises:
        UsageError: an unknown format. DocumentError: the document is invalid.
        WorkflowNotFound: no workflow with that id.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown graph format '{fmt}'", hint=f"Use one of: {', '.join(FORMATS)}.")
    document = load(doc, resolve_sources=False)
    workflows = [document.workflow(workflow)] if workflow is not None else list(document.workflows)
    text = to_dot(workflows) if fmt == "dot" else to_mermaid(workflows)
    sys.stdout.write(text + "\n")
