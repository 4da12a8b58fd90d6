"""Arazzo document model and loading: Structs, YAML/JSON with line numbers, checks, sources.

``load(path)`` returns a ``Document`` whose every step already knows its ``Operation``
(``Document.operation_for(step)``), or raises one ``DocumentError`` listing every finding.
"""

from spola.model.document import (
    Components,
    Criterion,
    Document,
    FailureAction,
    Info,
    Parameter,
    PayloadReplacement,
    RequestBody,
    Step,
    SuccessAction,
    Workflow,
)
from spola.model.operation import Operation, OpParameter, Server, ServerVariable
from spola.model.parse import collect_findings, load, load_for_run, load_text
from spola.model.source_description import SourceDescription
from spola.model.sources import Source

__all__ = [
    "Components",
    "Criterion",
    "Document",
    "FailureAction",
    "Info",
    "OpParameter",
    "Operation",
    "Parameter",
    "PayloadReplacement",
    "RequestBody",
    "Server",
    "ServerVariable",
    "Source",
    "SourceDescription",
    "Step",
    "SuccessAction",
    "Workflow",
    "collect_findings",
    "load",
    "load_for_run",
    "load_text",
]
