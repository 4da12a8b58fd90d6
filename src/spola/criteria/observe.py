"""What a criterion looked at: the values of its operands, for explanations (``-v``, reports).

Only called when someone observes a run, so it may re-evaluate operands; it never raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from spola.criteria.jsonpath import JsonPathCheck
from spola.criteria.queries import json_value
from spola.criteria.simple import SimpleCheck
from spola.expr import MISSING

if TYPE_CHECKING:
    from spola.criteria.criterion import CompiledCriterion
    from spola.expr import Expression, Scope

SHOWN_KINDS: Final = frozenset({"statusCode", "url", "method", "response", "steps", "outputs", "workflows"})
"""Operand kinds whose values may be shown; inputs and request headers may be secret."""


def _shown(expression: Expression) -> bool:
    return expression.kind in SHOWN_KINDS and expression.root != "response.header"


def observe(criterion: CompiledCriterion, scope: Scope) -> tuple[tuple[str, Any], ...]:
    """``(operand, value)`` pairs a criterion compared, left to right (`MISSING` shown as None).

    A `simple` condition gives its runtime expressions; a jsonpath comparison its queries against
    the context (one value, or the list of values a query selected). Other kinds give nothing.
    """
    try:
        return _observe(criterion, scope)
    except Exception:  # an explanation must never break a run
        return ()


def _observe(criterion: CompiledCriterion, scope: Scope) -> tuple[tuple[str, Any], ...]:
    checker = criterion.checker
    seen: dict[str, Any] = {}
    if isinstance(checker, SimpleCheck):
        for expression in checker.expressions:
            if _shown(expression):
                seen.setdefault(str(expression), _plain(expression.evaluate(scope)))
        return tuple(seen.items())
    if isinstance(checker, JsonPathCheck) and criterion.context is not None:
        condition = checker._condition(scope)
        if condition.comparison is None:
            return ()
        context = criterion.context.evaluate(scope)
        if context is MISSING or context is None:
            return ()
        data = json_value(context)
        for query in condition.comparison.queries:
            values = query.values(data)
            seen.setdefault(str(query), values[0] if len(values) == 1 else (list(values) or None))
        return tuple(seen.items())
    return ()


def _plain(value: Any) -> Any:
    return None if value is MISSING else value
