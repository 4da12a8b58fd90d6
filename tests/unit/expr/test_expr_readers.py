"""Each expression's specialised reader (``evaluate``) answers what ``evaluate_general`` answers.

The expressions: every case of cases/expressions.yaml, every runtime expression in the strings and
criteria of the shared corpus, specification examples and seeds, and a few hand-made ones; each
is read in scopes where its target is present, absent, behind a list or a string, inside JSON
text (str and bytes), null, or where the request or response is missing. Compiled values
(`compile_value`) are held to their node's evaluation the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from msgspec.structs import replace

from spola.criteria import compile_value
from spola.errors import SpolaError
from spola.expr import (
    MISSING,
    Expression,
    RequestView,
    ResponseView,
    Scope,
    parse_condition,
    parse_expression,
    parse_template,
)
from tests.unit.expr.scopes import full_scope, nest, segment_keys

HERE = Path(__file__).parent
SHARED = HERE.parents[2] / "../shared"
DOCUMENTS = sorted(
    path
    for folder in ("corpus", "spec/examples", "seeds/arazzo")
    for path in (SHARED / folder).rglob("*")
    if path.suffix in (".yml", ".yaml")
)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
HAND_MADE = (
    "$response.body#/state/life_cycle_state",
    "$response.body#/0/id",
    "$response.body#/items/1",
    "$response.body#",
    "$response.body",
    "$response.body.state.life_cycle_state",
    "$response.body#/state/life_cycle_state/length",
    "$request.body#/user/uuid",
    "$steps.poll.outputs.state#/life_cycle_state",
    "$steps.poll.outputs.state.life_cycle_state",
    "$steps.poll.outputs.items[0]",
    "$inputs.cfg#/host",
    "$statusCode",
    "$url",
)
LEAVES: tuple[Any, ...] = ("RUNNING", "", 0, 200, "200", True, None, [], ["a", "b"], {}, {"id": 1}, 1.5)


@cache
def _load(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return None


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


@cache
def _expressions() -> tuple[Expression, ...]:
    texts = [
        case["text"] for case in yaml.safe_load((HERE / "cases" / "expressions.yaml").read_text())["evaluate"]
    ]
    found: dict[str, Expression] = {}
    for text in (*texts, *HAND_MADE):
        found.setdefault(text, parse_expression(text))
    for path in DOCUMENTS:
        for text in _strings(_load(path)):
            if "$" not in text:
                continue
            for parse in (parse_template, parse_condition):
                try:
                    parsed = parse(text)
                except SpolaError:
                    continue
                for expression in parsed.expressions:
                    found.setdefault(str(expression), expression)
    return tuple(found.values())


def _keys(expression: Expression) -> list[str]:
    """The name's parts, then the keys below it."""
    return ([] if expression.name is None else expression.name.split(".")) + segment_keys(expression)


def _scopes(expression: Expression) -> Iterator[Scope]:
    base = full_scope()
    yield base
    yield Scope()
    yield replace(base, response=None, request=None)
    yield replace(base, response=ResponseView(), request=RequestView())
    keys = [k for k in _keys(expression) if k]
    bodies: list[Any] = [None, "", "text", b"bytes", [], {}, 5]
    for leaf in LEAVES:
        bodies.append(nest(keys, leaf))
    for cut in range(len(keys)):
        for stump in (
            [],
            "text",
            None,
            [nest(keys[cut + 1 :], "RUNNING")],
            json.dumps(nest(keys[cut:], 1)),
        ):
            bodies.append(nest(keys[:cut], stump))
    bodies.append(json.dumps(nest(keys, "RUNNING")))
    bodies.append(json.dumps(nest(keys, "RUNNING")).encode())
    bodies.append(bytearray(json.dumps(nest(keys, 7)).encode()))
    for body in bodies:
        yield replace(base, response=ResponseView(body=body), request=RequestView(body=body))
        if expression.root == "steps" and expression.id is not None:
            yield replace(base, steps={expression.id: body if isinstance(body, dict) else {"x": body}})
        if expression.root == "inputs":
            yield replace(base, inputs=body if isinstance(body, dict) else {"x": body})


def _outcome(read: Any, scope: Scope) -> tuple[str, str]:
    try:
        value = read(scope)
    except Exception as exc:
        return ("raised", f"{type(exc).__name__}: {exc}")
    if value is MISSING:
        return ("missing", "")
    return (type(value).__name__, repr(value))


@pytest.mark.skipif(not DOCUMENTS, reason="the shared corpus is not next to the repository")
def test_every_reader_answers_like_the_general_evaluation() -> None:
    expressions = _expressions()
    assert len(expressions) > 200
    bad = []
    shapes = set()
    for expression in expressions:
        shapes.add(expression.reader.__name__)
        for scope in _scopes(expression):
            fast, general = _outcome(expression.evaluate, scope), _outcome(expression.evaluate_general, scope)
            if fast != general:
                bad.append(f"{expression}: {fast} != {general}")
    assert not bad, f"{len(bad)} mismatches, the first: " + "\n".join(bad[:5])
    assert {"body_pointer", "pointer", "walk", "named_input", "step_output"} <= shapes  # each was exercised


@pytest.mark.skipif(not DOCUMENTS, reason="the shared corpus is not next to the repository")
def test_compiled_values_evaluate_like_their_node() -> None:
    bad = []
    checked = 0
    for path in DOCUMENTS:
        for text in {t for t in _strings(_load(path)) if "$" in t}:
            try:
                value = compile_value(text)
            except SpolaError:
                continue
            checked += 1
            for scope in _scopes(value.expressions[0]) if value.expressions else ():
                fast, general = _outcome(value.evaluate, scope), _outcome(value.node.evaluate, scope)
                if fast != general:
                    bad.append(f"{text!r}: {fast} != {general}")
    assert checked > 200
    assert not bad, f"{len(bad)} mismatches, the first: " + "\n".join(bad[:5])


def test_values_compare_and_print_without_their_evaluation() -> None:
    one, two = compile_value("$inputs.x"), compile_value("$inputs.x")
    assert one == two and hash(one) == hash(two) and one != compile_value("$inputs.y")
    assert "_evaluate" not in repr(one) and repr(one).startswith("Value(raw='$inputs.x'")
