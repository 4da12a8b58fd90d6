"""Selector Objects: pick a value out of structured data with JSONPath, XPath or a JSON Pointer.

What `select` returns:

- jsonpath: a *singular* query (RFC 9535: only names and indexes, such as ``$.user.email`` or
  ``$.items[0].id``) gives the selected node's value, or `MISSING`; any other query (wildcards,
  slices, filters, descendants) always gives a list of the selected values, possibly empty, so a
  value's type never depends on how many nodes happened to match;
- xpath: a node-set gives the string value of its first node (`MISSING` when empty); an atomic
  result keeps its type (numbers, strings, booleans); several atomic values give a list;
- jsonpointer: the target, or `MISSING`.

A context that is `MISSING`, null, or not of the selector's kind (not JSON, not XML) selects
`MISSING`.

XPath support (elementpath, lxml) is imported only when an xpath selector is compiled.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from spola.criteria.queries import compile_query, find_values, is_singular, json_value
from spola.criteria.types import SELECTOR_TYPES, expression_type
from spola.errors import ExpressionError, Location
from spola.expr import MISSING, resolve_pointer, split_pointer
from spola.expr.navigate import PointerSyntaxError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from spola.criteria.queries import Query
    from spola.criteria.xpath import XPathProgram


def _absent(value: Any) -> bool:
    return value is MISSING or value is None


class JsonPathSelector(Struct, frozen=True):
    """A compiled JSONPath selector."""

    text: str
    version: str
    query: Query
    singular: bool

    def __str__(self) -> str:
        return self.text

    def select(self, value: Any) -> Any:
        """The selected value (singular query) or list of values (any other query)."""
        if _absent(value):
            return MISSING
        try:
            data = json_value(value)
        except ValueError:
            return MISSING
        found = find_values(self.query, data)
        if self.singular:
            return found[0] if found else MISSING
        return found


def _atomic(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    import elementpath  # already loaded: only XPath results get here

    if isinstance(value, elementpath.XPathNode):
        return value.string_value
    return str(value)


class XPathSelector(Struct, frozen=True):
    """A compiled XPath selector."""

    text: str
    version: str
    program: XPathProgram

    def __str__(self) -> str:
        return self.text

    def select(self, value: Any) -> Any:
        """The first node's string value, or the typed atomic result."""
        if _absent(value):
            return MISSING
        import elementpath  # already loaded by `compile_selector`, as is spola.criteria.xpath

        from spola.criteria.xpath import parse_xml, run_xpath

        try:
            result = run_xpath(self.program, parse_xml(value))
        except (ValueError, elementpath.ElementPathError):
            return MISSING
        if isinstance(result, list):
            if not result:
                return MISSING
            if isinstance(result[0], elementpath.XPathNode) or len(result) == 1:
                return _atomic(result[0])
            return [_atomic(item) for item in result]
        return _atomic(result)


class PointerSelector(Struct, frozen=True):
    """A JSON Pointer selector."""

    text: str
    version: str = "rfc6901"

    def __str__(self) -> str:
        return self.text

    def select(self, value: Any) -> Any:
        """The pointer's target, or `MISSING`."""
        if _absent(value):
            return MISSING
        return resolve_pointer(value, self.text)


Selector = JsonPathSelector | XPathSelector | PointerSelector


def compile_selector(
    selector: str,
    type: str | Mapping[str, Any],
    version: str | None = None,
) -> Selector:
    """Compile a Selector Object's ``selector`` for its ``type`` (a string or Expression Type Object).

    Raises:
        ExpressionError: for an unknown type or version, or a selector that does not parse.
    """
    kind, version = expression_type(type, version, allowed=SELECTOR_TYPES)
    assert version is not None
    if not isinstance(selector, str):
        raise ExpressionError(f"a selector must be a string, got {selector!r}")
    if kind == "jsonpath":
        query = compile_query(selector, version)
        return JsonPathSelector(selector, version, query, is_singular(query))
    if kind == "xpath":
        from spola.criteria.xpath import prepare_xpath  # elementpath and lxml: only for XPath

        return XPathSelector(selector, version, prepare_xpath(selector, version))
    try:
        split_pointer(selector)
    except PointerSyntaxError as exc:
        raise ExpressionError(f"invalid JSON Pointer: {exc}", Location(offset=exc.offset)) from exc
    return PointerSelector(selector, version)
