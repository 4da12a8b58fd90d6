"""``spola validate`` over the real-world corpus (98 workflows) and the five seeds.

No document gets an error from the document model (structure, references, operations): every one
is valid by a careful reading of the specification. The problems the corpus is known for are found.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from spola.lint import LintReport, blocking_findings, lint
from spola.model import load

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CORPUS = SHARED / "corpus" / "arazzo"
SEEDS = SHARED / "seeds" / "arazzo"
MODEL_RULES = {
    "unreadable",
    "structure",
    "source-unreadable",
    "operation-unresolved",
    "expression-syntax",
    "duplicate-id",
    "dependency-cycle",
}


@pytest.fixture(scope="module")
def reports() -> dict[Path, LintReport]:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repository")
    paths = sorted(CORPUS.glob("*.yml")) + sorted(SEEDS.glob("*.yml"))
    return {path: lint(path) for path in paths}


def _corpus(reports: dict[Path, LintReport]) -> list[LintReport]:
    return [r for p, r in reports.items() if p.parent == CORPUS]


def _seed(reports: dict[Path, LintReport], name: str) -> LintReport:
    return reports[SEEDS / name]


def test_the_corpus_and_the_seeds_are_all_there(reports: dict[Path, LintReport]) -> None:
    assert len(_corpus(reports)) == 98
    assert len(reports) == 103


def test_no_document_gets_a_structural_error(reports: dict[Path, LintReport]) -> None:
    wrong = [
        f"{path.name}: {finding}"
        for path, report in reports.items()
        for finding in report.findings
        if finding.rule in MODEL_RULES or (finding.severity == "error" and not report.readable)
    ]
    assert wrong == []


def test_no_corpus_document_gets_an_error_at_all(reports: dict[Path, LintReport]) -> None:
    errors = [f"{r.path}: {f}" for r in reports.values() for f in r.of("error")]
    assert errors == []
    assert all(r.exit_status() == 0 for r in reports.values())


def test_the_seeds_run_unchanged_nothing_blocks_them(reports: dict[Path, LintReport]) -> None:
    for path in sorted(SEEDS.glob("*.yml")):
        assert blocking_findings(load(path)) == [], path.name


def test_the_databricks_seed_polls_past_states_it_does_not_name(reports: dict[Path, LintReport]) -> None:
    report = _seed(reports, "databricks-run-job-and-wait-workflow.yml")
    (found,) = [f for f in report.findings if f.rule == "poll-uncovered-states"]
    for state in ("QUEUED", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"):
        assert state in found.message
    assert "step 'getRunOutput' (the next step)" in found.message
    assert found.location.pointer == "/workflows/0/steps/1/onSuccess"


def test_the_dbt_seed_calls_v2_endpoints_under_the_v3_server(reports: dict[Path, LintReport]) -> None:
    report = _seed(reports, "dbt-trigger-run-and-poll-workflow.yml")
    mismatched = [f for f in report.findings if f.rule == "server-mismatch"]
    assert len(mismatched) == 3
    assert all("https://cloud.getdbt.com/api/v2" in (f.hint or "") for f in mismatched)


def test_the_dbt_seed_output_of_artifacts_may_be_null(reports: dict[Path, LintReport]) -> None:
    report = _seed(reports, "dbt-trigger-run-and-poll-workflow.yml")
    (found,) = [f for f in report.findings if f.rule == "output-may-be-null"]
    assert "runFailed" in found.message


def test_the_corpus_counts_match_its_notes(reports: dict[Path, LintReport]) -> None:
    counts = Counter(f.rule for r in _corpus(reports) for f in r.findings)
    assert counts["bare-expression"] == 159
    assert counts["goto-self-loop"] == 36
    jsonpath = sum(p.read_text().count("type: jsonpath") for p in CORPUS.glob("*.yml"))
    assert counts["jsonpath-dialect"] == jsonpath
    workflows = {
        (r.path, (f.location.pointer or "").split("/")[2])
        for r in _corpus(reports)
        for f in r.findings
        if f.rule == "output-may-be-null"
    }
    assert len(workflows) >= 25
    polls = {r.path for r in _corpus(reports) for f in r.findings if f.rule == "poll-uncovered-states"}
    assert len(polls) >= 20
