"""The specialised evaluators (spola.criteria.fast) give the general path's verdicts, reason included.

Every criterion of the shared corpus, the specification's examples and the seeds, and a list of
tricky hand-made ones, is evaluated against many synthetic scopes: the values its operands read
planted with every leaf value below (loose look-alikes: ``200`` / ``"200"`` / ``200.0`` / ``true``;
null; lists; objects; unicode), the paths missing or running through a list or a string, bodies
that are JSON text, null or absent, statuses 200 / 404 / None and odd ones. ``evaluate`` (fast
where the shape allows) must equal ``evaluate_general`` each time.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from msgspec.structs import replace

from spola.criteria import CompiledCriterion, Verdict, compile_criterion
from spola.criteria.fast import general
from spola.criteria.verdict import PASS, show, show_json
from spola.errors import SpolaError
from spola.expr import MISSING, Expression, Headers, ResponseView, Scope
from spola.expr.logic import Compare, Literal, Logical, Node, Not
from tests.unit.expr.scopes import full_scope, nest, segment_keys

SHARED = Path(__file__).parents[3] / "../shared"
DOCUMENTS = sorted(
    path
    for folder in ("corpus", "spec/examples", "seeds/arazzo")
    for path in (SHARED / folder).rglob("*")
    if path.suffix in (".yml", ".yaml")
)
BENCH = Path(__file__).parents[3] / "bench" / "workflows" / "spola.arazzo.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LEAVES: tuple[Any, ...] = (
    "RUNNING",
    "running",
    " RUNNING ",
    "PENDING",
    "TERMINATED",
    "SUCCESS",
    "done",
    "",
    "true",
    "False",
    "null",
    "é ☃ \u2028 \"quoted\" 'single'",
    "x" * 80,
    200,
    201,
    404,
    "200",
    " 200 ",
    200.0,
    199.5,
    0,
    1,
    -1,
    "1",
    "1e3",
    10**20,
    True,
    False,
    None,
    float("nan"),
    float("inf"),
    [],
    ["RUNNING"],
    ["RUNNING", "PENDING"],
    [200],
    {},
    {"life_cycle_state": "RUNNING"},
    {"a": [1, {"b": None}]},
)

TRICKY: tuple[tuple[str, str | None, str | None], ...] = (
    # (condition, type, context)
    ("$statusCode == 200", None, None),
    ("$statusCode == '200'", None, None),
    ('$statusCode == "200"', None, None),
    ("$statusCode == 200.0", None, None),
    ("$statusCode == true", None, None),
    ("$statusCode != 200", None, None),
    ("$statusCode < 300", None, None),
    ("$statusCode >= 200 && $statusCode < 300", None, None),
    ("$statusCode == 200 || $statusCode == 201 || $statusCode == 202", None, None),
    ("$statusCode == 200 || $statusCode == '201'", None, None),
    ("$statusCode == 200 || $response.body#/code == 200", None, None),
    ("!($statusCode == 404)", None, None),
    ("!$statusCode", None, None),
    ("$statusCode", None, None),
    ("200 == $statusCode", None, None),
    ("$statusCode == null", None, None),
    ("$statusCode == $response.body#/code", None, None),
    ("($statusCode == 200) == true", None, None),
    ("$response.body#/state/life_cycle_state == 'RUNNING'", None, None),
    ("$response.body#/state/life_cycle_state == 'running'", None, None),
    ("$response.body#/state/life_cycle_state != null", None, None),
    ("$response.body#/state/life_cycle_state == null", None, None),
    ("$response.body#/state/life_cycle_state > 100", None, None),
    ("$response.body#/state/life_cycle_state <= '200'", None, None),
    ("$response.body#/state/life_cycle_state == 1", None, None),
    ("$response.body#/state/life_cycle_state == true", None, None),
    ("$response.body#/state/life_cycle_state == 'é ☃'", None, None),
    ("$response.body.state.life_cycle_state == 'RUNNING'", None, None),
    ("$response.body#/items/0 == 'RUNNING'", None, None),
    ("$response.body#/state/life_cycle_state", None, None),
    ("$response.body#/state/life_cycle_state == 'RUNNING' && $statusCode == 200", None, None),
    ("$response.header.Content-Type == 'application/json' && $statusCode == 200", None, None),
    ("$inputs.flag == true", None, None),
    ("$inputs.flag", None, None),
    ("$steps.poll.outputs.status == 'done' || !$inputs.flag", None, None),
    ("$message.header.x == 1", None, None),
    ("$statusCode == 200", "simple", "$response.body"),
    ('$.state.life_cycle_state == "RUNNING"', "jsonpath", "$response.body"),
    ("$.state.life_cycle_state == 'RUNNING'", "jsonpath", "$response.body"),
    ('$.state.life_cycle_state != "RUNNING"', "jsonpath", "$response.body"),
    ('"RUNNING" == $.state.life_cycle_state', "jsonpath", "$response.body"),
    ('"RUNNING" != $.state.life_cycle_state', "jsonpath", "$response.body"),
    ("$.state.life_cycle_state == 200", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state == 200.0", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state == true", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state == null", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state != null", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state > 100", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state >= 200", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state <= 'S'", "jsonpath", "$response.body"),
    ("100 < $.state.life_cycle_state", "jsonpath", "$response.body"),
    ("200 >= $.state.life_cycle_state", "jsonpath", "$response.body"),
    ('$.state.life_cycle_state == "é ☃ \\u2028"', "jsonpath", "$response.body"),
    (
        '$.state.life_cycle_state == "RUNNING" || $.state.life_cycle_state == "PENDING"',
        "jsonpath",
        "$response.body",
    ),
    (
        '$.state.life_cycle_state == "RUNNING" && $.state.result_state != "FAILED"',
        "jsonpath",
        "$response.body",
    ),
    (
        '$.state.life_cycle_state == "RUNNING" || $.state.result_state == "SUCCESS"',
        "jsonpath",
        "$response.body",
    ),
    (
        '$.state.life_cycle_state == "RUNNING" || $.state.life_cycle_state == 200',
        "jsonpath",
        "$response.body",
    ),
    (
        '$.state.life_cycle_state == "RUNNING" || $.state.life_cycle_state != "PENDING"',
        "jsonpath",
        "$response.body",
    ),
    ('$.a == "RUNNING" || $.a == "PENDING"', "jsonpath", "$response.body"),
    ('$.a.b.c == "RUNNING" || $.a.b.c == "PENDING"', "jsonpath", "$response.body"),
    ('!($.state.life_cycle_state == "RUNNING")', "jsonpath", "$response.body"),
    ("$.state.life_cycle_state", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state && $.state.result_state", "jsonpath", "$response.body"),
    ("!$.state.life_cycle_state", "jsonpath", "$response.body"),
    ("$.state == 1 || $.state.life_cycle_state == 1 || $.a.b.c.d == 1", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state.length > 3", "jsonpath", "$response.body"),
    ("$.state.life_cycle_state == $.state.result_state", "jsonpath", "$response.body"),
    ('$.items[0] == "RUNNING"', "jsonpath", "$response.body"),
    ('$.items[*] == "RUNNING"', "jsonpath", "$response.body"),
    ('$.state["life_cycle_state"] == "RUNNING"', "jsonpath", "$response.body"),
    ("$.state.life_cycle_state", "jsonpath", "$response.body#/nested"),
    ('$.life_cycle_state == "RUNNING"', "jsonpath", "$response.body#/state"),
    ('$.life_cycle_state == "RUNNING"', "jsonpath", "$steps.poll.outputs.state"),
    ('$.state.life_cycle_state == "{$inputs.want}"', "jsonpath", "$response.body"),
    ("$.state", "jsonpath", "$response.body"),
    ("$..life_cycle_state", "jsonpath", "$response.body"),
    ("RUNNING", "regex", "$response.body#/state/life_cycle_state"),
)


@cache
def _load(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return None


def _criteria(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("successCriteria", "criteria") and isinstance(value, list):
                yield from (item for item in value if isinstance(item, dict))
            yield from _criteria(value)
    elif isinstance(node, list):
        for item in node:
            yield from _criteria(item)


def _compile(condition: Any, type_: Any, context: Any) -> CompiledCriterion | None:
    try:
        return compile_criterion(condition, type=type_, context=context)
    except SpolaError:
        return None


@cache
def _every_criterion() -> tuple[CompiledCriterion, ...]:
    found: dict[tuple[str, str, str | None], CompiledCriterion] = {}
    raws = [
        (r.get("condition"), r.get("type"), r.get("context")) for p in DOCUMENTS for r in _criteria(_load(p))
    ]
    for condition, type_, context in [*raws, *TRICKY]:
        compiled = _compile(condition, type_, context)
        if compiled is not None:
            found.setdefault((compiled.kind, compiled.condition, str(compiled.context)), compiled)
    return tuple(found.values())


# --- the scopes -----------------------------------------------------------------------------------


def _literals(node: Node) -> Iterator[Any]:
    if isinstance(node, Literal):
        yield node.value
    elif isinstance(node, Not):
        yield from _literals(node.operand)
    elif isinstance(node, Compare):
        yield from _literals(node.left)
        yield from _literals(node.right)
    elif isinstance(node, Logical):
        for child in node.operands:
            yield from _literals(child)


def _tree(criterion: CompiledCriterion) -> Node | None:
    checker: Any = criterion.checker
    if hasattr(checker, "condition"):
        return checker.condition.tree  # type: ignore[no-any-return]
    fixed = getattr(checker, "fixed", None)
    if fixed is not None and fixed.comparison is not None:
        return fixed.comparison.tree  # type: ignore[no-any-return]
    return None


def _plant(scope: Scope, expression: Expression, leaf: Any) -> Scope:
    """A copy of ``scope`` where ``expression`` reads ``leaf``."""
    keys = segment_keys(expression)
    value = nest(keys, leaf)
    root, name = expression.root, expression.name
    if root == "statusCode":
        return replace(scope, status_code=leaf)
    if root == "inputs" and name is not None:
        return replace(scope, inputs={**scope.inputs, name: value})
    if root == "outputs" and name is not None:
        return replace(scope, outputs={**scope.outputs, name: value})
    if root == "steps" and expression.id is not None and name is not None:
        steps = {**scope.steps, expression.id: {**scope.steps.get(expression.id, {}), name: value}}
        return replace(scope, steps=steps)
    response = scope.response or ResponseView()
    if root == "response.body":
        body = nest(name.split("."), value) if name is not None else value
        return replace(scope, response=replace(response, body=body))
    if root == "response.header" and name is not None:
        return replace(scope, response=ResponseView(headers=Headers({name: str(leaf)}), body=response.body))
    return scope


def _queries(criterion: CompiledCriterion) -> list[list[str]]:
    fixed = getattr(criterion.checker, "fixed", None)
    if fixed is None or fixed.comparison is None:
        return []
    out = []
    for query in fixed.comparison.queries:
        text = query.text.removeprefix("$")
        out.append([part for part in text.replace("[", ".").replace("]", "").split(".") if part])
    return out


def _bodies(criterion: CompiledCriterion, leaves: tuple[Any, ...]) -> Iterator[Any]:
    """Bodies for a jsonpath criterion: each query's path with each leaf, and broken paths."""
    context = criterion.context
    below = segment_keys(context) if context is not None else []
    for keys in _queries(criterion):
        for leaf in leaves:
            yield nest(below + keys, leaf)
        for cut in range(len(keys)):
            for stump in ([], "text", 5, None, [nest(keys[cut + 1 :], "RUNNING")]):
                yield nest(below + keys[:cut], stump)
        together = nest(below, {keys[0]: dict.fromkeys(keys[1:], "RUNNING")}) if keys else {}
        yield together
        yield json.dumps(nest(below + keys, "RUNNING"))
        yield json.dumps(nest(below + keys, "RUNNING")).encode()
        yield "not json"
    if len(_queries(criterion)) > 1:  # every query planted at once, with the literals
        for leaf in leaves:
            body: dict[str, Any] = {}
            for keys in _queries(criterion):
                node = body
                for key in keys[:-1]:
                    node = node.setdefault(key, {}) if isinstance(node, dict) else {}
                if isinstance(node, dict) and keys:
                    node[keys[-1]] = copy.deepcopy(leaf)  # a later path may run through it
            yield nest(below, body)
    yield from ({}, [], None, "", 0, True)


