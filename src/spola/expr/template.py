"""String values with runtime expressions inside: ``https://{$inputs.host}/a``, ``Bearer $inputs.token``.

Two spellings are recognised:

- embedded, as the spec writes it: ``{$inputs.host}``;
- bare, as real documents write it: ``$inputs.token`` anywhere in a string, when ``$`` is followed
  by a known root (``$5 off`` and ``price in $`` stay text). The linter can flag these through
  `Template.has_bare`.

A string that is exactly one bare expression is that expression: it evaluates to the typed value.
Otherwise each expression's value is turned into text (`stringify`) and the parts are joined; a
part that is `MISSING` makes the whole template `MISSING`, so the caller can leave the field out.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct

from spola import jsoncodec
from spola.errors import ExpressionError, Location
from spola.expr.scanner import BARE_START, Mode, parse_expression, scan_expression
from spola.expr.scope import MISSING

if TYPE_CHECKING:
    from spola.expr.nodes import Expression, Reference
    from spola.expr.scope import Scope

_EXPRESSION_SHAPED: Final = re.compile(r"\$[A-Za-z_][A-Za-z0-9_.\-]*(?:[#\[][^{}]*)?\}")
_SIMPLE_ROOT: Final = re.compile(r"\$(?:url|method|statusCode|self)(?![A-Za-z0-9_])")


def stringify(value: Any) -> str:
    """The text of a value embedded in a string.

    Strings as they are; ``true``/``false``/``null`` and numbers as JSON writes them; objects and
    arrays serialised as compact JSON (RFC 8259); bytes decoded as UTF-8.
    """
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list | tuple):
        return jsoncodec.dumps_text(value, default=str)
    return str(value)


class Embedded(Struct, frozen=True):
    """One expression inside a template; ``braced`` when written ``{$...}``, else bare."""

    expression: Expression
    braced: bool

    def __str__(self) -> str:
        return f"{{{self.expression}}}" if self.braced else str(self.expression)


class Template(Struct, frozen=True):
    """A parsed string value: literal text and embedded expressions, in order.

    ``whole`` is True when the entire text is one bare expression (its value keeps its type).
    """

    text: str
    parts: tuple[str | Embedded, ...]
    whole: bool = False

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts)

    @property
    def is_literal(self) -> bool:
        """True when the text holds no runtime expression."""
        return not any(isinstance(part, Embedded) for part in self.parts)

    @property
    def has_bare(self) -> bool:
        """True when an expression is written without braces (a non-standard spelling)."""
        return any(isinstance(part, Embedded) and not part.braced for part in self.parts)

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """Every runtime expression inside, in order."""
        return tuple(part.expression for part in self.parts if isinstance(part, Embedded))

    def references(self) -> frozenset[Reference]:
        """Everything the template reads."""
        return frozenset(ref for expr in self.expressions for ref in expr.references())

    def evaluate(self, scope: Scope) -> Any:
        """The value: the typed value for a whole expression, else text (or `MISSING`)."""
        if self.whole:
            first = self.parts[0]
            assert isinstance(first, Embedded)
            return first.expression.evaluate(scope)
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = part.expression.evaluate(scope)
            if value is MISSING:
                return MISSING
            out.append(stringify(value))
        return "".join(out)


def _braced(text: str, start: int) -> tuple[Embedded, int] | None:
    """The ``{$...}`` at ``start``, or None when it is plain text (``{$and: 1}``)."""
    inner = start + 1
    known = BARE_START.match(text, inner) or _SIMPLE_ROOT.match(text, inner)
    try:
        expression, end = scan_expression(text, inner, Mode.BRACED)
    except ExpressionError:
        if known or _EXPRESSION_SHAPED.match(text, inner):
            raise
        return None
    if not text.startswith("}", end):
        if not known:
            return None
        found = repr(text[end]) if end < len(text) else "the end"
        raise ExpressionError(f"expected '}}' to close `{{{expression}`, found {found}", Location(offset=end))
    return Embedded(expression, braced=True), end + 1


def _scan(text: str, *, bare: bool) -> tuple[str | Embedded, ...]:
    parts: list[str | Embedded] = []
    literal: list[str] = []
    pos = 0
    size = len(text)
    while pos < size:
        char = text[pos]
        found: tuple[Embedded, int] | None = None
        if char == "{" and text.startswith("$", pos + 1):
            found = _braced(text, pos)
        elif char == "$" and bare and BARE_START.match(text, pos):
            expression, end = scan_expression(text, pos, Mode.BARE)
            found = Embedded(expression, braced=False), end
        if found is None:
            literal.append(char)
            pos += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(found[0])
        pos = found[1]
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def parse_template(text: str) -> Template:
    """Parse a string value that may hold ``{$expr}`` parts and bare ``$inputs.x`` expressions.

    Raises:
        ExpressionError: when something that is clearly an expression does not parse.
    """
    if "$" not in text:
        return Template(text, (text,) if text else ())
    if BARE_START.match(text):
        try:
            expression = parse_expression(text)
        except ExpressionError:
            pass
        else:
            return Template(text, (Embedded(expression, braced=False),), whole=True)
    return Template(text, _scan(text, bare=True))


def parse_embedded(text: str) -> Template:
    """Parse a regex, JSONPath or XPath condition: only ``{$expr}`` parts are expressions.

    A bare ``$`` is text there (it is JSONPath's root). The result always evaluates to text.
    """
    if "{$" not in text:
        return Template(text, (text,) if text else ())
    return Template(text, _scan(text, bare=False))
