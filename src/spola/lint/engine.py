"""``lint``: load a document with the engine's model, then run every check on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

from spola.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK, DocumentError, Finding
from spola.lint.context import LintContext
from spola.lint.model_findings import is_unreadable, relabel
from spola.lint.registry import CHECKS
from spola.lint.rules import ERROR, RULES, WARNING
from spola.model import Document, collect_findings, load

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

_ORDER = {rule_id: index for index, rule_id in enumerate(RULES)}


class LintReport(Struct, frozen=True):
    """The findings for one document; ``readable`` is False when the file could not be read at all."""

    path: str
    findings: tuple[Finding, ...]
    readable: bool = True

    def of(self, severity: str) -> tuple[Finding, ...]:
        """The findings of one severity (``error``, ``warning`` or ``info``)."""
        return tuple(f for f in self.findings if f.severity == severity)

    def failed(self, *, strict: bool = False) -> bool:
        """True when a finding is an error (or, with ``strict``, a warning)."""
        bad = {ERROR, WARNING} if strict else {ERROR}
        return any(f.severity in bad for f in self.findings)

    def exit_status(self, *, strict: bool = False) -> int:
        """2 when unreadable, 1 when it failed, else 0."""
        if not self.readable:
            return EXIT_INVALID
        return EXIT_FAILED if self.failed(strict=strict) else EXIT_OK


def run_checks(document: Document, *, blocking_only: bool = False) -> list[Finding]:
    """The findings of the semantic checks on a loaded document (model findings not included)."""
    ctx = LintContext(document)
    found: list[Finding] = []
    for check in CHECKS:
        if blocking_only and not any(RULES[r].blocking for r in check.rules):
            continue
        if check.needs_sources and not document.sources_resolved:
            continue
        found.extend(check.run(ctx))
    return found


def blocking_findings(document: Document) -> list[Finding]:
    """The error findings certain to break a run of this document (``spola run`` refuses on them)."""
    return [
        f for f in run_checks(document, blocking_only=True) if f.severity == ERROR and RULES[f.rule].blocking
    ]


def _load(path: str, allow_remote: bool) -> tuple[Document | None, list[Finding]]:
    document: Document | None
    try:
        document = load(path, allow_remote=allow_remote)
    except DocumentError:
        pass
    else:
        return document, list(document.warnings)
    findings = collect_findings(path, allow_remote=allow_remote)
    if any(is_unreadable(f) for f in findings):
        return None, findings
    try:
        document = load(path, allow_remote=allow_remote, resolve_sources=False)
    except DocumentError:
        document = None
    return document, findings


def _ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    unique: dict[tuple[str, str | None, str], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.rule, finding.location.pointer, finding.message), finding)

    def key(f: Finding) -> tuple[str, int, int, int]:
        where = f.location
        return (where.file or "", where.line or 0, where.column or 0, _ORDER.get(f.rule, len(_ORDER)))

    return tuple(sorted(unique.values(), key=key))


def lint(target: str | Path | Document, *, allow_remote: bool = False) -> LintReport:
    """Every finding for a document: the model's (structure, references, operations) and the checks'.

    ``target`` is a path, or a document already loaded (then only its warnings and the checks).
    Never raises for a problem of the document: an unreadable file gives a report with
    ``readable=False``.
    """
    if isinstance(target, Document):
        document: Document | None = target
        model = list(target.warnings)
        path = target.path or "<document>"
    else:
        path = str(target)
        document, model = _load(path, allow_remote)
    findings = [relabel(f) for f in model]
    readable = not any(f.rule == "unreadable" for f in findings)
    if document is not None:
        findings.extend(run_checks(document))
    return LintReport(path, _ordered(findings), readable)
