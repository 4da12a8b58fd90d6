"""Selector Objects and Payload Replacement Objects."""

from __future__ import annotations

from typing import Any

import pytest

from spola.criteria import compile_selector, replace
from spola.errors import ExpressionError
from spola.expr import MISSING

BODY = {
    "user": {"profile": {"email": "a@b.c"}},
    "items": [{"id": 1, "sku": "A"}, {"id": 2, "sku": "B"}],
    "n": None,
}
INVOICE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Invoice no="17"><Header><InvoiceNumber>INV-9</InvoiceNumber><Total>12.50</Total></Header>'
    "<Line>a</Line><Line>b</Line></Invoice>"
)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("$.user.profile.email", "a@b.c"),
        ("$.items[0].id", 1),
        ("$.items[-1].sku", "B"),
        ("$['user']['profile']", {"email": "a@b.c"}),
        ("$.n", None),
        ("$.absent", MISSING),
        ("$.items[*].id", [1, 2]),
        ("$.items[?@.id > 1].sku", ["B"]),
        ("$.items[?@.id > 5].sku", []),
        ("$..email", ["a@b.c"]),
    ],
)
def test_a_jsonpath_selector_gives_a_value_when_singular_and_a_list_otherwise(
    selector: str, expected: Any
) -> None:
    assert compile_selector(selector, "jsonpath").select(BODY) == expected
    if expected is MISSING:
        assert compile_selector(selector, "jsonpath").select(BODY) is MISSING


@pytest.mark.parametrize(
    ("selector", "version", "expected"),
    [
        ("/Invoice/Header/InvoiceNumber", "xpath-30", "INV-9"),
        ("/Invoice/Header/InvoiceNumber/text()", "xpath-31", "INV-9"),
        ("/Invoice/@no", "xpath-10", "17"),
        ("/Invoice/Line", "xpath-20", "a"),
        ("/Invoice/Nothing", "xpath-31", MISSING),
        ("count(/Invoice/Line)", "xpath-31", 2),
        ("number(/Invoice/Header/Total)", "xpath-31", 12.5),
        ("/Invoice/Header/Total * 2", "xpath-10", 25.0),
        ("string(/Invoice/Header/InvoiceNumber)", "xpath-31", "INV-9"),
        ("count(/Invoice/Line) = 2", "xpath-31", True),
        ("(1, 2.5, 'x')", "xpath-31", [1, 2.5, "x"]),
    ],
)
def test_an_xpath_selector_gives_a_string_value_or_a_typed_result(
    selector: str, version: str, expected: Any
) -> None:
    selected = compile_selector(selector, {"type": "xpath", "version": version}).select(INVOICE)
    assert selected == expected
    assert type(selected) is type(expected)


def test_a_json_pointer_selector_gives_its_target() -> None:
    assert compile_selector("/items/1/sku", "jsonpointer").select(BODY) == "B"
    assert compile_selector("", "jsonpointer").select(BODY) == BODY
    assert compile_selector("/items/9", "jsonpointer").select(BODY) is MISSING


@pytest.mark.parametrize(
    ("selector", "kind", "value"),
    [
        ("$.a", "jsonpath", None),
        ("$.a", "jsonpath", MISSING),
        ("$.a", "jsonpath", "not json"),
        ("/a", "xpath", {"a": 1}),
        ("/a", "xpath", "<a>"),
        ("/a", "jsonpointer", None),
    ],
)
def test_an_unusable_context_selects_missing(selector: str, kind: str, value: Any) -> None:
    assert compile_selector(selector, kind).select(value) is MISSING


def test_json_text_is_parsed_before_selecting() -> None:
    assert compile_selector("$.a", "jsonpath").select('{"a": 5}') == 5
    assert compile_selector("/a", "jsonpointer").select(b'{"a": 5}') == 5


