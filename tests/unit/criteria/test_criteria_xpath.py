"""xpath criteria: each version's parser and Effective Boolean Value, safe XML parsing."""

from __future__ import annotations

from typing import Any

import pytest

from spola.criteria import compile_criterion
from spola.errors import ExpressionError
from spola.expr import ResponseView, Scope

PETS = "<root><pets><pet>rex</pet><pet>max</pet></pets><count>2</count><name>zoo</name><zero>0</zero></root>"
VERSIONS = ["xpath-10", "xpath-20", "xpath-30", "xpath-31"]


def _scope(body: Any, **inputs: Any) -> Scope:
    return Scope(inputs=inputs, response=ResponseView(body=body))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("condition", "passes"),
    [
        ("count(/root/pets/*) > 0", True),
        ("count(/root/pets/*) > 5", False),
        ("/root/pets", True),
        ("/root/cats", False),
        ("string(/root/name)", True),
        ("string(/root/cats)", False),
        ("number(/root/count)", True),
        ("number(/root/zero)", False),
        ("number('x')", False),
        ("/root/pets/pet[. = 'max']", True),
        ("true()", True),
        ("false()", False),
    ],
)
def test_the_effective_boolean_value_decides(version: str, condition: str, passes: bool) -> None:
    criterion = compile_criterion(
        condition, type={"type": "xpath", "version": version}, context="$response.body"
    )
    assert criterion.evaluate(_scope(PETS)).passed is passes
    assert criterion.evaluate(_scope(PETS.encode())).passed is passes


def test_the_default_version_is_xpath_31() -> None:
    criterion = compile_criterion("map { 'a': 1 }?a = 1", type="xpath", context="$response.body")
    assert criterion.version == "xpath-31"
    assert criterion.evaluate(_scope(PETS)).passed


def test_version_specific_syntax_is_refused_by_older_parsers() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_criterion(
            "for $p in /root/pets/pet return $p", type="xpath", version="xpath-10", context="$response.body"
        )
    assert "xpath-10" in caught.value.message
    assert (
        compile_criterion(
            "for $p in /root/pets/pet return $p", type="xpath", version="xpath-20", context="$response.body"
        )
        .evaluate(_scope(PETS))
        .passed
    )


def test_a_sequence_of_atomic_values_has_no_boolean_value_from_xpath_20() -> None:
    verdict = compile_criterion("(1, 2)", type="xpath", context="$response.body").evaluate(_scope(PETS))
    assert not verdict.passed
    assert "effective boolean value" in (verdict.reason or "")


def test_a_bad_xpath_is_refused_with_its_offset() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_criterion("/root/[", type="xpath", context="$response.body")
    assert caught.value.location.offset == 6


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<root><pets>", "not well-formed XML"),
        ({"root": 1}, "not XML text"),
        (None, "is missing"),
    ],
)
def test_a_context_that_is_not_xml_fails(body: Any, reason: str) -> None:
    verdict = compile_criterion("/root", type="xpath", context="$response.body").evaluate(_scope(body))
    assert not verdict.passed
    assert reason in (verdict.reason or "")


def test_entities_are_not_expanded() -> None:
    xml = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "expanded">]><r>&e;</r>'
    criterion = compile_criterion("contains(string(/r), 'expanded')", type="xpath", context="$response.body")
    assert not criterion.evaluate(_scope(xml)).passed


def test_external_entities_are_not_fetched_or_read() -> None:
    xml = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/hostname">]><r>&e;</r>'
    criterion = compile_criterion("string-length(string(/r)) > 0", type="xpath", context="$response.body")
    assert not criterion.evaluate(_scope(xml)).passed


def test_an_embedded_expression_is_filled_in_first() -> None:
    criterion = compile_criterion(
        "count(/root/pets/pet) >= {$inputs.min}", type="xpath", context="$response.body"
    )
    assert criterion.evaluate(_scope(PETS, min=2)).passed
    assert not criterion.evaluate(_scope(PETS, min=3)).passed


def test_namespace_prefixes_of_the_document_can_be_used() -> None:
    xml = '<r xmlns:p="urn:p"><p:item>1</p:item></r>'
    criterion = compile_criterion("/r/p:item = 1", type="xpath", context="$response.body")
    assert criterion.evaluate(_scope(xml)).passed
