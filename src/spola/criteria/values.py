"""Value trees: payloads, parameter values and outputs with expressions and Selector Objects inside.

`compile_value` walks a YAML/JSON value once:

- a string becomes a `Template` (``$inputs.x``, ``Bearer $inputs.token``, ``{$url}/a``); a string
  without expressions stays literal;
- a mapping that *is* a Selector Object (exactly ``context``, ``selector`` and ``type``, besides
  ``x-`` extensions, with a selector type) becomes a selection;
- other mappings and lists are walked; other scalars are literal.

`Value.evaluate` builds a fresh value each time. Mapping entries and list items that evaluate to
`MISSING` are left out (an optional input that was not given is not sent as null); the whole value
may be `MISSING`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import force_setattr

from spola.criteria.selectors import Selector, compile_selector
from spola.criteria.types import SELECTOR_TYPES
from spola.expr import MISSING, Expression, Template, parse_expression, parse_template
from spola.structs import ComparedOn, repr_without

if TYPE_CHECKING:
    from collections.abc import Callable

    from spola.expr import Reference, Scope

_SELECTOR_KEYS = frozenset({"context", "selector", "type"})


class _Literal(Struct, frozen=True):
    value: Any

    def evaluate(self, scope: Scope) -> Any:
        return self.value


class _Text(Struct, frozen=True):
    template: Template

    def evaluate(self, scope: Scope) -> Any:
        return self.template.evaluate(scope)


class _Whole(Struct, frozen=True):
    """A string that is one expression and nothing else: its typed value, with no template around it."""

    expression: Expression

    def evaluate(self, scope: Scope) -> Any:
        return self.expression.evaluate(scope)


class _Select(Struct, frozen=True):
    context: Expression
    selector: Selector

    def evaluate(self, scope: Scope) -> Any:
        return self.selector.select(self.context.evaluate(scope))


class _Object(Struct, frozen=True):
    items: tuple[tuple[Any, _Node], ...]

    def evaluate(self, scope: Scope) -> Any:
        out: dict[Any, Any] = {}
        for key, node in self.items:
            value = node.evaluate(scope)
            if value is not MISSING:
                out[key] = value
        return out


class _Array(Struct, frozen=True):
    items: tuple[_Node, ...]

    def evaluate(self, scope: Scope) -> Any:
        values = (node.evaluate(scope) for node in self.items)
        return [value for value in values if value is not MISSING]


_Node = _Literal | _Text | _Whole | _Select | _Object | _Array


def _unbound(scope: Scope) -> Any:  # pragma: no cover - replaced in Value.__post_init__
    raise AssertionError("Value.evaluator is set by __post_init__")


class Value(ComparedOn, Struct, frozen=True, eq=False):
    """A compiled value tree: `evaluate` it against a scope."""

    raw: Any
    node: _Node
    expressions: tuple[Expression, ...]
    has_bare: bool = False
    """True when some string writes an expression without braces (``Bearer $inputs.token``)."""
    evaluator: Callable[[Scope], Any] = _unbound
    """`evaluate` in one call, chosen once (a whole expression's own reader, else the node's); set by
    ``__post_init__``, never passed. The compiled request's parameters call it."""

    # equality and hash leave the chosen evaluation out (a dataclass's compare=False)
    _COMPARED = ("raw", "node", "expressions", "has_bare")

    def __post_init__(self) -> None:
        # chosen once: a whole expression is read by the expression's own reader (two calls less)
        node = self.node
        force_setattr(self, "evaluator", node.expression.reader if type(node) is _Whole else node.evaluate)

    def __repr__(self) -> str:
        return repr_without(self, frozenset({"evaluator"}))

    @property
    def is_literal(self) -> bool:
        """True when the value holds no runtime expression (it always evaluates to ``raw``)."""
        return not self.expressions

    def references(self) -> frozenset[Reference]:
        """Everything the value reads."""
        return frozenset(ref for expr in self.expressions for ref in expr.references())

    def evaluate(self, scope: Scope) -> Any:
        """The value in ``scope``; `MISSING` entries are left out, the whole may be `MISSING`.

        Raises:
            Unsupported: when it reads an AsyncAPI ``$message``.
        """
        return self.evaluator(scope)


def is_selector_object(raw: Any) -> bool:
    """Whether a mapping is a Selector Object: context, selector and a selector type."""
    if not isinstance(raw, Mapping):
        return False
    keys = {key for key in raw if not (isinstance(key, str) and key.startswith("x-"))}
    if keys != _SELECTOR_KEYS:
        return False
    kind = raw["type"]
    if isinstance(kind, Mapping):
        kind = kind.get("type")
    return kind in SELECTOR_TYPES and isinstance(raw["context"], str) and isinstance(raw["selector"], str)


def _compile(raw: Any, found: list[Expression], bare: list[bool]) -> _Node:
    if isinstance(raw, str):
        template = parse_template(raw)
        if template.is_literal:
            return _Literal(raw)
        found.extend(template.expressions)
        bare.append(template.has_bare)
        if template.whole:
            return _Whole(template.expressions[0])
        return _Text(template)
    if is_selector_object(raw):
        context = parse_expression(raw["context"])
        found.append(context)
        return _Select(context, compile_selector(raw["selector"], raw["type"]))
    if isinstance(raw, Mapping):
        return _Object(tuple((key, _compile(value, found, bare)) for key, value in raw.items()))
    if isinstance(raw, list | tuple):
        return _Array(tuple(_compile(item, found, bare) for item in raw))
    return _Literal(raw)


def compile_value(raw: Any) -> Value:
    """Compile a value tree (see the module documentation).

    Raises:
        ExpressionError: for an expression or selector that does not parse.
    """
    found: list[Expression] = []
    bare: list[bool] = []
    node = _compile(raw, found, bare)
    return Value(raw, node, tuple(found), any(bare))