@pytest.mark.parametrize(
    ("selector", "kind", "message"),
    [
        ("$.a[", "jsonpath", "invalid JSONPath"),
        ("/a/[", "xpath", "invalid XPath"),
        ("a/b", "jsonpointer", "invalid JSON Pointer"),
        ("/a", "yaml", "unknown type 'yaml'"),
        ("/a", {"type": "jsonpointer", "version": "rfc9999"}, "unknown jsonpointer version"),
    ],
)
def test_a_bad_selector_is_refused(selector: str, kind: Any, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_selector(selector, kind)
    assert message in caught.value.message


def test_a_pointer_replacement_sets_creates_and_appends_without_touching_the_original() -> None:
    original = {"petOrder": {"petId": 1, "tags": ["a"]}}
    assert replace(original, "/petOrder/petId", 7) == {"petOrder": {"petId": 7, "tags": ["a"]}}
    assert replace(original, "/petOrder/quantity", 10)["petOrder"]["quantity"] == 10
    assert replace(original, "/petOrder/tags/-", "b")["petOrder"]["tags"] == ["a", "b"]
    assert replace(original, "/petOrder/tags/1", "b")["petOrder"]["tags"] == ["a", "b"]
    assert replace(original, "/petOrder/tags/0", "z")["petOrder"]["tags"] == ["z"]
    assert replace(original, "", {"new": 1}) == {"new": 1}
    assert replace({"a~b": {"c/d": 0}}, "/a~0b/c~1d", 1) == {"a~b": {"c/d": 1}}
    assert original == {"petOrder": {"petId": 1, "tags": ["a"]}}


def test_a_pointer_replacement_in_a_json_text_payload_gives_text_back() -> None:
    assert replace('{"a": 1}', "/b", [1, "x"]) == '{"a": 1, "b": [1, "x"]}'


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/missing/x", "`/missing` does not exist"),
        ("/tags/5", "is not an index"),
        ("/tags/01", "is not an index"),
        ("/name/x", "neither an object nor an array"),
        ("name", "invalid JSON Pointer"),
    ],
)
def test_a_pointer_replacement_that_cannot_be_done_is_an_error(target: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        replace({"tags": [], "name": "n"}, target, 1)
    assert message in caught.value.message


def test_a_jsonpath_replacement_sets_every_selected_location() -> None:
    payload = {"items": [{"sku": "ABC123", "quantity": 1}, {"sku": "X", "quantity": 1}, {"sku": "ABC123"}]}
    replaced = replace(payload, "$.items[?(@.sku=='ABC123')].quantity", 5, selector_type="jsonpath")
    assert replaced == {
        "items": [{"sku": "ABC123", "quantity": 5}, {"sku": "X", "quantity": 1}, {"sku": "ABC123"}]
    }
    assert replace(payload, "$.items[*].sku", "Z")["items"][2] == {"sku": "Z"}
    assert replace(payload, "$.nothing[*]", 1) == payload
    assert (
        replace(payload, "$.items[0].sku", "Q", selector_type={"type": "jsonpath", "version": "rfc9535"})[
            "items"
        ][0]["sku"]
        == "Q"
    )


def test_an_xpath_replacement_sets_element_text_and_attributes() -> None:
    replaced = replace(INVOICE, "/Invoice/Header/InvoiceNumber", "INV-10", media="xml")
    assert replaced.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<InvoiceNumber>INV-10</InvoiceNumber>" in replaced
    assert 'no="99"' in replace(INVOICE, "/Invoice/@no", 99, media="xml")
    assert "<Header>42</Header>" in replace(INVOICE, "/Invoice/Header", 42, media="xml")
    assert "<Line>x</Line><Line>x</Line>" in replace(INVOICE, "/Invoice/Line", "x", media="xml")
    as_bytes = replace(
        b"<a><b>1</b></a>", "/a/b/text()", 2, selector_type={"type": "xpath", "version": "xpath-30"}
    )
    assert as_bytes == b"<a><b>2</b></a>"


def test_an_xpath_replacement_needs_an_xml_text_payload() -> None:
    with pytest.raises(ExpressionError):
        replace({"a": 1}, "/a", 2, media="xml")
    with pytest.raises(ExpressionError):
        replace("<a>", "/a", 2, media="xml")
