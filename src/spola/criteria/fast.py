"""Specialised evaluators for the common criterion shapes: the general path's answers in fewer steps.

`CompiledCriterion.evaluate` is called for every criterion of every exchange (a poll loop's
``$statusCode == 200`` and its ``$.state.life_cycle_state == "RUNNING"`` actions), and the
general path walks a tree through a `Semantics` object, allocates `Nodes` and verdicts, and
evaluates each runtime expression through its generic look-up. `fast_evaluator` compiles a
criterion's tree once into plain closures that call the very comparison functions the general
path calls (`loose_equal`, `loose_order`, `json_equal`, `_PAIRWISE`), in the same order:

- `simple` conditions, any tree: ``$statusCode`` is read straight from the scope;
- `jsonpath` comparison-dialect conditions whose queries are ``.name`` steps (`NamePath`, with the
  ``.length`` fallback), compared
  with literals, joined by ``!``, ``&&``, ``||``, when the context evaluates to a ``dict`` (parsed
  JSON): the names are walked as `find_values` walks them;
- anything else (regex, xpath, real JSONPath queries, ``{$expr}`` parts, a context
  that is text, null or missing) keeps the general path.

A failing verdict's reason is built the way the general path builds it. Whenever a fast
evaluator meets an exception it answers with the general path, which then produces the same
verdict it always did. tests/unit/criteria/test_criteria_fast.py holds the two paths equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from spola.criteria.dialect import _PAIRWISE, DialectCondition, QueryOperand, json_equal
from spola.criteria.jsonpath import JsonPathCheck
from spola.criteria.queries import NamePath
from spola.criteria.simple import _SHOWN_KINDS, SimpleCheck
from spola.criteria.verdict import PASS, Verdict, show
from spola.expr import MISSING, Expression
from spola.expr.compare import loose_compare, loose_equal, loose_order, loose_truthy
from spola.expr.lexer import AND
from spola.expr.logic import Compare, Literal, Logical, Node, Not, Operand

if TYPE_CHECKING:
    from collections.abc import Callable

    from spola.criteria.criterion import CompiledCriterion
    from spola.expr import Scope

    Evaluator = Callable[["CompiledCriterion", Scope], Verdict]
    Test = Callable[[Any], Any]


class _Nothing:
    __slots__ = ()


_NOTHING: Final = _Nothing()
"""What a name path selects when a step is not a ``dict`` member: RFC 9535's empty node list."""


def general(criterion: CompiledCriterion, scope: Scope) -> Verdict:
    """The general path (`CompiledCriterion.evaluate_general`)."""
    return criterion.evaluate_general(scope)


def fast_evaluator(criterion: CompiledCriterion) -> Evaluator | None:
    """A specialised evaluator for the criterion's shape, or None when only the general path fits."""
    checker = criterion.checker
    if criterion.kind == "simple" or criterion.context is None:
        if type(checker) is SimpleCheck:
            full = _simple_evaluator(checker)
            return _status_in(checker.condition.tree, full) or full
        return None
    if criterion.kind == "jsonpath" and type(checker) is JsonPathCheck:
        fixed = checker.fixed
        if fixed is not None and fixed.comparison is not None:
            full_dialect = _dialect_evaluator(criterion.context, fixed.comparison)
            if full_dialect is None:
                return None
            return _body_text_in(criterion.context, fixed.comparison.tree, full_dialect) or full_dialect
    return None


def _equalities(tree: Node) -> list[tuple[Node, Any]] | None:
    """The (operand, literal) pairs of ``a == 1`` or ``a == 1 || b == 2 || ...``, else None."""
    parts = tree.operands if type(tree) is Logical and tree.op != AND else (tree,)
    pairs: list[tuple[Node, Any]] = []
    for part in parts:
        if type(part) is not Compare or part.op != "==" or type(part.right) is not Literal:
            return None
        pairs.append((part.left, part.right.value))
    return pairs


