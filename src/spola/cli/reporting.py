"""``spola run`` report files, ``--expect`` outcome checks and ``--dry-run``.

Kept out of ``execute.py``: the run command only asks for a `Recorder` (an observer), then
`finish` writes the reports and checks the expectations once the run is over — whatever way it
ended (succeeded, failed, interrupted, cancelled).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from msgspec import Struct

from spola.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from spola.core.engine import Run
    from spola.core.events import Observer
    from spola.core.report import RunResult
    from spola.expr import Condition
    from spola.reports import Expectation, Recorder, ReportPaths, RunReport

ReportOpt = Annotated[
    str | None,
    typer.Option("--report", help="Write a JSON report of every step execution.", metavar="FILE.json"),
]
JunitOpt = Annotated[
    str | None, typer.Option("--junit", help="Write a JUnit XML report (for CI).", metavar="FILE.xml")
]
HarOpt = Annotated[
    str | None, typer.Option("--har", help="Write the exchanges as HAR 1.2.", metavar="FILE.har")
]
HtmlOpt = Annotated[
    str | None, typer.Option("--html", help="Write a self-contained HTML timeline.", metavar="FILE.html")
]
SummaryOpt = Annotated[
    str | None,
    typer.Option("--summary", help="Write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY).",
                 metavar="FILE.md"),
]  # fmt: skip
ExpectOpt = Annotated[
    list[str] | None,
    typer.Option("--expect", help="Fail (exit 1) unless this condition over $outputs holds; repeatable.",
                 metavar="EXPR"),
]  # fmt: skip
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Validate inputs and print the first request(s); send nothing."),
]


class Outcome(Struct, frozen=True):
    """The reports and expectations asked for on the command line.

    ``paths`` is None when no report file was asked for: `spola.reports` is imported only by a run
    that records one (start-up).
    """

    paths: ReportPaths | None = None
    expect: tuple[str, ...] = ()

    @property
    def files_wanted(self) -> bool:
        """Whether a report file was asked for."""
        return self.paths is not None and self.paths.wanted

    @property
    def wanted(self) -> bool:
        """Whether anything must be recorded (a report file, GITHUB_STEP_SUMMARY or an expectation)."""
        import os

        return self.files_wanted or bool(self.expect) or bool(os.environ.get("GITHUB_STEP_SUMMARY"))


def outcome(
    report: str | None = None,
    junit: str | None = None,
    har: str | None = None,
    html: str | None = None,
    summary: str | None = None,
    expect: list[str] | None = None,
) -> Outcome:
    """The options as an `Outcome` (checked: every expectation parses)."""
    checked = tuple(expect or ())
    compile_expectations(checked)
    if not any((report, junit, har, html, summary)):
        return Outcome(None, checked)
    from spola.reports import ReportPaths

    return Outcome(ReportPaths(report, junit, har, html, summary), checked)


def compile_expectations(texts: tuple[str, ...]) -> list[Condition]:
    """Parse ``--expect`` conditions; only ``$outputs.*`` may be read.

    Raises:
        UsageError: a condition that does not parse or reads something else (nothing is sent).
    """
    from spola.errors import SpolaError
    from spola.expr import parse_condition

    out = []
    for text in texts:
        try:
            condition = parse_condition(text)
        except SpolaError as exc:
            raise UsageError(f"--expect {text!r} is not a condition: {exc.message}") from exc
        others = sorted({str(e) for e in condition.expressions if e.kind != "outputs"})
        if others:
            raise UsageError(
                f"--expect {text!r} reads {', '.join(others)}; an expectation reads the workflow's "
                "outputs only ($outputs.NAME)"
            )
        if not condition.expressions:
            raise UsageError(f"--expect {text!r} reads no output; write e.g. '$outputs.status == 10'")
        out.append(condition)
    return out


def check_expectations(texts: tuple[str, ...], outputs: Mapping[str, Any]) -> list[Expectation]:
    """Evaluate each expectation over the run's outputs."""
    from spola.expr import MISSING, Scope
    from spola.reports import Expectation

    scope = Scope(outputs=outputs)
    results = []
    for text, condition in zip(texts, compile_expectations(texts), strict=True):
        try:
            passed = condition.evaluate(scope)
        except Exception as exc:  # an expectation must never crash the report
            results.append(Expectation(text, False, problem=str(exc)))
            continue
        observed = []
        for expression in condition.expressions:
            value = expression.evaluate(scope)
            observed.append((str(expression), None if value is MISSING else value))
        results.append(Expectation(text, bool(passed), tuple(dict(observed).items())))
    return results


def recorder(engine: Run, document: str, inputs: Mapping[str, Any], secret_inputs: frozenset[str],
             forward: Observer | None) -> Recorder:  # fmt: skip
    """A `Recorder` for ``engine`` that passes events on to ``forward`` (the live display)."""
    from spola.reports import Recorder, RunReport

    report = RunReport(
        run_id=engine.run_id,
        workflow_id=engine.root.workflow.workflow_id,
        document=document,
        started_at=engine.started_at,
        inputs=engine.redactor.redact_inputs(dict(inputs), secret_inputs),
        redactor=engine.redactor,
    )
    return Recorder(report, forward)


def finish(report: RunReport, result: RunResult, wanted: Outcome) -> int | None:
    """Write the reports, print failed expectations; return 1 when one failed (else None)."""
    from spola.reports import ReportPaths, write_reports

    report.finish(result, time.time())
    report.expectations = check_expectations(wanted.expect, result.outputs)
    failed = report.failed_expectations
    try:
        write_reports(report, wanted.paths or ReportPaths())
    finally:
        for expectation in failed:
            sys.stderr.write(f"spola: expectation failed: {expectation.message}\n")
    return 1 if failed else None


def dry_run(engine: Run, json_out: bool) -> int:
    """Print the first request of each independent branch (redacted); send nothing."""
    import json

    from spola.core.actions import Finish, SendRequest
    from spola.core.explain import request_summary

    actions = engine.next_actions(engine.started_at)
    requests = [a for a in actions if isinstance(a, SendRequest)]
    finished = next((a for a in actions if isinstance(a, Finish)), None)
    shown: list[dict[str, Any]] = []
    for action in requests:
        summary = request_summary(action.request, engine.redactor)
        shown.append(
            {
                "stepPath": action.step_path,
                "stepId": action.step_id,
                "method": summary.method,
                "url": summary.url,
                "headers": [list(p) for p in summary.headers],
                "body": summary.body,
                "bodyBytes": summary.body_bytes,
            }
        )
    if json_out:
        sys.stdout.write(json.dumps({"dryRun": True, "runId": engine.run_id, "requests": shown}) + "\n")
    else:
        name = engine.root.workflow.workflow_id
        sys.stdout.write(f"dry run of {name}: the inputs are valid; nothing was sent.\n")
        for item in shown:
            sys.stdout.write(f"\n{item['stepPath']}\n  {item['method']} {item['url']}\n")
            for name, value in item["headers"]:
                sys.stdout.write(f"  {name}: {value}\n")
            if item["body"] is not None:
                sys.stdout.write("\n  " + str(item["body"]).replace("\n", "\n  ") + "\n")
    if finished is not None and not requests:
        error = finished.result.error
        message = error.message if error else finished.result.status
        sys.stderr.write(f"spola: the run cannot start: {message}\n")
        return 1
    return 0
