"""Loading: file or text → checked ``Document`` with its sources and operations resolved.

``load`` raises one ``DocumentError`` carrying every finding; ``collect_findings`` returns them
instead and never raises for a document problem (for ``spola validate`` and linters).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import msgspec.structs

from spola.errors import DocumentError, Finding, Location
from spola.hosts import HostPolicy
from spola.limits import DEFAULT_LOAD_LIMITS, LoadLimits
from spola.model.build import build_document
from spola.model.collector import Collector
from spola.model.reach import in_reach, reach
from spola.model.reader import parse_text
from spola.model.resolve import resolve_document
from spola.model.sources import Fetcher, SourceError, path_to_uri, uri_to_display
from spola.model.validate import check_references

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spola.model.document import Document, Workflow


class _Session:
    """One load: a fetcher (files read once), the family of Arazzo documents, all findings."""

    def __init__(
        self,
        *,
        allow_remote: bool,
        resolve_sources: bool,
        limits: LoadLimits | None = None,
        allow_hosts: Sequence[str] = (),
    ) -> None:
        self.limits = limits or DEFAULT_LOAD_LIMITS
        self.fetcher = Fetcher(
            allow_remote=allow_remote, limits=self.limits, hosts=HostPolicy(tuple(allow_hosts))
        )
        self.resolve_sources = resolve_sources
        self.family: dict[str, Document] = {}
        self.findings: list[Finding] = []

    def document(self, uri: str, display: str, text: str | None = None) -> Document | None:
        if text is None:
            try:
                parsed = self.fetcher.parsed(uri, positions=True)
            except SourceError as exc:
                self.findings.append(Finding(exc.message, Location(display), exc.hint, rule="source"))
                return None
        else:
            parsed = parse_text(text, display, limits=self.limits)
        c = Collector(display, parsed.positions)
        c.add(parsed.findings)
        if not parsed.ok or parsed.data is None:
            if parsed.ok:
                c.error("", "the document is empty")
            self.findings.extend(c.findings)
            return None
        document = build_document(c, parsed.data, path=display, uri=uri, positions=parsed.positions)
        if document is None:
            self.findings.extend(c.findings)
            return None
        check_references(c, document)
        document = msgspec.structs.replace(document, family=self.family)
        self.family[uri] = document
        if self.resolve_sources:
            found = resolve_document(c, document, self.fetcher, self.family, self._child)
            document = msgspec.structs.replace(
                document,
                sources=found.sources,
                operations=dict(found.operations),
                async_steps=frozenset(found.async_steps),
                sources_resolved=True,
            )
        document = msgspec.structs.replace(
            document, warnings=tuple(f for f in c.findings if f.severity != "error")
        )
        self.family[uri] = document
        self.findings.extend(c.findings)
        return document

    def _child(self, uri: str) -> Document | None:
        return self.document(uri, uri_to_display(uri))

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def load(
    path: str | Path,
    *,
    allow_remote: bool = False,
    resolve_sources: bool = True,
    limits: LoadLimits | None = None,
    allow_hosts: Sequence[str] = (),
) -> Document:
    """Load and check an Arazzo document (YAML or JSON) from a file.

    Args:
        path: the Arazzo file.
        allow_remote: fetch http(s) source descriptions (else they are a finding naming ``--allow-remote``).
        resolve_sources: load the source descriptions and resolve every step's operation; without it only
            the document itself is checked (``operation_for`` then raises).
        limits: file size, node and depth limits (defaults in ``spola.limits``).
        allow_hosts: ``--allow-host`` patterns bounding remote fetches (``spola.hosts``).

    Raises:
        DocumentError: the file or one of its sources is unreadable or invalid; carries every finding.
    """
    session = _Session(
        allow_remote=allow_remote, resolve_sources=resolve_sources, limits=limits, allow_hosts=allow_hosts
    )
    document = session.document(path_to_uri(path), str(path))
    return _finish(session, document, str(path))


def load_text(
    text: str, path: str = "<string>", *, allow_remote: bool = False, resolve_sources: bool = True
) -> Document:
    """Load an Arazzo document from text; relative source URLs resolve against ``path`` (or the cwd).

    Raises:
        DocumentError: as for ``load``.
    """
    session = _Session(allow_remote=allow_remote, resolve_sources=resolve_sources)
    base = path_to_uri(path if not path.startswith("<") else Path.cwd() / "document.arazzo.yaml")
    document = session.document(base, path, text)
    return _finish(session, document, path)


def load_for_run(
    path: str | Path,
    workflow_id: str | None,
    *,
    allow_remote: bool = False,
    limits: LoadLimits | None = None,
    allow_hosts: Sequence[str] = (),
) -> tuple[Document, Workflow, list[Finding]]:
    """Load a document to run one workflow: a problem is judged where it lives.

    Returns the document, the workflow (``workflow_id``, or the only one) and the error findings that
    lie outside what a run of it can reach (``spola run`` prints them as warnings).

    Raises:
        DocumentError: the file is unreadable, or a problem lies in what the run reaches.
        WorkflowNotFound: no such workflow (or several and none was chosen).
    """
    session = _Session(
        allow_remote=allow_remote, resolve_sources=True, limits=limits, allow_hosts=allow_hosts
    )
    display = str(path)
    document = session.document(path_to_uri(path), display)
    errors = session.errors()
    if document is None or not errors:
        return *_pick(_finish(session, document, display), workflow_id), []
    workflow = _pick(document, workflow_id)[1]
    where = reach(document, workflow.workflow_id)
    blocking = [f for f in errors if in_reach(f, where)]
    if blocking:
        count = len(blocking)
        noun = "problem" if count == 1 else "problems"
        raise DocumentError(
            f"workflow '{workflow.workflow_id}' of {display} cannot run ({count} {noun}); nothing was sent",
            findings=blocking,
            location=Location(display),
        )
    return document, workflow, [f for f in errors if f not in blocking]


def _pick(document: Document, workflow_id: str | None) -> tuple[Document, Workflow]:
    return document, document.workflow(workflow_id) if workflow_id else document.default_workflow()


def collect_findings(
    path: str | Path, *, allow_remote: bool = False, resolve_sources: bool = True
) -> list[Finding]:
    """Every finding (errors and warnings) for a document; never raises for a document problem."""
    session = _Session(allow_remote=allow_remote, resolve_sources=resolve_sources)
    session.document(path_to_uri(path), str(path))
    return list(session.findings)


def _finish(session: _Session, document: Document | None, display: str) -> Document:
    errors = session.errors()
    if errors or document is None:
        count = len(errors)
        noun = "problem" if count == 1 else "problems"
        raise DocumentError(
            f"{display} is not a valid Arazzo document ({count} {noun})",
            findings=errors,
            location=Location(display),
        )
    return document
