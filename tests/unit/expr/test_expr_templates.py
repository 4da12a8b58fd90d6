"""String values with `{$expr}` parts and bare expressions; conditions with embedded expressions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from spola.errors import ExpressionError
from spola.expr import MISSING, Scope, parse_embedded, parse_template, stringify
from tests.unit.expr.scopes import full_scope

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "cases" / "templates.yaml").read_text())


def _check_value(case: dict[str, Any], value: Any) -> None:
    if case.get("missing"):
        assert value is MISSING
    else:
        assert value == case["expect"]
        assert type(value) is type(case["expect"])


@pytest.mark.parametrize("case", CASES["templates"], ids=lambda c: c["text"][:40])
def test_a_template_evaluates_as_its_author_means(case: dict[str, Any]) -> None:
    template = parse_template(case["text"])
    assert template.is_literal == case.get("literal", False)
    assert template.whole == case.get("whole", False)
    assert template.has_bare == case.get("bare", False)
    assert str(template) == case.get("canonical", case["text"])
    _check_value(case, template.evaluate(full_scope()))


@pytest.mark.parametrize("case", CASES["embedded"], ids=lambda c: c["text"][:40])
def test_only_braced_expressions_count_in_regex_jsonpath_and_xpath(case: dict[str, Any]) -> None:
    template = parse_embedded(case["text"])
    assert template.is_literal == case.get("literal", False)
    assert not template.has_bare
    _check_value(case, template.evaluate(full_scope()))


@pytest.mark.parametrize("case", CASES["errors"], ids=lambda c: c["text"])
def test_a_bad_embedded_expression_is_an_error_with_its_offset(case: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_template(case["text"])
    assert case["message"] in caught.value.message
    assert caught.value.location.offset == case["offset"]


def test_a_template_lists_its_expressions_for_the_linter() -> None:
    template = parse_template("{$inputs.a}-$steps.s.outputs.x-{$statusCode}")
    assert [str(e) for e in template.expressions] == ["$inputs.a", "$steps.s.outputs.x", "$statusCode"]
    assert {r.kind for r in template.references()} == {"inputs", "steps", "statusCode"}
    assert template.has_bare


def test_a_whole_expression_keeps_its_type_even_for_json_text_bodies() -> None:
    scope = Scope(inputs={"n": 3.5, "big": 10**20})
    assert parse_template("$inputs.n").evaluate(scope) == 3.5
    assert parse_template("n=$inputs.n big=$inputs.big").evaluate(scope) == "n=3.5 big=100000000000000000000"


def test_stringify_follows_json_for_scalars_and_structures() -> None:
    assert stringify(True) == "true"
    assert stringify(None) == "null"
    assert stringify(1.0) == "1.0"
    assert stringify("é") == "é"
    assert stringify(b"bytes") == "bytes"
    assert stringify({"a": ["é", None]}) == '{"a":["é",null]}'
