"""`regex` criteria: a pattern searched for in the context, turned into text.

Patterns run on RE2 (``google-re2``), whose matching time is linear in the input, so a response
cannot stall the engine with a pathological pattern. RE2 has no backreferences or look-around;
such patterns are refused when compiled. Without ``google-re2`` the standard ``re`` is used.
Matching uses search semantics: anchors in the pattern decide what must match where.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import warnings
from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct, field

from spola.criteria.verdict import PASS, Verdict, show
from spola.errors import ExpressionError, Location
from spola.expr import MISSING, parse_embedded, stringify
from spola.structs import ComparedOn

if TYPE_CHECKING:
    from spola.expr import Expression, Scope, Template

# google-re2 is imported by the first regex criterion, not with this module (start-up).
LINEAR_TIME: Final = importlib.util.find_spec("re2") is not None


@functools.cache
def _re2() -> tuple[Any, Any] | None:
    """The ``re2`` module and its compile options, or None without google-re2 (warned once)."""
    try:
        import re2
    except ImportError:  # pragma: no cover - google-re2 is a dependency
        logging.getLogger(__name__).warning(
            "google-re2 is not installed: regex criteria use `re` (not linear-time)"
        )
        return None
    options = re2.Options()
    options.log_errors = False
    return re2, options


_CACHE_SIZE: Final = 64


def _offset(pattern: str, message: str) -> int:
    """Where RE2's complaint points: Python's own error position, else the quoted fragment."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re.error as exc:
        if exc.pos is not None:
            return exc.pos
    fragment = message.split(": ", 1)[-1]
    found = pattern.find(fragment) if fragment else -1
    return max(found, 0)


def compile_pattern(pattern: str) -> Any:
    """Compile a pattern with RE2 (or `re` without it).

    Raises:
        ExpressionError: when the pattern is invalid or uses what RE2 lacks.
    """
    found = _re2()
    if found is not None:
        re2, options = found
        try:
            return re2.compile(pattern, options)
        except re2.error as exc:
            message = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ExpressionError(
                f"invalid regular expression: {message} (RE2 syntax: no backreferences or look-around)",
                Location(offset=_offset(pattern, message)),
            ) from exc
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ExpressionError(f"invalid regular expression: {exc.msg}", Location(offset=exc.pos)) from exc


class RegexCheck(ComparedOn, Struct, frozen=True, eq=False):
    """Searches the context's text for a pattern; ``{$expr}`` parts are filled in first."""

    template: Template
    compiled: Any = None
    cache: dict[str, Any] = field(default_factory=dict)

    # equality and hash leave the cache out (a dataclass's compare=False)
    _COMPARED = ("template", "compiled")

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """The runtime expressions embedded in the pattern."""
        return self.template.expressions

    def _pattern(self, scope: Scope) -> Any:
        if self.compiled is not None:
            return self.compiled
        text = self.template.evaluate(scope)
        if text is MISSING:
            raise ExpressionError(f"an expression embedded in the pattern `{self.template.text}` is missing")
        pattern = self.cache.get(text)
        if pattern is None:
            pattern = compile_pattern(text)
            if len(self.cache) >= _CACHE_SIZE:
                self.cache.clear()
            self.cache[text] = pattern
        return pattern

    def check(self, context: Any, scope: Scope) -> Verdict:
        """Whether the pattern is found in the context's text."""
        pattern = self._pattern(scope)
        text = stringify(context)
        if pattern.search(text) is not None:
            return PASS
        return Verdict(False, f"{show(text)} does not match /{pattern.pattern}/")


def compile_regex(condition: str) -> RegexCheck:
    """Prepare a regex criterion; a pattern without ``{$expr}`` parts is compiled now.

    Raises:
        ExpressionError: for an invalid pattern or embedded expression.
    """
    template = parse_embedded(condition)
    if template.is_literal:
        return RegexCheck(template, compile_pattern(condition))
    return RegexCheck(template)