def _status_in(tree: Node, full: Evaluator) -> Evaluator | None:
    """For ``$statusCode == 200`` (``|| $statusCode == 201 ...``): PASS at once for an int status
    equal to one of the literals (`loose_equal` of two ints is ``==``), else the full evaluator."""
    pairs = _equalities(tree)
    if not pairs:
        return None
    for operand, literal in pairs:
        if type(operand) is not Operand or type(operand.value) is not Expression:
            return None
        if not _is_status(operand.value) or type(literal) is not int:
            return None
    accepted = frozenset(literal for _, literal in pairs)

    def status_in(criterion: CompiledCriterion, scope: Scope) -> Verdict:
        found = scope.status_code
        if type(found) is int and found in accepted:
            return PASS
        return full(criterion, scope)

    return status_in


def _body_text_in(context: Expression, tree: Node, full: Evaluator) -> Evaluator | None:
    """For ``$.a.b == "X"`` (``|| $.a.b == "Y" ...``, one name path) under ``$response.body``: PASS
    at once when the path holds a string equal to one of the literals (`json_equal` of two strings
    is ``==``; one node, so the comparison is that of the node), else the full evaluator."""
    pairs = _equalities(tree)
    if not pairs or not _is_response_body(context):
        return None
    paths = set()
    for operand, literal in pairs:
        if type(operand) is not Operand or type(operand.value) is not QueryOperand:
            return None
        query = operand.value
        if type(query.query) is not NamePath or query.length_of is not None or type(literal) is not str:
            return None
        paths.add(query.query.names)
    if len(paths) != 1:
        return None
    (names,) = paths
    accepted = frozenset(literal for _, literal in pairs)
    if len(names) == 2:
        first, second = names

        def two_names_in(criterion: CompiledCriterion, scope: Scope) -> Verdict:
            response = scope.response
            if response is not None:
                node = response.body
                if type(node) is dict:
                    node = node.get(first, _NOTHING)
                    if type(node) is dict:
                        node = node.get(second, _NOTHING)
                        if type(node) is str and node in accepted:
                            return PASS
            return full(criterion, scope)

        return two_names_in

    def names_in(criterion: CompiledCriterion, scope: Scope) -> Verdict:
        response = scope.response
        if response is not None:
            node = response.body
            for name in names:
                if type(node) is not dict:
                    return full(criterion, scope)
                node = node.get(name, _NOTHING)
            if type(node) is str and node in accepted:
                return PASS
        return full(criterion, scope)

    return names_in


# --- simple conditions -------------------------------------------------------------------------


def _is_status(expression: Expression) -> bool:
    return expression.root == "statusCode" and not expression.segments


def _is_response_body(expression: Expression) -> bool:
    return expression.root == "response.body" and expression.name is None and not expression.segments


def _reader(expression: Expression) -> Callable[[Scope], Any]:
    """``expression.evaluate`` (its reader), with ``$statusCode`` read straight from the scope."""
    if _is_status(expression):

        def status(scope: Scope) -> Any:
            found = scope.status_code
            return MISSING if found is None else found

        return status
    return expression.reader


def _loose(node: Node) -> tuple[Test, bool]:
    """A closure giving what `logic.evaluate` gives for ``node`` under `simple` semantics, and
    whether that is always a bool (so `loose_truthy` of it is itself)."""
    if type(node) is Literal:
        value = node.value
        return (lambda scope: value), type(value) is bool
    if type(node) is Operand:
        assert isinstance(node.value, Expression)
        return _reader(node.value), False
    if type(node) is Not:
        inner, is_bool = _loose(node.operand)
        if is_bool:
            return (lambda scope: not inner(scope)), True
        return (lambda scope: not loose_truthy(inner(scope))), True
    if type(node) is Compare:
        return _loose_compare(node), True
    assert type(node) is Logical
    children = tuple(_truthy(_loose(child)) for child in node.operands)
    if node.op == AND:
        if len(children) == 2:
            first, second = children
            return (lambda scope: first(scope) and second(scope)), True
        return (lambda scope: all(child(scope) for child in children)), True
    if len(children) == 2:
        first, second = children
        return (lambda scope: first(scope) or second(scope)), True
    return (lambda scope: any(child(scope) for child in children)), True


