"""Simple conditions: literals, operators, precedence, the loose comparison rules, canonical text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from spola.errors import ExpressionError
from spola.expr import Scope, loose_compare, parse_condition
from tests.unit.expr.scopes import full_scope

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "cases" / "conditions.yaml").read_text())


@pytest.mark.parametrize("case", CASES["conditions"], ids=lambda c: c["text"])
def test_a_condition_evaluates_and_prints_canonically(case: dict[str, Any]) -> None:
    condition = parse_condition(case["text"])
    canonical = case.get("canonical", case["text"])
    assert str(condition) == canonical
    assert str(parse_condition(canonical)) == canonical
    result = condition.evaluate(full_scope())
    assert result is case["expect"]


@pytest.mark.parametrize("case", CASES["errors"], ids=lambda c: c["text"])
def test_a_bad_condition_names_the_problem_and_its_offset(case: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_condition(case["text"])
    assert case["message"] in caught.value.message
    assert caught.value.location.offset == case["offset"]


def test_a_condition_lists_the_expressions_it_reads() -> None:
    condition = parse_condition("$statusCode == 200 && $steps.poll.outputs.state != $inputs.done")
    assert [str(e) for e in condition.expressions] == [
        "$statusCode",
        "$steps.poll.outputs.state",
        "$inputs.done",
    ]
    assert {r.kind for r in condition.references()} == {"statusCode", "steps", "inputs"}


def test_a_condition_without_a_response_fails_rather_than_raising() -> None:
    assert parse_condition("$statusCode == 200").evaluate(Scope()) is False
    assert parse_condition("$response.body#/a == 1").evaluate(Scope()) is False


def test_the_raw_value_of_a_lone_operand_is_available() -> None:
    assert parse_condition("$inputs.cfg").value(full_scope()) == {"host": "h.example", "port": 8080}


def test_conditions_are_never_evaluated_as_python() -> None:
    with pytest.raises(ExpressionError):
        parse_condition("__import__('os').system('true')")


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("==", "ABC", "abc", True),
        ("<", "abc", "ABD", True),
        ("==", "7", 7, True),
        ("==", " 7 ", 7, True),
        ("<", "x", 7, False),
        ("==", True, 1, False),
        ("==", "yes", True, False),
        ("==", None, False, False),
        ("!=", None, False, True),
        ("==", {"a": "X"}, {"a": "x"}, True),
        ("==", [1, 2], [1], False),
        ("<=", 2, 2.0, True),
        (">=", "2", "10", False),
    ],
)
def test_loose_comparisons(op: str, left: Any, right: Any, expected: bool) -> None:
    assert loose_compare(op, left, right) is expected
