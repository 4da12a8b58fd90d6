"""``--summary FILE.md``: a short Markdown summary (appended to ``$GITHUB_STEP_SUMMARY`` too)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spola.reports.model import RunReport

_MARK = {"succeeded": "✅", "failed": "❌", "interrupted": "⏹️", "cancelled": "⏹️"}


def _cell(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split()).replace("|", "\\|").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_markdown(report: RunReport) -> str:
    """The summary: verdict, steps, expectations, outputs, error."""
    ok = report.ok
    mark = _MARK.get(report.status, "❔") if not report.failed_expectations else "❌"
    verdict = report.status if report.status != "succeeded" or ok else "succeeded, but an expectation failed"
    lines = [
        f"### {mark} `{report.workflow_id}` {verdict}",
        "",
        f"run `{report.run_id}` · {report.duration:.1f} s · `{_cell(report.document, 120)}`",
        "",
    ]
    if report.error:
        where = f"step `{report.error_step}`: " if report.error_step else ""
        lines += [f"**Error** — {where}{_cell(report.error, 400)}", ""]
    if report.expectations:
        lines.append("**Expectations**")
        lines.append("")
        for expectation in report.expectations:
            lines.append(f"- {'✅' if expectation.passed else '❌'} {_cell(expectation.message, 300)}")
        lines.append("")
    steps = report.steps()
    if steps:
        lines += [
            "| step | executions | last status | remote state | outcome |",
            "| --- | --: | --: | --- | --- |",
        ]
        for _path, step_id, depth, executions in steps:
            last = executions[-1]
            status = "" if last.status_code is None else str(last.status_code)
            state = ", ".join(f"{k} {_cell(v, 30)}" for k, v in last.remote_state)
            count = len({e.execution for e in executions})
            label = ("&nbsp;&nbsp;" * depth) + f"`{step_id}`"
            lines.append(f"| {label} | {count} | {status} | {state} | {last.outcome} |")
        lines.append("")
    if report.outputs:
        lines += ["<details><summary>Outputs</summary>", "", "| output | value |", "| --- | --- |"]
        for name, value in report.outputs.items():
            lines.append(f"| `{name}` | {_cell(value)} |")
        lines += ["", "</details>", ""]
    return report.redact_text("\n".join(lines))
