"""`jsonpath` criteria: an RFC 9535 query (passes when it selects a node), or the comparison dialect.

A condition that is a valid query for its version (``rfc9535``, the default, or
``draft-goessner-dispatch-jsonpath-00``) is evaluated as that query: a non-empty node list
passes. Anything else is read as the comparison dialect of `spola.criteria.dialect`
(``$.state == "RUNNING"``). ``{$expr}`` parts are filled in first; such conditions are classified
again for each distinct text they produce (with a small cache).
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct, field

from spola.criteria.dialect import DialectCondition, parse_dialect
from spola.criteria.queries import NAME_PATH, any_match, compile_query, json_value
from spola.criteria.types import JSONPATH_GOESSNER, JSONPATH_RFC
from spola.criteria.verdict import PASS, Verdict
from spola.errors import ExpressionError
from spola.expr import MISSING, parse_embedded
from spola.structs import ComparedOn

if TYPE_CHECKING:
    from spola.criteria.queries import Query
    from spola.expr import Expression, Scope, Template

RFC9535: Final = "rfc9535"
GOESSNER: Final = "goessner"
COMPARISON_DIALECT: Final = "comparison-dialect"
_CACHE_SIZE: Final = 64
_EMBEDDED: Final = re.compile(r"\{\$[^{}]*\}")
_LITERAL: Final = r"\"[^\"\\]*\"|'[^'\\]*'|-?[0-9]+(?:\.[0-9]+)?|true|false|null"
_COMPARISON: Final = rf"{NAME_PATH}[ ]*(?:==|!=|<=|>=|<|>)[ ]*(?:{_LITERAL})"
# `$.state.life_cycle_state == "RUNNING" || ...`: the dialect's everyday form, which no version
# reads as a query (a comparison cannot follow one; tests/unit/criteria/test_name_paths.py).
_EVERYDAY: Final = re.compile(rf"[ ]*{_COMPARISON}(?:[ ]*(?:&&|\|\|)[ ]*{_COMPARISON})*[ ]*")


class JsonPathCondition(Struct, frozen=True):
    """One concrete condition text, classified: a query, or a dialect condition."""

    text: str
    dialect: str
    query: Query | None = None
    comparison: DialectCondition | None = None

    def test(self, data: Any) -> Verdict:
        """Evaluate against a JSON value."""
        if self.comparison is not None:
            return self.comparison.test(data)
        assert self.query is not None
        if any_match(self.query, data):
            return PASS
        return Verdict(False, f"`{self.text}` selected nothing")


@lru_cache(maxsize=512)
def classify(text: str, version: str = JSONPATH_RFC) -> JsonPathCondition:
    """Compile a condition text: as a query of ``version`` when it is one, else as the dialect.

    Results are immutable and cached: documents repeat their poll conditions.

    Raises:
        ExpressionError: when it is neither: the error of the reading that got further.
    """
    if _EVERYDAY.fullmatch(text):
        # not a query: read it as the dialect straight away (and python-jsonpath stays unimported)
        with contextlib.suppress(ExpressionError):
            return JsonPathCondition(text, COMPARISON_DIALECT, comparison=parse_dialect(text, version))
    return classify_in_full(text, version)


def classify_in_full(text: str, version: str = JSONPATH_RFC) -> JsonPathCondition:
    """`classify` without its shortcut for the everyday dialect form: first as a query, then as the dialect.

    Raises:
        ExpressionError: when it is neither: the error of the reading that got further.
    """
    try:
        query = compile_query(text, version)
    except ExpressionError as query_error:
        try:
            comparison = parse_dialect(text, version)
        except ExpressionError as dialect_error:
            further = (dialect_error.location.offset or 0) > (query_error.location.offset or 0)
            raise dialect_error if further else query_error from None
        return JsonPathCondition(text, COMPARISON_DIALECT, comparison=comparison)
    return JsonPathCondition(text, GOESSNER if version == JSONPATH_GOESSNER else RFC9535, query=query)


def _guess_dialect(template: Template, version: str) -> str | None:
    """The classification of a condition with ``{$expr}`` parts, trying a placeholder for each."""
    for placeholder in ("0", "x"):
        try:
            return classify(_EMBEDDED.sub(placeholder, template.text), version).dialect
        except ExpressionError:
            continue
    return None


class JsonPathCheck(ComparedOn, Struct, frozen=True, eq=False):
    """Evaluates a jsonpath condition against a JSON context."""

    template: Template
    version: str
    fixed: JsonPathCondition | None = None
    dialect: str | None = None
    cache: dict[str, JsonPathCondition] = field(default_factory=dict)

    # equality and hash leave the cache out (a dataclass's compare=False)
    _COMPARED = ("template", "version", "fixed", "dialect")

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """The runtime expressions embedded in the condition."""
        return self.template.expressions

    def _condition(self, scope: Scope) -> JsonPathCondition:
        if self.fixed is not None:
            return self.fixed
        text = self.template.evaluate(scope)
        if text is MISSING:
            raise ExpressionError(f"an expression embedded in `{self.template.text}` is missing")
        condition = self.cache.get(text)
        if condition is None:
            condition = classify(text, self.version)
            if len(self.cache) >= _CACHE_SIZE:
                self.cache.clear()
            self.cache[text] = condition
        return condition

    def check(self, context: Any, scope: Scope) -> Verdict:
        """The verdict for a context value (JSON text is parsed first)."""
        try:
            data = json_value(context)
        except ValueError:
            return Verdict(False, "the context is not JSON")
        return self._condition(scope).test(data)


def compile_jsonpath(condition: str, version: str = JSONPATH_RFC) -> JsonPathCheck:
    """Prepare a jsonpath criterion; a condition without ``{$expr}`` parts is classified now.

    Raises:
        ExpressionError: for a condition that is neither a query nor the dialect.
    """
    template = parse_embedded(condition)
    if template.is_literal:
        fixed = classify(condition, version)
        return JsonPathCheck(template, version, fixed, fixed.dialect)
    return JsonPathCheck(template, version, dialect=_guess_dialect(template, version))
