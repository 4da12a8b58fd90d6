"""Forms spola runs that other tools may not: bare expressions in strings, the JSONPath comparison dialect."""

from __future__ import annotations

from pathlib import Path

from spola.criteria import compile_criterion
from spola.expr import ResponseView, Scope
from spola.lint import lint
from spola.lint.checks.forms import rfc9535_form
from tests.lint.documents import findings, rules, step, workflow, write_doc


def test_an_expression_inside_a_string_without_braces_is_a_bare_expression(tmp_path: Path) -> None:
    params = [
        {"name": "runId", "in": "path", "value": "$inputs.runId"},
        {"name": "Authorization", "in": "header", "value": "Bearer $inputs.runId"},
    ]
    report = lint(write_doc(tmp_path, [workflow([step("read", parameters=params)])]))
    (found,) = findings(report, "bare-expression")
    assert found.severity == "warning"
    assert found.hint == "write `Bearer {$inputs.runId}`"
    assert found.location.pointer == "/workflows/0/steps/0/parameters/1/value"
    params[1]["value"] = "Bearer {$inputs.runId}"
    assert rules(write_doc(tmp_path, [workflow([step("read", parameters=params)])])) == set()


def test_bare_expressions_inside_payloads_are_found_where_they_are(tmp_path: Path) -> None:
    body = {
        "contentType": "application/json",
        "payload": {"note": "run $inputs.runId", "id": "$inputs.runId"},
    }
    report = lint(write_doc(tmp_path, [workflow([step("create", "createRun", requestBody=body)])]))
    (found,) = findings(report, "bare-expression")
    assert found.location.pointer == "/workflows/0/steps/0/requestBody/payload/note"


def test_a_comparison_outside_a_filter_is_the_jsonpath_dialect(tmp_path: Path) -> None:
    criteria = [{"context": "$response.body", "condition": '$.state.status == "DONE"', "type": "jsonpath"}]
    report = lint(write_doc(tmp_path, [workflow([step("read", successCriteria=criteria)])]))
    (found,) = findings(report, "jsonpath-dialect")
    assert found.hint is not None and '`$[?$.state.status == "DONE"]`' in found.hint
    criteria[0]["condition"] = '$[?$.state.status == "DONE"]'
    assert rules(write_doc(tmp_path, [workflow([step("read", successCriteria=criteria)])])) == set()


def _passes(condition: str, body: object) -> bool:
    compiled = compile_criterion(condition, type="jsonpath", context="$response.body")
    scope = Scope(status_code=200, response=ResponseView(body=body))
    return compiled.evaluate(scope).passed


def test_the_suggested_rfc9535_form_means_what_the_dialect_means() -> None:
    cases = [
        ('$.state.status == "DONE"', [{"state": {"status": "DONE"}}, {"state": {"status": "RUNNING"}}]),
        ("$.data.status < 10 || $.data.status == 30", [{"data": {"status": 3}}, {"data": {"status": 20}}]),
        ("$.data.length > 0", [{"data": [1]}, {"data": []}]),
        ("$.running == false", [{"running": False}, {"running": True}]),
    ]
    for condition, bodies in cases:
        rewrite = rfc9535_form(condition)
        assert rewrite is not None, condition
        for body in bodies:
            assert _passes(rewrite, body) == _passes(condition, body), (condition, body)