def _scopes(criterion: CompiledCriterion) -> Iterator[Scope]:
    base = full_scope()
    tree = _tree(criterion)
    leaves = LEAVES + (tuple(_literals(tree)) if tree is not None else ())
    bare = Scope(status_code=200, response=ResponseView(body={}))
    statuses = (200, 404, None, 201, 500, "200", True, 200.0)
    for status in statuses:
        yield replace(base, status_code=status)
        yield replace(bare, status_code=status)
    yield Scope()
    yield replace(base, response=None)
    yield replace(base, response=ResponseView())
    if criterion.kind == "jsonpath":
        for body in _bodies(criterion, leaves):
            for status in (200, 404):
                yield Scope(status_code=status, response=ResponseView(body=body), inputs={"want": "RUNNING"})
                yield replace(base, status_code=status, response=ResponseView(body=body))
        return
    expressions = [e for e in criterion.expressions if e.root != "message"]
    for expression in expressions:
        for leaf in leaves:
            for start in (base, bare):
                scope = _plant(start, expression, leaf)
                yield scope
                for other in expressions:  # a second operand with the same leaf, or a status
                    if other is not expression:
                        yield _plant(scope, other, leaf)
                        yield _plant(scope, other, "RUNNING")
        stumps: tuple[Any, ...] = ("text", [], None, b'{"state": {"life_cycle_state": "RUNNING"}}')
        for stump in stumps:
            yield replace(bare, response=ResponseView(body=stump))
    for status in (200, 404, None):
        yield _plant(replace(bare, status_code=status), expressions[0], "RUNNING") if expressions else bare