def _truthy(compiled: tuple[Test, bool]) -> Test:
    test, is_bool = compiled
    if is_bool:
        return test
    return lambda scope: loose_truthy(test(scope))


def _loose_compare(node: Compare) -> Test:
    op, left, right = node.op, node.left, node.right
    if type(left) is Operand and type(right) is Literal:
        assert isinstance(left.value, Expression)
        expression, literal = left.value, right.value
        if op == "==" and type(literal) is int and _is_status(expression):

            def status_equals(scope: Scope) -> bool:
                found = scope.status_code
                if type(found) is int:  # loose_equal's own first test
                    return found == literal
                return loose_equal(MISSING if found is None else found, literal)

            return status_equals
        read = _reader(expression)
        if op == "==":
            return lambda scope: loose_equal(read(scope), literal)
        if op == "!=":
            return lambda scope: not loose_equal(read(scope), literal)
        return lambda scope: loose_order(op, read(scope), literal)
    read_left, _ = _loose(left)
    read_right, _ = _loose(right)
    return lambda scope: loose_compare(op, read_left(scope), read_right(scope))


def _simple_evaluator(checker: SimpleCheck) -> Evaluator:
    test = _truthy(_loose(checker.condition.tree))
    shown = tuple(
        (f"{expression} is ", _reader(expression))
        for expression in checker.expressions
        if expression.kind in _SHOWN_KINDS and expression.root != "response.header"
    )

    def reason(scope: Scope) -> str | None:  # SimpleCheck.check's
        seen: list[str] = []
        for prefix, read in shown:
            text = prefix + show(read(scope))
            if text not in seen:
                seen.append(text)
        return "; ".join(seen) or None

    def evaluate(criterion: CompiledCriterion, scope: Scope) -> Verdict:
        try:
            if test(scope):
                return PASS
            return Verdict(False, reason(scope))
        except Exception:  # the general path makes the verdict of an error
            return criterion.evaluate_general(scope)

    return evaluate


# --- the JSONPath comparison dialect ------------------------------------------------------------


def _walker(names: tuple[str, ...]) -> Test:
    """The value `find_values` selects for a `NamePath` of ``names``, or `_NOTHING`."""
    if len(names) == 1:
        (only,) = names

        def walk_one(node: Any) -> Any:
            return node.get(only, _NOTHING) if type(node) is dict else _NOTHING

        return walk_one
    if len(names) == 2:
        first, second = names

        def walk_two(node: Any) -> Any:
            if type(node) is not dict:
                return _NOTHING
            node = node.get(first, _NOTHING)
            return node.get(second, _NOTHING) if type(node) is dict else _NOTHING

        return walk_two

    def walk(node: Any) -> Any:
        for name in names:
            if type(node) is not dict:
                return _NOTHING
            node = node.get(name, _NOTHING)
        return node

    return walk


def _operand_walker(operand: Any) -> Test | None:
    """What `QueryOperand.values` selects, as one value or `_NOTHING`, for a query of ``.name``
    steps (its ``.length`` fallback one too), else None."""
    if type(operand) is not QueryOperand or type(operand.query) is not NamePath:
        return None
    walk = _walker(operand.query.names)
    length_of = operand.length_of
    if length_of is None:
        return walk
    if type(length_of) is not NamePath:
        return None
    walk_before = _walker(length_of.names)

    def walk_or_length(node: Any) -> Any:
        found = walk(node)
        if found is _NOTHING:
            before = walk_before(node)
            if before is not _NOTHING and isinstance(before, str | list):
                return len(before)
        return found

    return walk_or_length


def _name_walker(node: Node) -> Test | None:
    """The walker of an operand that `_operand_walker` reads, else None."""
    return _operand_walker(node.value) if type(node) is Operand else None


