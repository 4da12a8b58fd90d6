"""`simple` conditions: ``$statusCode == 200 && $response.body#/state == 'RUNNING'``.

The grammar of the Criterion Object: literals (``true``, ``false``, ``null``, numbers,
``'single-quoted'`` strings with ``''`` for a quote, and, as real documents write them,
``"double-quoted"`` strings), ``< <= > >= == != ! && || ( )``, and runtime expressions as
operands, which may be followed by ``[0]`` / ``['key']`` / ``.key`` de-references (also
``{$expr}``). The comparison rules live in `spola.expr.compare`; nothing is ever ``eval``-ed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import force_setattr

from spola.errors import ExpressionError, Location
from spola.expr.compare import loose_compare, loose_truthy
from spola.expr.lexer import tokenize
from spola.expr.logic import Node, evaluate, operands, parse_tokens
from spola.expr.nodes import Expression
from spola.expr.scanner import Mode, scan_expression

if TYPE_CHECKING:
    from spola.expr.nodes import Reference
    from spola.expr.scope import Scope


class _Loose:
    """`Semantics` of simple conditions: operands are runtime expressions read from a `Scope`."""

    __slots__ = ()

    def resolve(self, operand: Any, env: Any) -> Any:
        assert isinstance(operand, Expression)
        return operand.evaluate(env)

    def compare(self, op: str, left: Any, right: Any) -> bool:
        return loose_compare(op, left, right)

    def truthy(self, value: Any) -> bool:
        return loose_truthy(value)


LOOSE = _Loose()


def _read_operand(text: str, pos: int) -> tuple[Expression, int]:
    if text[pos] == "{":
        if not text.startswith("$", pos + 1):
            raise ExpressionError("unexpected '{'", Location(offset=pos))
        expression, end = scan_expression(text, pos + 1, Mode.BRACED)
        if not text.startswith("}", end):
            raise ExpressionError(f"expected '}}' after `{{{expression}`", Location(offset=end))
        return expression, end + 1
    return scan_expression(text, pos, Mode.CONDITION)


class Condition(Struct, frozen=True):
    """A parsed simple condition; `str` gives its canonical form."""

    text: str
    tree: Node
    _expressions: tuple[Expression, ...] = ()  # set by __post_init__, never passed

    def __post_init__(self) -> None:
        force_setattr(self, "_expressions", tuple(operands(self.tree)))

    def __str__(self) -> str:
        return str(self.tree)

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """Every runtime expression in the condition, left to right."""
        return self._expressions

    def references(self) -> frozenset[Reference]:
        """Everything the condition reads."""
        return frozenset(ref for expr in self.expressions for ref in expr.references())

    def value(self, scope: Scope) -> Any:
        """The raw value of the condition (a bool, or an operand's value when it stands alone)."""
        return evaluate(self.tree, scope, LOOSE)

    def evaluate(self, scope: Scope) -> bool:
        """Whether the condition passes in ``scope``.

        Raises:
            Unsupported: when it reads an AsyncAPI ``$message``.
        """
        return loose_truthy(self.value(scope))


def parse_condition(text: str) -> Condition:
    """Parse a simple condition.

    Raises:
        ExpressionError: with the offset of the first problem.
    """
    tokens = tokenize(text, _read_operand, operand_starts="${")
    return Condition(text, parse_tokens(tokens))