def _mismatches(criterion: CompiledCriterion) -> Iterator[str]:
    for scope in _scopes(criterion):
        fast, reference = criterion.evaluate(scope), criterion.evaluate_general(scope)
        if type(fast) is not Verdict or (fast.passed, fast.reason) != (reference.passed, reference.reason):
            yield f"{criterion.kind} `{criterion.condition}` @ {criterion.context}: {fast!r} != {reference!r}"


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.skipif(not DOCUMENTS, reason="the shared corpus is not next to the repository")
def test_the_fast_path_answers_like_the_general_path_for_every_criterion() -> None:
    criteria = _every_criterion()
    assert len(criteria) > 120
    bad: list[str] = []
    outcomes: set[tuple[bool, bool]] = set()
    for criterion in criteria:
        bad.extend(_mismatches(criterion))
        if criterion._evaluate is not general:
            outcomes.update((True, criterion.evaluate(scope).passed) for scope in _scopes(criterion))
    assert not bad, f"{len(bad)} mismatches, the first: " + "\n".join(bad[:5])
    assert outcomes == {(True, True), (True, False)}  # the fast evaluators both passed and failed


@pytest.mark.skipif(not DOCUMENTS, reason="the shared corpus is not next to the repository")
def test_most_criteria_of_the_corpus_take_a_fast_path() -> None:
    criteria = _every_criterion()
    fast = [c for c in criteria if c._evaluate is not general]
    assert len(fast) >= 0.85 * len(criteria)
    assert {c.kind for c in fast} == {"simple", "jsonpath"}


