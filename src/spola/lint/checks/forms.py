"""Forms spola runs correctly that the specification does not define: bare expressions in strings and
the ``$.a == "X"`` JSONPath comparison dialect. Warnings, so that documents stay portable."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from spola.criteria import COMPARISON_DIALECT, RFC9535, classify, parse_dialect
from spola.errors import ExpressionError
from spola.expr import Embedded, parse_template
from spola.model.walk import criteria_of, sites_of, strings_in

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext

_SHOWN: Final = 100
_LENGTH: Final = re.compile(r"(\$[^\s=!<>&|()]*?)\.length(?![A-Za-z0-9_])")


def _braced(text: str) -> str | None:
    """The text with every bare expression braced, or None when it has none (or a whole one)."""
    try:
        template = parse_template(text)
    except ExpressionError:
        return None
    if template.whole or not template.has_bare:
        return None
    return "".join(
        f"{{{part.expression}}}" if isinstance(part, Embedded) and not part.braced else str(part)
        for part in template.parts
    )


def bare_expressions(ctx: LintContext) -> Iterator[Finding]:
    """``bare-expression``: ``Bearer $inputs.token`` instead of ``Bearer {$inputs.token}``."""
    seen: set[str] = set()
    for workflow in ctx.document.workflows:
        for site in sites_of(workflow):
            for pointer, text in strings_in(site.raw, site.pointer):
                if "$" not in text or pointer in seen:
                    continue
                fixed = _braced(text)
                if fixed is None:
                    continue
                seen.add(pointer)
                shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
                suggestion = fixed if len(fixed) <= _SHOWN else "{$…} around each expression"
                yield ctx.finding(
                    "bare-expression",
                    pointer,
                    f"`{shown}` embeds a runtime expression without braces; spola reads it, "
                    "but the specification only defines {$expr} inside strings",
                    hint=f"write `{suggestion}`",
                )


def rfc9535_form(condition: str) -> str | None:
    """The RFC 9535 filter equivalent to a comparison-dialect condition, when spola can write one."""
    try:
        parse_dialect(condition)
    except ExpressionError:
        return None
    candidate = "$[?" + _LENGTH.sub(r"length(\1)", condition.strip()) + "]"
    try:
        checked = classify(candidate)
    except ExpressionError:
        return None
    return candidate if checked.dialect == RFC9535 else None


def jsonpath_dialect(ctx: LintContext) -> Iterator[Finding]:
    """``jsonpath-dialect``: a jsonpath criterion that is not an RFC 9535 query."""
    seen: set[str] = set()
    for workflow in ctx.document.workflows:
        for criterion in criteria_of(workflow):
            if criterion.compiled.dialect != COMPARISON_DIALECT or criterion.pointer in seen:
                continue
            seen.add(criterion.pointer)
            rewrite = rfc9535_form(criterion.condition)
            hint = (
                f"write `{rewrite}` (an RFC 9535 filter on the root), or a simple condition on "
                "$response.body#/…"
                if rewrite
                else "write an RFC 9535 query such as `$[?$.a == 'X']`, or a simple condition on "
                "$response.body#/…"
            )
            yield ctx.finding(
                "jsonpath-dialect",
                criterion.pointer + "/condition",
                f"jsonpath condition `{criterion.condition}` compares outside a filter, which RFC 9535 "
                "does not allow; spola evaluates it as a comparison, other tools may reject it",
                hint=hint,
            )
