"""compile_criterion: types, versions, contexts, simple and regex criteria; evaluation never raises."""

from __future__ import annotations

from typing import Any

import pytest

from spola.criteria import LINEAR_TIME, Verdict, compile_criterion
from spola.errors import ExpressionError
from spola.expr import RequestView, ResponseView, Scope


def _scope(status: int | None = 200, body: Any = None, **inputs: Any) -> Scope:
    return Scope(inputs=inputs, status_code=status, response=ResponseView(body=body))


def test_a_simple_criterion_passes_or_shows_the_values_it_saw() -> None:
    criterion = compile_criterion("$statusCode == 200 && $response.body#/state == 'done'")
    assert (criterion.kind, criterion.dialect, criterion.version) == ("simple", None, None)
    assert criterion.evaluate(_scope(200, {"state": "DONE"})) == Verdict(True)
    verdict = criterion.evaluate(_scope(404, {"state": "pending"}))
    assert verdict == Verdict(False, '$statusCode is 404; $response.body#/state is "pending"')


def test_a_failing_simple_criterion_never_shows_inputs_or_headers() -> None:
    criterion = compile_criterion("$inputs.token == 'x' && $request.header.Authorization == 'y'")
    scope = Scope(inputs={"token": "s3cret"}, request=RequestView(headers={"Authorization": "Bearer s3cret"}))
    verdict = criterion.evaluate(scope)
    assert not verdict.passed
    assert verdict.reason is None


def test_a_simple_criterion_may_carry_a_context_it_does_not_use() -> None:
    criterion = compile_criterion("$inputs.passed == true", type="simple", context="$response.body")
    assert criterion.evaluate(_scope(passed=True)).passed
    assert [str(e) for e in criterion.expressions] == ["$response.body", "$inputs.passed"]


@pytest.mark.parametrize(
    ("pattern", "status", "passes"),
    [
        (r"^2\d{2}$", 200, True),
        (r"^2\d{2}$", 201, True),
        (r"^2\d{2}$", 404, False),
        (r"^200$", 2000, False),
        ("20", 1200, True),
        ("^(200|204)$", 204, True),
    ],
)
def test_a_regex_is_searched_for_in_the_status_code_as_text(pattern: str, status: int, passes: bool) -> None:
    criterion = compile_criterion(pattern, type="regex", context="$statusCode")
    assert criterion.evaluate(_scope(status)).passed is passes


def test_a_regex_reads_booleans_and_structures_as_json_text() -> None:
    assert compile_criterion("^true$", type="regex", context="$inputs.f").evaluate(_scope(f=True)).passed
    criterion = compile_criterion('"id":7', type="regex", context="$response.body")
    assert criterion.evaluate(_scope(body={"id": 7})).passed


def test_a_regex_fails_with_a_reason_on_a_null_or_missing_context() -> None:
    criterion = compile_criterion(".*", type="regex", context="$statusCode")
    assert criterion.evaluate(_scope(None)) == Verdict(False, "the context `$statusCode` is missing")
    assert criterion.evaluate(_scope(body=None).with_exchange()).passed  # status 200 is there
    nulls = compile_criterion(".*", type="regex", context="$inputs.v")
    assert nulls.evaluate(_scope(v=None)) == Verdict(False, "the context `$inputs.v` is null")


def test_a_regex_with_an_embedded_expression_is_compiled_per_value() -> None:
    criterion = compile_criterion("^({$inputs.p})$", type="regex", context="$response.body#/status")
    assert criterion.evaluate(_scope(body={"status": "ok"}, p="ok|done")).passed
    assert not criterion.evaluate(_scope(body={"status": "nope"}, p="ok|done")).passed
    broken = criterion.evaluate(_scope(body={"status": "ok"}, p="("))
    assert not broken.passed
    assert "invalid regular expression" in (broken.reason or "")


def test_regexes_run_in_linear_time_on_re2() -> None:
    assert LINEAR_TIME
    criterion = compile_criterion("^(a+)+$", type="regex", context="$inputs.s")
    assert not criterion.evaluate(_scope(s="a" * 5000 + "!")).passed


@pytest.mark.parametrize(
    ("condition", "kwargs", "message", "offset"),
    [
        ("$statusCode ==", {}, "expected an operand", 14),
        ("(a", {"type": "regex", "context": "$statusCode"}, "invalid regular expression", 0),
        ("a(?<=b)", {"type": "regex", "context": "$statusCode"}, "no backreferences or look-around", 1),
        ("(a)\\1", {"type": "regex", "context": "$statusCode"}, "invalid regular expression", 3),
        ("^2", {"type": "regex"}, "a regex criterion needs a context", 0),
        ("$.a", {"type": "jsonpath"}, "a jsonpath criterion needs a context", 0),
        ("/a", {"type": "xpath"}, "an xpath criterion needs a context", 0),
        ("^2", {"type": "regex", "context": "$statuscode"}, "did you mean `$statusCode`?", 0),
        ("^2", {"type": "regex", "context": "$response.body x"}, "unexpected ' '", 14),
        ("x", {"type": "sql", "context": "$response.body"}, "unknown type 'sql'", None),
        (
            "x",
            {"type": "jsonpath", "version": "rfc1", "context": "$response.body"},
            "unknown jsonpath version",
            None,
        ),
        (
            "x",
            {"type": {"type": "xpath", "version": "xpath-40"}, "context": "$response.body"},
            "xpath version",
            None,
        ),
        ("x", {"type": "regex", "version": "pcre", "context": "$response.body"}, "takes no version", None),
    ],
)
def test_problems_are_found_when_compiling(
    condition: str, kwargs: dict[str, Any], message: str, offset: int | None
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_criterion(condition, **kwargs)
    assert message in caught.value.message
    assert caught.value.location.offset == offset


def test_an_expression_type_object_gives_type_and_version() -> None:
    criterion = compile_criterion(
        "/a", type={"type": "xpath", "version": "xpath-10"}, context="$response.body"
    )
    assert (criterion.kind, criterion.version) == ("xpath", "xpath-10")


def test_evaluation_problems_become_failing_verdicts() -> None:
    criterion = compile_criterion(".*", type="regex", context="$message.payload")
    verdict = criterion.evaluate(_scope())
    assert not verdict.passed
    assert "AsyncAPI" in (verdict.reason or "")
    simple = compile_criterion("$message.header.x == 1")
    assert not simple.evaluate(_scope()).passed


def test_references_tell_which_steps_a_criterion_reads() -> None:
    criterion = compile_criterion("$steps.a.outputs.x == $steps.b.outputs.y")
    assert {r.id for r in criterion.references()} == {"a", "b"}
