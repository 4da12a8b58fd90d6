"""The JSONPath comparison dialect real Arazzo documents use: ``$.state == "RUNNING" || $.data.status < 10``.

RFC 9535 has no top-level comparisons (they live inside filters), yet every JSONPath criterion
of the real-world corpus is written this way. A condition that is not a valid RFC 9535 query
is read as a comparison expression instead, and evaluated as its author means it:

- operands are JSONPath queries against the context (singular or not) and literals: strings in
  double or single quotes (JSON backslash escapes; ``''`` also stands for a quote), numbers,
  ``true``, ``false``, ``null``;
- operators ``== != < <= > >=``, ``!``, ``&&``, ``||`` and parentheses, with the precedence of
  `simple` conditions;
- comparisons follow RFC 9535 filter semantics: **strings compare case-sensitively**, numbers by
  value (``10 == 10.0``), no coercion between types, ``null`` equals only ``null``; arrays and
  objects are equal member by member; only numbers and strings are ordered;
- a query that selects nothing is *Nothing*: it equals only another Nothing, ``!=`` anything
  else, and every ordering with it is false (``<=``/``>=`` hold for two Nothings, as in RFC 9535);
- a query that selects several nodes compares true when any node does (XPath's general
  comparison); ``!=`` is the negation of ``==``, so it means "no node equals";
- a query on its own (``$.a && $.b``, ``!$.a``) tests that it selects something;
- ``.length`` at the end of a query that selects nothing answers the length of the array or
  string before it (``$.data.length > 0``), a JavaScript habit of the corpus.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct
from msgspec.structs import force_setattr

from spola.criteria.queries import compile_query, find_values
from spola.criteria.types import JSONPATH_RFC
from spola.criteria.verdict import PASS, Verdict, show
from spola.expr.compare import is_number, loose_truthy
from spola.expr.lexer import tokenize
from spola.expr.logic import Node, evaluate, operands, parse_tokens

if TYPE_CHECKING:
    from collections.abc import Callable

    from spola.criteria.queries import Query

_STOP: Final = frozenset("=!<>&|")
_LENGTH: Final = ".length"


class QueryOperand(Struct, frozen=True):
    """A JSONPath query used as an operand; ``length_of`` is the query before a final ``.length``."""

    text: str
    query: Query
    length_of: Query | None = None

    def __str__(self) -> str:
        return self.text

    def values(self, data: Any) -> tuple[Any, ...]:
        """The values of the selected nodes (lengths, for the ``.length`` fallback)."""
        found = find_values(self.query, data)
        if not found and self.length_of is not None:
            found = [len(v) for v in find_values(self.length_of, data) if isinstance(v, str | list)]
        return tuple(found)


class Nodes(Struct, frozen=True):
    """The values a query operand selected; empty is RFC 9535's *Nothing*."""

    values: tuple[Any, ...]


def json_equal(left: Any, right: Any) -> bool:
    """RFC 9535 equality of two JSON values."""
    if type(left) is str and type(right) is str:  # `$.state.x == "RUNNING"`, the commonest test
        return left == right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if _array(left) and _array(right):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    return False


def _array(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def json_less(left: Any, right: Any) -> bool:
    """RFC 9535 ``<``: numbers by value, strings by code points, anything else false."""
    if is_number(left) and is_number(right):
        return bool(left < right)
    if isinstance(left, str) and isinstance(right, str):
        return left < right
    return False


_PAIRWISE: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": json_equal,
    "<": json_less,
    ">": lambda a, b: json_less(b, a),
    "<=": lambda a, b: json_less(a, b) or json_equal(a, b),
    ">=": lambda a, b: json_less(b, a) or json_equal(a, b),
}


def dialect_compare(op: str, left: Any, right: Any) -> bool:
    """Compare two operand values (`Nodes` or literals) under the dialect's rules."""
    left_nothing = isinstance(left, Nodes) and not left.values
    right_nothing = isinstance(right, Nodes) and not right.values
    if left_nothing or right_nothing:
        both = left_nothing and right_nothing
        if op in ("==", "<=", ">="):
            return both
        return not both if op == "!=" else False
    lefts = left.values if isinstance(left, Nodes) else (left,)
    rights = right.values if isinstance(right, Nodes) else (right,)
    if op == "!=":
        return not any(json_equal(a, b) for a in lefts for b in rights)
    pairwise = _PAIRWISE[op]
    return any(pairwise(a, b) for a in lefts for b in rights)


class _Semantics:
    __slots__ = ()

    def resolve(self, operand: Any, env: Any) -> Any:
        assert isinstance(operand, QueryOperand)
        return Nodes(operand.values(env))

    def compare(self, op: str, left: Any, right: Any) -> bool:
        return dialect_compare(op, left, right)

    def truthy(self, value: Any) -> bool:
        if isinstance(value, Nodes):
            return bool(value.values)
        return loose_truthy(value)


SEMANTICS: Final = _Semantics()


def query_end(text: str, pos: int) -> int:
    """Where the query starting at ``text[pos]`` ends: at whitespace or an operator outside brackets."""
    depth = 0
    quote = ""
    index = pos + 1
    size = len(text)
    while index < size:
        char = text[index]
        if quote:
            if char == "\\":
                index += 2
                continue
            if char == quote:
                quote = ""
        elif char in "'\"" and depth:
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            if not depth:
                break
            depth -= 1
        elif not depth and (char.isspace() or char in _STOP):
            break
        index += 1
    return index


class DialectCondition(Struct, frozen=True):
    """A parsed comparison-dialect condition; `str` gives its canonical form."""

    text: str
    tree: Node
    _queries: tuple[QueryOperand, ...] = ()  # set by __post_init__, never passed

    def __post_init__(self) -> None:
        force_setattr(self, "_queries", tuple(operands(self.tree)))

    def __str__(self) -> str:
        return str(self.tree)

    @property
    def queries(self) -> tuple[QueryOperand, ...]:
        """Every query operand, left to right."""
        return self._queries

    def test(self, data: Any) -> Verdict:
        """Evaluate against a JSON value; a failing verdict shows what each query selected."""
        if SEMANTICS.truthy(evaluate(self.tree, data, SEMANTICS)):
            return PASS
        seen: list[str] = []
        for query in self.queries:
            text = _describe(query, data)
            if text not in seen:
                seen.append(text)
        return Verdict(False, "; ".join(seen) or None)


def _describe(query: QueryOperand, data: Any) -> str:
    values = query.values(data)
    if not values:
        return f"{query} selected nothing"
    if len(values) == 1:
        return f"{query} is {show(values[0])}"
    return f"{query} selected {len(values)} values: {show(list(values))}"


def parse_dialect(text: str, version: str = JSONPATH_RFC) -> DialectCondition:
    """Parse a comparison-dialect condition; each query is compiled for ``version``.

    Raises:
        ExpressionError: with the offset of the problem.
    """

    def read(source: str, pos: int) -> tuple[QueryOperand, int]:
        end = query_end(source, pos)
        query_text = source[pos:end]
        query = compile_query(query_text, version, offset=pos)
        length_of = None
        if query_text.endswith(_LENGTH) and len(query_text) > len(_LENGTH):
            length_of = compile_query(query_text[: -len(_LENGTH)], version, offset=pos)
        return QueryOperand(query_text, query, length_of), end

    tokens = tokenize(text, read, operand_starts="$", backslash_in_single_quotes=True)
    return DialectCondition(text, parse_tokens(tokens, double_quoted_strings=True))
