"""The findings the document model makes while loading, given the rule ids of ``spola validate``.

The model tags its findings with broad families (``structure``, ``reference``, ``expression``,
``operation``, ``source``, ``syntax``); the table below refines them by what the message says, first
match wins. Severity, location and hint are kept as the model gave them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

import msgspec.structs

if TYPE_CHECKING:
    from spola.errors import Finding

_ANY: Final = re.compile("")
_TABLE: Final[tuple[tuple[str, re.Pattern[str], str], ...]] = (
    ("syntax", _ANY, "unreadable"),
    ("syntax-duplicate-key", _ANY, "duplicate-id"),
    ("source", _ANY, "source-unreadable"),
    ("expression", _ANY, "expression-syntax"),
    ("operation", re.compile(r"\$ref"), "ref-unresolved"),
    ("operation", _ANY, "operation-unresolved"),
    ("reference", re.compile(r"\$ref|component"), "ref-unresolved"),
    ("reference", re.compile(r"cycle|depend on itself|calls its own workflow"), "dependency-cycle"),
    ("reference", re.compile(r"not a step of|no step '"), "unknown-step"),
    ("reference", _ANY, "unknown-workflow"),
    ("structure", re.compile(r"^duplicate "), "duplicate-id"),
    ("structure", re.compile(r"should match \[A-Za-z0-9_-\]\+"), "id-pattern"),
    ("structure", _ANY, "structure"),
)


def is_unreadable(finding: Finding) -> bool:
    """True when the finding means the file itself could not be read or parsed."""
    return finding.rule == "syntax" or (finding.rule == "source" and not finding.location.pointer)


def lint_rule(finding: Finding) -> str:
    """The ``spola validate`` rule id for a finding the model made."""
    for family, pattern, rule_id in _TABLE:
        if finding.rule == family and pattern.search(finding.message):
            return rule_id
    return finding.rule if finding.rule else "structure"


def relabel(finding: Finding) -> Finding:
    """The finding with its ``spola validate`` rule id (``unreadable`` for an unreadable file)."""
    rule_id = "unreadable" if is_unreadable(finding) else lint_rule(finding)
    return msgspec.structs.replace(finding, rule=rule_id)
