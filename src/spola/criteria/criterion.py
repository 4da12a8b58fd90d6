"""Criterion Objects compiled once, evaluated often: `compile_criterion` → `CompiledCriterion`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import force_setattr

from spola.criteria.fast import fast_evaluator, general
from spola.criteria.jsonpath import compile_jsonpath
from spola.criteria.regex import compile_regex
from spola.criteria.simple import compile_simple
from spola.criteria.types import CRITERION_TYPES, expression_type
from spola.criteria.verdict import Checker, Verdict, show
from spola.errors import ExpressionError, Location, SpolaError
from spola.expr import MISSING, parse_expression
from spola.structs import ComparedOn, repr_without

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from spola.expr import Expression, Reference, Scope


def _unbound(criterion: CompiledCriterion, scope: Scope) -> Verdict:  # pragma: no cover - replaced
    raise AssertionError("CompiledCriterion._evaluate is set by __post_init__")


class CompiledCriterion(ComparedOn, Struct, frozen=True, eq=False):
    """A Criterion Object ready to evaluate.

    ``kind`` is ``simple``, ``regex``, ``jsonpath`` or ``xpath``; ``version`` the JSONPath / XPath
    version in force; ``dialect`` (jsonpath only) ``rfc9535``, ``goessner`` or
    ``comparison-dialect`` (None when ``{$expr}`` parts make it undecidable before evaluation).
    """

    kind: str
    condition: str
    context: Expression | None
    version: str | None
    dialect: str | None
    checker: Checker
    _evaluate: Callable[[CompiledCriterion, Scope], Verdict] = _unbound  # set by __post_init__, never passed

    # equality and hash leave the chosen evaluator out (a dataclass's compare=False)
    _COMPARED = ("kind", "condition", "context", "version", "dialect", "checker")

    def __post_init__(self) -> None:
        # chosen once: a specialised evaluator for the criterion's shape (spola.criteria.fast), else
        # the general path
        force_setattr(self, "_evaluate", fast_evaluator(self) or general)

    def __repr__(self) -> str:
        return repr_without(self, frozenset({"_evaluate"}))

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """Every runtime expression inside: the context first, then the condition's."""
        head = (self.context,) if self.context is not None else ()
        return head + tuple(self.checker.expressions)

    def references(self) -> frozenset[Reference]:
        """Everything the criterion reads."""
        return frozenset(ref for expr in self.expressions for ref in expr.references())

    def evaluate(self, scope: Scope) -> Verdict:
        """Pass or fail, with a reason when it fails; never raises.

        A context that is null or missing, a context of the wrong kind (not JSON, not XML), an
        embedded expression that is missing or any other evaluation problem makes it fail.
        The verdict is `evaluate_general`'s, through a specialised evaluator for common shapes.
        """
        return self._evaluate(self, scope)

    def evaluate_general(self, scope: Scope) -> Verdict:
        """`evaluate` without the specialised evaluators: the reference they answer like."""
        try:
            if self.kind == "simple" or self.context is None:
                return self.checker.check(None, scope)
            value = self.context.evaluate(scope)
            if value is MISSING or value is None:
                return Verdict(False, f"the context `{self.context}` is {show(value)}")
            return self.checker.check(value, scope)
        except SpolaError as exc:
            return Verdict(False, exc.message)
        except Exception as exc:  # a library failing on unexpected data must not stop the run
            return Verdict(False, f"evaluation failed: {type(exc).__name__}: {exc}")


def compile_criterion(
    condition: str,
    *,
    type: str | Mapping[str, Any] | None = None,
    version: str | None = None,
    context: str | None = None,
) -> CompiledCriterion:
    """Parse a Criterion Object's condition (and context) up front.

    ``type`` is ``simple`` (the default), ``regex``, ``jsonpath``, ``xpath`` or an Expression Type
    Object (``{"type": "jsonpath", "version": "..."}``).

    Raises:
        ExpressionError: for a condition, context or regex that does not parse, an unknown type or
            version, or a regex / jsonpath / xpath criterion without a context.
    """
    if not isinstance(condition, str):
        raise ExpressionError(f"a condition must be a string, got {show(condition)}")
    kind, version = expression_type(type, version, allowed=CRITERION_TYPES, default="simple")
    parsed_context = None
    if context is not None:
        if not isinstance(context, str):
            raise ExpressionError(f"a context must be a runtime expression, got {show(context)}")
        parsed_context = parse_expression(context)
    elif kind != "simple":
        raise ExpressionError(
            f"{'an' if kind == 'xpath' else 'a'} {kind} criterion needs a context, "
            "such as `context: $response.body`",
            Location(offset=0),
        )
    checker: Checker
    dialect = None
    if kind == "simple":
        checker = compile_simple(condition)
    elif kind == "regex":
        checker = compile_regex(condition)
    elif kind == "jsonpath":
        assert version is not None
        jsonpath = compile_jsonpath(condition, version)
        checker, dialect = jsonpath, jsonpath.dialect
    else:
        assert version is not None
        from spola.criteria.xpath import compile_xpath_check  # elementpath and lxml: only for XPath

        checker = compile_xpath_check(condition, version)
    return CompiledCriterion(kind, condition, parsed_context, version, dialect, checker)
