"""Reports as people and tools read them: text, a JSON list of findings, SARIF 2.1.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from spola.errors import pointer_to_path
from spola.lint.rules import ERROR, INFO, RULES, SEVERITIES, WARNING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spola.errors import Finding
    from spola.lint.engine import LintReport

FORMATS: Final = ("text", "json", "sarif")
SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL: Final = {ERROR: "error", WARNING: "warning", INFO: "note"}


def finding_data(finding: Finding, file: str) -> dict[str, Any]:
    """A finding as a flat JSON object: file, line, column, path, pointer, rule, severity, message, hint
    (and ``fix``, the rewritten value at the pointer, for a finding with a mechanical fix)."""
    where = finding.location
    data = {
        "file": where.file or file,
        "line": where.line,
        "column": where.column,
        "path": pointer_to_path(where.pointer) if where.pointer is not None else None,
        "pointer": where.pointer,
        "rule": finding.rule,
        "severity": finding.severity,
        "message": finding.message,
        "hint": finding.hint,
    }
    if finding.fix is not None:
        data["fix"] = finding.fix
    return data


def render_json(reports: Sequence[LintReport]) -> str:
    """Every finding of every report as one JSON array."""
    data = [finding_data(f, report.path) for report in reports for f in report.findings]
    return json.dumps(data, indent=2, ensure_ascii=False)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def render_text(reports: Sequence[LintReport]) -> str:
    """One line per finding (``file:line:col: severity[rule] path: message``), its hint, a summary."""
    lines: list[str] = []
    for report in reports:
        for finding in report.findings:
            item = finding_data(finding, report.path)
            where = str(item["file"])
            if item["line"] is not None:
                where += f":{item['line']}" + (f":{item['column']}" if item["column"] is not None else "")
            path = f" {item['path']}:" if item["path"] else ""
            lines.append(f"{where}: {finding.severity}[{finding.rule}]{path} {finding.message}")
            if finding.hint:
                lines.append(f"    hint: {finding.hint}")
        if not report.findings:
            lines.append(f"{report.path}: no problems found")
    counts = {s: sum(len(r.of(s)) for r in reports) for s in SEVERITIES}
    noun = "document" if len(reports) == 1 else "documents"
    lines.append(
        f"{len(reports)} {noun}: {_plural(counts[ERROR], 'error')}, {_plural(counts[WARNING], 'warning')}, "
        f"{counts[INFO]} info"
    )
    return "\n".join(lines)


def _artifact(file: str) -> str:
    path = Path(file)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def _result(finding: Finding, file: str, index: dict[str, int]) -> dict[str, Any]:
    where = finding.location
    physical: dict[str, Any] = {"artifactLocation": {"uri": _artifact(where.file or file)}}
    if where.line is not None:
        region: dict[str, int] = {"startLine": where.line}
        if where.column is not None:
            region["startColumn"] = where.column
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    if where.pointer:
        location["logicalLocations"] = [{"fullyQualifiedName": pointer_to_path(where.pointer)}]
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _SARIF_LEVEL.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [location],
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    properties = {k: v for k, v in (("hint", finding.hint), ("fix", finding.fix)) if v}
    if properties:
        result["properties"] = properties
    return result


def render_sarif(reports: Sequence[LintReport], *, version: str) -> str:
    """A SARIF 2.1.0 log: one run, every rule in ``tool.driver.rules``, a result per finding."""
    rules = [
        {
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.summary},
            "help": {"text": rule.fix},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        }
        for rule in RULES.values()
    ]
    index = {rule.id: position for position, rule in enumerate(RULES.values())}
    results = [_result(f, report.path, index) for report in reports for f in report.findings]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "spola",
                        "version": version,
                        "informationUri": "https://spec.openapis.org/arazzo/latest.html",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
