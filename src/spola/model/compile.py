"""The one place where the model compiles expressions, conditions and value trees (``spola.expr``,
``spola.criteria``), turning their ``ExpressionError`` into located findings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from spola.criteria import compile_criterion, compile_value
from spola.errors import ExpressionError
from spola.expr import parse_expression

if TYPE_CHECKING:
    from collections.abc import Iterable

    from spola.criteria import CompiledCriterion, Value
    from spola.expr import Expression
    from spola.model.collector import Collector

_STRICT_ID = re.compile(r"[A-Za-z0-9_\-]+\Z")
V11 = (1, 1)


def _report(c: Collector, pointer: str, text: Any, exc: ExpressionError) -> None:
    offset = exc.location.offset if exc.location else None
    shown = text if isinstance(text, str) and len(text) <= 120 else None
    where = f" at offset {offset}" if offset is not None else ""
    prefix = f"invalid expression `{shown}`" if shown is not None else "invalid expression"
    c.error(pointer, f"{prefix}{where}: {exc.message}", hint=exc.hint, rule="expression", offset=offset)


def _strict_ids(
    c: Collector, pointer: str, text: Any, expressions: Iterable[Expression], grammar: tuple[int, int]
) -> bool:
    """Arazzo 1.1's grammar takes only ``[A-Za-z0-9_-]+`` step and workflow ids in expressions
    (``identifier-strict``); 1.0.x's takes any character. False (with a finding) when one breaks it."""
    if grammar < V11:
        return True
    for expression in expressions:
        if expression.root not in ("steps", "workflows"):
            continue
        what = "step id" if expression.root == "steps" else "workflow id"
        named = [(what, expression.id)]
        if expression.step is not None:
            named.append(("step id", expression.step))
        for label, value in named:
            if value is not None and not _STRICT_ID.match(value):
                shown = text if isinstance(text, str) and len(text) <= 120 else str(expression)
                c.error(
                    pointer,
                    f"invalid expression `{shown}`: {label} '{value}' is not [A-Za-z0-9_-]+, which Arazzo "
                    f"{grammar[0]}.{grammar[1]}'s runtime expression grammar requires (1.0.x allows it)",
                    hint=f"rename the {label.split()[0]} to letters, digits, '_' and '-' (e.g. "
                    f"'{_suggested(value)}'), or declare arazzo: 1.0.1",
                    rule="expression",
                )
                return False
    return True


def _suggested(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-") or "step"


def value_at(c: Collector, pointer: str, raw: Any, *, grammar: tuple[int, int] = (1, 0)) -> Value | None:
    """Compile a value tree (literals, ``{$x}`` / bare ``$inputs.x`` strings, Selector Objects)."""
    try:
        value = compile_value(raw)
    except ExpressionError as exc:
        _report(c, pointer, raw, exc)
        return None
    return value if _strict_ids(c, pointer, raw, value.expressions, grammar) else None


def criterion_at(
    c: Collector,
    pointer: str,
    condition: str,
    *,
    type_: str | None,
    version: str | None,
    context: str | None,
    grammar: tuple[int, int] = (1, 0),
) -> CompiledCriterion | None:
    """Compile a Criterion's condition (with its type, version and context)."""
    if context is not None and not expression_ok(c, pointer + "/context", context, grammar=grammar):
        return None
    try:
        compiled = compile_criterion(condition, type=type_, version=version, context=context)
    except ExpressionError as exc:
        _report(c, pointer + "/condition", condition, exc)
        return None
    ok = _strict_ids(c, pointer + "/condition", condition, compiled.expressions, grammar)
    return compiled if ok else None


def expression_ok(c: Collector, pointer: str, text: str, *, grammar: tuple[int, int] = (1, 0)) -> bool:
    """Check that a text is one runtime expression; a finding when it is not."""
    try:
        expression = parse_expression(text)
    except ExpressionError as exc:
        _report(c, pointer, text, exc)
        return False
    return _strict_ids(c, pointer, text, (expression,), grammar)