def _dialect(node: Node) -> Test | None:
    """A closure giving the truth of ``node`` under the dialect's semantics, or None."""
    if type(node) is Operand:
        walk = _name_walker(node)
        if walk is None:
            return None
        return lambda data: walk(data) is not _NOTHING
    if type(node) is Literal:
        constant = loose_truthy(node.value)
        return lambda data: constant
    if type(node) is Not:
        inner = _dialect(node.operand)
        if inner is None:
            return None
        return lambda data: not inner(data)
    if type(node) is Compare:
        return _dialect_compare(node)
    assert type(node) is Logical
    children = tuple(_dialect(child) for child in node.operands)
    if any(child is None for child in children):
        return None
    tests: tuple[Test, ...] = tuple(child for child in children if child is not None)
    if node.op == AND:
        if len(tests) == 2:
            first, second = tests
            return lambda data: first(data) and second(data)
        return lambda data: all(test(data) for test in tests)
    if len(tests) == 2:
        first, second = tests
        return lambda data: first(data) or second(data)
    return lambda data: any(test(data) for test in tests)


def _dialect_compare(node: Compare) -> Test | None:
    """`dialect_compare` of a name path and a literal (either side), with one node or none."""
    op = node.op
    walk = _name_walker(node.left)
    if walk is not None and type(node.right) is Literal:
        literal, swapped = node.right.value, False
    else:
        walk = _name_walker(node.right)
        if walk is None or type(node.left) is not Literal:
            return None
        literal, swapped = node.left.value, True
    if op == "==" and not swapped and type(literal) is str:

        def equals_text(data: Any) -> bool:
            found = walk(data)
            if found is _NOTHING:
                return False
            if type(found) is str:  # json_equal's own first test
                return found == literal
            return json_equal(found, literal)

        return equals_text
    # Nothing against a value: only `!=` holds (dialect_compare's table, with one side not Nothing)
    on_nothing = op == "!="
    pairwise: Callable[[Any, Any], bool]
    pairwise = (lambda a, b: not json_equal(a, b)) if op == "!=" else _PAIRWISE[op]
    if swapped:

        def compare_swapped(data: Any) -> bool:
            found = walk(data)
            return on_nothing if found is _NOTHING else pairwise(literal, found)

        return compare_swapped

    def compare(data: Any) -> bool:
        found = walk(data)
        return on_nothing if found is _NOTHING else pairwise(found, literal)

    return compare


def _dialect_evaluator(context: Expression, comparison: DialectCondition) -> Evaluator | None:
    test = _dialect(comparison.tree)
    if test is None:
        return None
    # every query is a name path (else `_dialect` gave None): `_describe` of each, with its walker
    described = tuple((str(query), _operand_walker(query) or _walker(())) for query in comparison.queries)

    def reason(data: Any) -> str | None:  # DialectCondition.test's
        seen: list[str] = []
        for query, walk in described:
            found = walk(data)
            text = f"{query} selected nothing" if found is _NOTHING else f"{query} is {show(found)}"
            if text not in seen:
                seen.append(text)
        return "; ".join(seen) or None

    def verdict(data: Any) -> Verdict:
        return PASS if test(data) else Verdict(False, reason(data))

    if _is_response_body(context):

        def response_body(criterion: CompiledCriterion, scope: Scope) -> Verdict:
            response = scope.response
            if response is not None:
                data = response.body
                if type(data) is dict:  # parsed JSON: json_value leaves it as it is
                    try:
                        return verdict(data)
                    except Exception:  # the general path makes the verdict of an error
                        return criterion.evaluate_general(scope)
            return criterion.evaluate_general(scope)

        return response_body

    read = context.reader

    def any_context(criterion: CompiledCriterion, scope: Scope) -> Verdict:
        try:
            data = read(scope)
            if type(data) is dict:
                return verdict(data)
        except Exception:  # the general path makes the verdict of an error
            return criterion.evaluate_general(scope)
        return criterion.evaluate_general(scope)

    return any_context
