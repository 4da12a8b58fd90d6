"""Value trees: payloads, parameter values and outputs, with MISSING left out."""

from __future__ import annotations

from typing import Any

import pytest

from spola.criteria import compile_value, is_selector_object
from spola.errors import ExpressionError
from spola.expr import MISSING, ResponseView, Scope

SCOPE = Scope(
    inputs={"pet_id": 5, "quantity": 2, "token": "t", "order": {"id": 1}},
    steps={
        "fetchXml": {"invoiceXml": "<Invoice><Header><InvoiceNumber>N-1</InvoiceNumber></Header></Invoice>"}
    },
    response=ResponseView(body={"user": {"profile": {"email": "a@b.c"}}, "items": [{"id": 3}]}),
)


def test_a_payload_object_evaluates_each_member_and_leaves_missing_ones_out() -> None:
    value = compile_value(
        {
            "petOrder": {
                "petId": "$inputs.pet_id",
                "couponCode": "$inputs.coupon_code",
                "quantity": "$inputs.quantity",
                "status": "placed",
                "complete": False,
                "tags": ["$inputs.missing", "x", 3, None],
            }
        }
    )
    assert not value.is_literal
    assert value.evaluate(SCOPE) == {
        "petOrder": {"petId": 5, "quantity": 2, "status": "placed", "complete": False, "tags": ["x", 3, None]}
    }
    assert [str(e) for e in value.expressions] == [
        "$inputs.pet_id",
        "$inputs.coupon_code",
        "$inputs.quantity",
        "$inputs.missing",
    ]


def test_a_whole_expression_value_keeps_its_type_and_may_be_missing() -> None:
    assert compile_value("$inputs.order").evaluate(SCOPE) == {"id": 1}
    assert compile_value("$inputs.nothing").evaluate(SCOPE) is MISSING
    assert compile_value("Bearer $inputs.token").evaluate(SCOPE) == "Bearer t"
    assert compile_value("Bearer $inputs.nothing").evaluate(SCOPE) is MISSING
    assert compile_value({"h": ["Bearer $inputs.token"]}).has_bare
    assert not compile_value({"h": "Bearer {$inputs.token}"}).has_bare


@pytest.mark.parametrize("raw", [1, 2.5, True, None, "plain", {"a": [1, {"b": "c"}]}, [], {}])
def test_literal_values_are_returned_as_they_are(raw: Any) -> None:
    value = compile_value(raw)
    assert value.is_literal
    assert value.evaluate(SCOPE) == raw
    assert value.evaluate(Scope()) == raw


def test_each_evaluation_builds_a_fresh_structure() -> None:
    value = compile_value({"a": [1]})
    first = value.evaluate(SCOPE)
    first["a"].append(2)
    assert value.evaluate(SCOPE) == {"a": [1]}


def test_selector_objects_select_from_their_context() -> None:
    value = compile_value(
        {
            "email": {"context": "$response.body", "selector": "$.user.profile.email", "type": "jsonpath"},
            "ids": {"context": "$response.body", "selector": "$.items[*].id", "type": "jsonpath"},
            "first": {"context": "$response.body", "selector": "/items/0/id", "type": "jsonpointer"},
            "invoiceId": {
                "context": "$steps.fetchXml.outputs.invoiceXml",
                "selector": "/Invoice/Header/InvoiceNumber",
                "type": {"type": "xpath", "version": "xpath-30"},
            },
            "gone": {"context": "$inputs.nothing", "selector": "$.a", "type": "jsonpath"},
        }
    )
    assert value.evaluate(SCOPE) == {"email": "a@b.c", "ids": [3], "first": 3, "invoiceId": "N-1"}
    assert {r.kind for r in value.references()} == {"response", "steps", "inputs"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"context": "$response.body", "selector": "$.a", "type": "jsonpath"}, True),
        ({"context": "$response.body", "selector": "$.a", "type": "jsonpath", "x-note": 1}, True),
        (
            {"context": "$response.body", "selector": "/a", "type": {"type": "xpath", "version": "xpath-10"}},
            True,
        ),
        ({"context": "$response.body", "selector": "$.a", "type": "simple"}, False),
        ({"context": "$response.body", "selector": "$.a", "type": "jsonpath", "extra": 1}, False),
        ({"context": "$response.body", "selector": "$.a"}, False),
        ({"context": 1, "selector": "$.a", "type": "jsonpath"}, False),
        ("$.a", False),
    ],
)
def test_what_counts_as_a_selector_object(raw: Any, expected: bool) -> None:
    assert is_selector_object(raw) is expected


def test_a_mapping_that_is_not_a_selector_object_is_plain_data() -> None:
    raw = {"context": "some text", "selector": "#id", "type": "css"}
    assert compile_value(raw).evaluate(SCOPE) == raw


@pytest.mark.parametrize(
    "raw",
    [
        {"a": "{$input.x}"},
        ["ok", "Bearer $steps.x.output.y"],
        {"context": "$input.body", "selector": "$.a", "type": "jsonpath"},
        {"context": "$response.body", "selector": "$.a[", "type": "jsonpath"},
    ],
)
def test_a_value_with_a_bad_expression_is_refused_when_compiled(raw: Any) -> None:
    with pytest.raises(ExpressionError):
        compile_value(raw)