def test_the_tricky_criteria_answer_like_the_general_path() -> None:
    bad: list[str] = []
    for condition, type_, context in TRICKY:
        criterion = _compile(condition, type_, context)
        assert criterion is not None, condition
        bad.extend(_mismatches(criterion))
    assert not bad, f"{len(bad)} mismatches, the first: " + "\n".join(bad[:5])


def test_the_benchmark_criteria_take_the_fast_path_and_share_the_pass_verdict() -> None:
    from spola.model import load

    document = load(BENCH)
    criteria = [
        criterion.compiled
        for step in document.default_workflow().steps
        for criterion in [*step.success_criteria, *(c for a in step.on_success for c in a.criteria)]
    ]
    assert len(criteria) == 6
    assert all(c._evaluate is not general for c in criteria)
    scope = Scope(status_code=200, response=ResponseView(body={"state": {"life_cycle_state": "RUNNING"}}))
    assert criteria[0].evaluate(scope) is PASS
    running = criteria[2]
    assert running.evaluate(scope) is PASS
    pending = Scope(status_code=200, response=ResponseView(body={"state": {"life_cycle_state": "PENDING"}}))
    assert running.evaluate(pending) == Verdict(False, '$.state.life_cycle_state is "PENDING"')
    assert criteria[0].evaluate(replace(scope, status_code=404)) == Verdict(False, "$statusCode is 404")


def test_errors_inside_a_fast_path_give_the_general_verdict() -> None:
    criterion = compile_criterion("$message.header.x == 1 || $statusCode == 200")
    verdict = criterion.evaluate(Scope(status_code=200))
    assert verdict == criterion.evaluate_general(Scope(status_code=200))
    assert not verdict.passed and "AsyncAPI" in (verdict.reason or "")


def test_equal_criteria_stay_equal_and_print_without_their_evaluator() -> None:
    one, two = compile_criterion("$statusCode == 200"), compile_criterion("$statusCode == 200")
    assert one == two and hash(one) == hash(two)
    assert one != compile_criterion("$statusCode == 201")
    assert "_evaluate" not in repr(one) and repr(one).startswith("CompiledCriterion(kind='simple'")


@pytest.mark.parametrize(
    "value",
    [
        *LEAVES,
        MISSING,
        "",
        "\x00\x1f\\",
        "\ud800",
        -0.0,
        1e300,
        -(10**15) + 1,
        10**15,
        -(10**15),
        float("-inf"),
        ("a", 1),
        {1, 2},
        b"bytes",
        object,
    ],
)
def test_show_answers_like_json_dumps(value: Any) -> None:
    assert show(value) == show_json(value)
    assert show(value, 5) == show_json(value, 5)
