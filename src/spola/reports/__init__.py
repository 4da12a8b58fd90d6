"""Report files for a run: JSON, JUnit XML, HAR, a self-contained HTML timeline, a Markdown summary.

Above the engine, drivers and store; below the CLI. Build a `RunReport` live with a `Recorder`
(an observer for the driver) or from the store with `from_store`, then `write_reports`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spola.errors import UsageError
from spola.reports.model import Execution, Expectation, Recorder, RunReport, WaitSpan

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Execution",
    "Expectation",
    "Recorder",
    "ReportPaths",
    "RunReport",
    "WaitSpan",
    "from_store",
    "write_reports",
]


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Where to write each report (None: not wanted)."""

    json: str | None = None
    junit: str | None = None
    har: str | None = None
    html: str | None = None
    summary: str | None = None

    @property
    def wanted(self) -> bool:
        """Whether any report file was asked for."""
        return any((self.json, self.junit, self.har, self.html, self.summary))


def from_store(record: object) -> RunReport:
    """The report of a journalled run (a `spola.store.RunRecord`)."""
    from spola.reports.stored import from_store as build
    from spola.store.records import RunRecord

    assert isinstance(record, RunRecord)
    return build(record)


def _write(path: str, text: str, *, append: bool = False) -> None:
    target = Path(path)
    try:
        if target.parent and not target.parent.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write the report {path}: {exc.strerror or exc}") from exc


def write_reports(report: RunReport, paths: ReportPaths, env: Mapping[str, str] = os.environ) -> list[str]:
    """Write every report asked for (and append the summary to ``$GITHUB_STEP_SUMMARY``).

    Returns the files written. Raises UsageError naming a file that cannot be written.
    """
    written: list[str] = []
    if paths.json:
        from spola.reports.json_report import report_dict

        _write(paths.json, json.dumps(report_dict(report), indent=2, ensure_ascii=False, default=str) + "\n")
        written.append(paths.json)
    if paths.junit:
        from spola.reports.junit import junit_xml

        _write(paths.junit, junit_xml(report))
        written.append(paths.junit)
    if paths.har:
        from spola.reports.har import har_dict

        _write(paths.har, json.dumps(har_dict(report), indent=2, ensure_ascii=False, default=str) + "\n")
        written.append(paths.har)
    if paths.html:
        from spola.reports.html import html_page

        _write(paths.html, html_page(report))
        written.append(paths.html)
    github = env.get("GITHUB_STEP_SUMMARY")
    if paths.summary or github:
        from spola.reports.summary import summary_markdown

        text = summary_markdown(report) + "\n"
        if paths.summary:
            _write(paths.summary, text)
            written.append(paths.summary)
        if github:
            _write(github, text, append=True)
            written.append(github)
    return written
