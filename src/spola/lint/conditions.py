"""Comparisons of response fields with literals, read out of Criterion Objects.

``$response.body#/state == 'RUNNING'`` (simple), ``$.state.life_cycle_state == "RUNNING"`` (the
JSONPath comparison dialect, against a ``$response.body`` context) and the RFC 9535 filter
``$[?$.state.life_cycle_state == "RUNNING"]`` all give the same `Comparison`: the path of the field
inside the response body, the operator and the literal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct

from spola.criteria import COMPARISON_DIALECT, RFC9535, parse_dialect
from spola.errors import ExpressionError
from spola.expr import Expression, Index, Key, Pointer, parse_condition
from spola.expr.logic import Compare, Literal, Logical, Not, Operand

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from spola.expr.logic import Node
    from spola.model import Criterion

_FLIP: Final = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_SEGMENT: Final = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)|\[(?P<index>\d+)\]|\['(?P<single>[^']*)'\]|\[\"(?P<double>[^\"]*)\"\]"
)
_FILTER: Final = re.compile(r"^\$\[\?(.*)\]$", re.DOTALL)

Path = tuple[str | int, ...]


class Comparison(Struct, frozen=True):
    """``<response body field> op literal``; ``path`` is the field's tokens inside the body."""

    path: Path
    op: str
    literal: Any

    def holds_for(self, value: Any) -> bool:
        """Whether the comparison is true when the field has ``value``."""
        left, right = _comparable(value, self.literal)
        try:
            return bool(
                {
                    "==": left == right,
                    "!=": left != right,
                    "<": left < right,
                    "<=": left <= right,
                    ">": left > right,
                    ">=": left >= right,
                }[self.op]
            )
        except TypeError:
            return False


def _comparable(value: Any, literal: Any) -> tuple[Any, Any]:
    if isinstance(value, bool) or isinstance(literal, bool):
        return value, literal
    if isinstance(value, int | float) and isinstance(literal, str):
        try:
            return value, float(literal)
        except ValueError:
            return str(value), literal
    if isinstance(value, str) and isinstance(literal, int | float):
        try:
            return float(value), literal
        except ValueError:
            return value, str(literal)
    return value, literal


def path_text(path: Path) -> str:
    """A path as a JSON Pointer (``/state/life_cycle_state``)."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def jsonpath_tokens(text: str) -> Path | None:
    """The tokens of a plain JSONPath (``$.a.b[0]['c']``), or None for anything fancier."""
    if not text.startswith("$"):
        return None
    tokens: list[str | int] = []
    pos = 1
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if match is None:
            return None
        if match.group("index") is not None:
            tokens.append(int(match.group("index")))
        else:
            tokens.append(
                next(
                    g
                    for g in (match.group("name"), match.group("single"), match.group("double"))
                    if g is not None
                )
            )
        pos = match.end()
    return tuple(tokens)


def body_path(expression: Expression) -> Path | None:
    """The body path a ``$response.body…`` expression reads, or None for anything else."""
    if expression.root != "response.body":
        return None
    tokens: list[str | int] = list(expression.name.split(".")) if expression.name else []
    for segment in expression.segments:
        if isinstance(segment, Pointer):
            tokens.extend(segment.tokens)
        elif isinstance(segment, Index):
            tokens.append(segment.index)
        elif isinstance(segment, Key):
            tokens.append(segment.key)
    return tuple(tokens)


def _parsed(criterion: Criterion) -> tuple[Node, Path, Callable[[Any], Path | None]] | None:
    """The condition's tree, the body path its queries start from, and how to read an operand."""
    compiled = criterion.compiled
    try:
        if compiled.kind == "simple":
            return parse_condition(criterion.condition).tree, (), _simple_operand
        if compiled.kind != "jsonpath" or compiled.context is None:
            return None
        base = body_path(compiled.context)
        if base is None:
            return None
        if compiled.dialect == COMPARISON_DIALECT:
            return parse_dialect(criterion.condition).tree, base, _query_operand
        match = _FILTER.match(criterion.condition.strip())
        if compiled.dialect == RFC9535 and match:
            return parse_dialect(match.group(1)).tree, base, _query_operand
    except ExpressionError:
        return None
    return None


def comparisons(criterion: Criterion) -> list[Comparison]:
    """The body-field comparisons of a criterion (empty when it has none spola can read)."""
    parsed = _parsed(criterion)
    if parsed is None:
        return []
    tree, base, operand = parsed
    return list(_walk(tree, base, operand))


def decide(criterion: Criterion, path: Path, value: Any) -> bool | None:
    """Whether a criterion holds when the body field at ``path`` is ``value``: True, False, or None
    when it depends on something else (another field, the status code, a regex)."""
    parsed = _parsed(criterion)
    if parsed is None:
        return None
    tree, base, operand = parsed
    return _decide(tree, base, operand, path, value)


def decide_all(criteria: Iterable[Criterion], path: Path, value: Any) -> bool | None:
    """The three-valued AND of several criteria (an empty list holds)."""
    result: bool | None = True
    for criterion in criteria:
        verdict = decide(criterion, path, value)
        if verdict is False:
            return False
        if verdict is None:
            result = None
    return result


def _decide(
    node: Node, base: Path, operand: Callable[[Any], Path | None], path: Path, value: Any
) -> bool | None:
    if isinstance(node, Literal):
        return bool(node.value)
    if isinstance(node, Not):
        inner = _decide(node.operand, base, operand, path, value)
        return None if inner is None else not inner
    if isinstance(node, Logical):
        verdicts = [_decide(child, base, operand, path, value) for child in node.operands]
        decisive = node.op == "&&"
        if (not decisive) in verdicts:
            return not decisive
        return decisive if all(v is decisive for v in verdicts) else None
    if isinstance(node, Compare):
        pair = _pair(node)
        if pair is None:
            return None
        field, op, literal = pair
        read = operand(field.value)
        if read is None or base + read != path:
            return None
        return Comparison(path, op, literal.value).holds_for(value)
    return None


def _simple_operand(value: Any) -> Path | None:
    return body_path(value) if isinstance(value, Expression) else None


def _query_operand(value: Any) -> Path | None:
    return jsonpath_tokens(str(value))


def _walk(node: Node, base: Path, operand: Callable[[Any], Path | None]) -> Iterator[Comparison]:
    if isinstance(node, Logical):
        for child in node.operands:
            yield from _walk(child, base, operand)
    elif isinstance(node, Not):
        yield from _walk(node.operand, base, operand)
    elif isinstance(node, Compare):
        pair = _pair(node)
        if pair is not None:
            field, op, literal = pair
            path = operand(field.value)
            if path is not None:
                yield Comparison(base + path, op, literal.value)


def _pair(node: Compare) -> tuple[Operand, str, Literal] | None:
    if isinstance(node.left, Operand) and isinstance(node.right, Literal):
        return node.left, node.op, node.right
    if isinstance(node.left, Literal) and isinstance(node.right, Operand):
        return node.right, _FLIP[node.op], node.left
    return None
