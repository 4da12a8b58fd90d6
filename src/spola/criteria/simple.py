"""`simple` criteria: a parsed `Condition` evaluated against the scope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct

from spola.criteria.verdict import PASS, Verdict, show
from spola.expr import Condition, parse_condition

if TYPE_CHECKING:
    from spola.expr import Expression, Scope

_SHOWN_KINDS: Final = frozenset({"statusCode", "url", "method", "response", "steps", "outputs", "workflows"})
"""Operand kinds whose values a failing verdict may show; inputs and request headers may be secret."""


class SimpleCheck(Struct, frozen=True):
    """Checks a simple condition; a failing verdict lists the values its operands had."""

    condition: Condition

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """The runtime expressions the condition reads."""
        return self.condition.expressions

    def check(self, context: Any, scope: Scope) -> Verdict:
        """Evaluate the condition (``context`` is not used by simple conditions)."""
        if self.condition.evaluate(scope):
            return PASS
        seen: list[str] = []
        for expression in self.expressions:
            if expression.kind not in _SHOWN_KINDS or expression.root == "response.header":
                continue
            text = f"{expression} is {show(expression.evaluate(scope))}"
            if text not in seen:
                seen.append(text)
        return Verdict(False, "; ".join(seen) or None)


def compile_simple(condition: str) -> SimpleCheck:
    """Parse a simple condition up front.

    Raises:
        ExpressionError: with the offset of the problem.
    """
    return SimpleCheck(parse_condition(condition))
