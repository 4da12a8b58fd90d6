"""The one place where the model compiles expressions, conditions and value trees (``spola.expr``,
``spola.criteria``), turning their ``ExpressionError`` into located findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola.criteria import compile_criterion, compile_value
from spola.errors import ExpressionError
from spola.expr import parse_expression

if TYPE_CHECKING:
    from spola.criteria import CompiledCriterion, Value
    from spola.model.collector import Collector


def _report(c: Collector, pointer: str, text: Any, exc: ExpressionError) -> None:
    offset = exc.location.offset if exc.location else None
    shown = text if isinstance(text, str) and len(text) <= 120 else None
    where = f" at offset {offset}" if offset is not None else ""
    prefix = f"invalid expression `{shown}`" if shown is not None else "invalid expression"
    c.error(pointer, f"{prefix}{where}: {exc.message}", hint=exc.hint, rule="expression", offset=offset)


def value_at(c: Collector, pointer: str, raw: Any) -> Value | None:
    """Compile a value tree (literals, ``{$x}`` / bare ``$inputs.x`` strings, Selector Objects)."""
    try:
        return compile_value(raw)
    except ExpressionError as exc:
        _report(c, pointer, raw, exc)
        return None


def criterion_at(
    c: Collector, pointer: str, condition: str, *, type_: str | None, version: str | None, context: str | None
) -> CompiledCriterion | None:
    """Compile a Criterion's condition (with its type, version and context)."""
    if context is not None and not expression_ok(c, pointer + "/context", context):
        return None
    try:
        return compile_criterion(condition, type=type_, version=version, context=context)
    except ExpressionError as exc:
        _report(c, pointer + "/condition", condition, exc)
        return None


def expression_ok(c: Collector, pointer: str, text: str) -> bool:
    """Check that a text is one runtime expression; a finding when it is not."""
    try:
        parse_expression(text)
    except ExpressionError as exc:
        _report(c, pointer, text, exc)
        return False
    return True
