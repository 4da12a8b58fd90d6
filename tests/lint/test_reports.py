"""Reports: linting a loaded document, the text summary, and the per-rule census."""

from __future__ import annotations

from pathlib import Path

from spola.lint import RULES, lint
from spola.lint.census import census, main
from spola.lint.output import render_text
from spola.model import load
from tests.lint.documents import goto, step, workflow, write_doc


def _looping(tmp_path: Path) -> Path:
    steps = [step("poll", onSuccess=[goto("wait", "poll", "$response.body#/state/status == 'RUNNING'")])]
    return write_doc(tmp_path, [workflow(steps)])


def test_a_loaded_document_is_linted_without_reading_it_again(tmp_path: Path) -> None:
    path = _looping(tmp_path)
    from_path = lint(path)
    from_document = lint(load(path))
    assert [f.rule for f in from_document.findings] == [f.rule for f in from_path.findings]
    assert from_document.path == str(path)


def test_the_text_report_ends_with_a_summary(tmp_path: Path) -> None:
    text = render_text([lint(_looping(tmp_path))])
    last = text.splitlines()[-1]
    assert last == "1 document: 0 errors, 2 warnings, 0 info"


def test_every_rule_has_a_summary_a_fix_and_a_known_severity() -> None:
    for rule in RULES.values():
        assert rule.summary.endswith(".") and rule.fix.endswith("."), rule.id
        assert rule.severity in ("error", "warning", "info")
    assert [r.id for r in RULES.values() if r.blocking] == ["missing-path-parameter", "ambiguous-habit"]


def test_the_census_counts_findings_and_documents_per_rule(tmp_path: Path) -> None:
    path = str(_looping(tmp_path))
    table = census([path, path])
    assert table.splitlines()[0] == "Over 2 documents."
    assert "| `goto-self-loop` | warning | 2 | 1 |" in table
    assert "| `loop-no-exit` | error | 0 | 0 |" in table
    assert main([]) == 2
