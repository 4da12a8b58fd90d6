"""jsonpath criteria: RFC 9535 queries, the Goessner version, and the comparison dialect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from spola.criteria import COMPARISON_DIALECT, RFC9535, compile_criterion, parse_dialect
from spola.errors import ExpressionError
from spola.expr import ResponseView, Scope

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "cases" / "jsonpath.yaml").read_text())
GOESSNER_VERSION = "draft-goessner-dispatch-jsonpath-00"


def _scope(body: Any, **inputs: Any) -> Scope:
    return Scope(inputs=inputs, response=ResponseView(body=body))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["condition"][:60])
def test_a_jsonpath_condition_is_classified_and_judged(case: dict[str, Any]) -> None:
    criterion = compile_criterion(case["condition"], type="jsonpath", context="$response.body")
    assert criterion.kind == "jsonpath"
    assert criterion.dialect == case["dialect"]
    if criterion.dialect == COMPARISON_DIALECT:
        canonical = case.get("canonical", case["condition"])
        assert str(parse_dialect(case["condition"])) == canonical
        assert str(parse_dialect(canonical)) == canonical
    for body, passes in case["bodies"]:
        verdict = criterion.evaluate(_scope(body))
        assert verdict.passed is passes, (body, verdict)


def test_a_failing_dialect_condition_says_what_each_query_selected() -> None:
    criterion = compile_criterion(
        '$.state == "TERMINATED" || $.data[*].id == 1', type="jsonpath", context="$response.body"
    )
    verdict = criterion.evaluate(_scope({"state": "RUNNING", "data": [{"id": 2}, {"id": 3}]}))
    assert not verdict
    assert verdict.reason == '$.state is "RUNNING"; $.data[*].id selected 2 values: [2, 3]'
    verdict = criterion.evaluate(_scope({}))
    assert verdict.reason == "$.state selected nothing; $.data[*].id selected nothing"


def test_a_query_that_selects_nothing_says_so() -> None:
    verdict = compile_criterion("$.pets[*]", type="jsonpath", context="$response.body").evaluate(_scope({}))
    assert verdict.reason == "`$.pets[*]` selected nothing"


def test_the_goessner_version_accepts_the_lenient_forms() -> None:
    criterion = compile_criterion(
        "$.pets[?(@.name == 'rex')]",
        type={"type": "jsonpath", "version": GOESSNER_VERSION},
        context="$response.body",
    )
    assert (criterion.dialect, criterion.version) == ("goessner", GOESSNER_VERSION)
    assert criterion.evaluate(_scope({"pets": [{"name": "rex"}]})).passed
    assert not criterion.evaluate(_scope({"pets": [{"name": "max"}]})).passed
    lenient = compile_criterion(
        "$.pets ", type="jsonpath", version=GOESSNER_VERSION, context="$response.body"
    )
    assert lenient.evaluate(_scope({"pets": []})).passed
    strict = compile_criterion("$.pets ", type="jsonpath", context="$response.body")
    assert strict.dialect == COMPARISON_DIALECT  # not RFC 9535 (trailing space): a lone query operand
    assert strict.evaluate(_scope({"pets": []})).passed


def test_the_dialect_also_works_under_the_goessner_version() -> None:
    criterion = compile_criterion(
        "$.a == 1", type="jsonpath", version=GOESSNER_VERSION, context="$response.body"
    )
    assert criterion.dialect == COMPARISON_DIALECT
    assert criterion.evaluate(_scope({"a": 1})).passed


def test_embedded_expressions_are_filled_in_before_the_query_runs() -> None:
    query = compile_criterion(
        '$[?(@.status == "{$inputs.expected}")]', type="jsonpath", context="$response.body"
    )
    assert query.dialect == RFC9535
    assert [str(e) for e in query.expressions] == ["$response.body", "$inputs.expected"]
    assert query.evaluate(_scope({"a": {"status": "ok"}}, expected="ok")).passed
    assert not query.evaluate(_scope({"a": {"status": "ok"}}, expected="ko")).passed
    missing = query.evaluate(_scope({"a": {"status": "ok"}}))
    assert not missing.passed
    assert "missing" in (missing.reason or "")


def test_embedded_expressions_work_in_the_dialect_and_are_cached() -> None:
    criterion = compile_criterion(
        "$.data.status == {$inputs.done}", type="jsonpath", context="$response.body"
    )
    assert criterion.dialect == COMPARISON_DIALECT
    for _ in range(3):
        assert criterion.evaluate(_scope({"data": {"status": 10}}, done=10)).passed
    assert not criterion.evaluate(_scope({"data": {"status": 10}}, done=20)).passed
    assert len(criterion.checker.cache) == 2  # type: ignore[attr-defined]


def test_an_embedding_that_breaks_the_query_fails_the_criterion() -> None:
    criterion = compile_criterion("$.a == {$inputs.v}", type="jsonpath", context="$response.body")
    verdict = criterion.evaluate(_scope({"a": 1}, v="not a literal"))
    assert not verdict.passed
    assert verdict.reason


@pytest.mark.parametrize(
    ("context", "body", "reason"),
    [
        ("$response.body", None, "the context `$response.body` is missing"),
        ("$inputs.absent", {}, "the context `$inputs.absent` is missing"),
        ("$response.body", "<xml/>", "the context is not JSON"),
    ],
)
def test_an_unusable_context_fails_with_a_reason(context: str, body: Any, reason: str) -> None:
    verdict = compile_criterion("$.a", type="jsonpath", context=context).evaluate(_scope(body))
    assert (verdict.passed, verdict.reason) == (False, reason)


def test_json_text_is_parsed_before_querying() -> None:
    criterion = compile_criterion('$.state == "UP"', type="jsonpath", context="$response.body")
    assert criterion.evaluate(_scope('{"state": "UP"}')).passed
    assert criterion.evaluate(_scope(b'{"state": "UP"}')).passed


@pytest.mark.parametrize(
    ("condition", "offset", "message"),
    [
        ("$[", 2, "invalid JSONPath"),
        ("$.a ==", 6, "expected an operand after '=='"),
        ("$.a == RUNNING", 7, "put text in quotes"),
        ("$.a[ == 1", 5, "invalid JSONPath"),
        ("$.a == 1 &&", 11, "expected an operand after '&&'"),
        ("($.a == 1", 9, "expected ')'"),
        ("x", 0, "invalid JSONPath"),
    ],
)
def test_a_condition_that_is_neither_a_query_nor_the_dialect_is_refused(
    condition: str, offset: int, message: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_criterion(condition, type="jsonpath", context="$response.body")
    assert message in caught.value.message
    assert caught.value.location.offset == offset
