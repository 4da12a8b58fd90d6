"""Every criterion and value of the real-world corpus compiles; its jsonpath criteria use the dialect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from spola.criteria import COMPARISON_DIALECT, CompiledCriterion, compile_criterion, compile_value
from spola.expr import ResponseView, Scope, parse_template
from spola.expr.logic import Compare, Literal, Logical, Operand

SHARED = Path(__file__).parents[3] / "../shared"
CORPUS = sorted((SHARED / "corpus" / "arazzo").glob("*.yml"))
SEEDS = sorted((SHARED / "seeds" / "arazzo").glob("*.yml"))
pytestmark = pytest.mark.skipif(not CORPUS, reason="the shared corpus is not next to the repository")

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DOTTED = re.compile(r"\$(\.[A-Za-z_][A-Za-z0-9_]*)+")


@cache
def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader


def _criteria(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("successCriteria", "criteria") and isinstance(value, list):
                yield from value
            yield from _criteria(value)
    elif isinstance(node, list):
        for item in node:
            yield from _criteria(item)


def _values(document: dict[str, Any]) -> Iterator[Any]:
    components = document.get("components") or {}
    for parameter in (components.get("parameters") or {}).values():
        yield parameter.get("value")
    for workflow in document.get("workflows") or []:
        yield from (workflow.get("outputs") or {}).values()
        for step in workflow.get("steps") or []:
            for parameter in step.get("parameters") or []:
                yield parameter.get("value")
            body = step.get("requestBody") or {}
            yield body.get("payload")
            for replacement in body.get("replacements") or []:
                yield replacement.get("value")
            yield from (step.get("outputs") or {}).values()


def _compile(criterion: dict[str, Any]) -> CompiledCriterion:
    return compile_criterion(
        criterion["condition"], type=criterion.get("type"), context=criterion.get("context")
    )


@pytest.mark.parametrize("path", CORPUS + SEEDS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_criterion_and_value_of_a_document_compiles(path: Path) -> None:
    document = _load(path)
    for criterion in _criteria(document):
        compiled = _compile(criterion)
        assert compiled.kind in ("simple", "jsonpath")
    for raw in _values(document):
        compile_value(raw)


def test_every_corpus_jsonpath_criterion_is_the_comparison_dialect() -> None:
    kinds = [_compile(c) for path in CORPUS for c in _criteria(_load(path))]
    jsonpath = [c for c in kinds if c.kind == "jsonpath"]
    assert len(jsonpath) >= 115
    assert {c.dialect for c in jsonpath} == {COMPARISON_DIALECT}


def _body_for(path: str, value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    node = body
    keys = path[2:].split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return body


def _equalities(tree: Any) -> list[tuple[str, Any]] | None:
    """The (path, literal) pairs of `$.a.b == lit || ...`, or None for any other shape."""
    parts = tree.operands if isinstance(tree, Logical) and tree.op == "||" else (tree,)
    pairs = []
    for part in parts:
        if not (isinstance(part, Compare) and part.op == "==" and isinstance(part.left, Operand)):
            return None
        if not isinstance(part.right, Literal) or not _DOTTED.fullmatch(str(part.left)):
            return None
        pairs.append((str(part.left), part.right.value))
    return pairs


def test_corpus_jsonpath_criteria_judge_sample_bodies_as_their_authors_mean() -> None:
    checked = 0
    for path in CORPUS:
        for raw in _criteria(_load(path)):
            compiled = _compile(raw)
            if compiled.kind != "jsonpath":
                continue
            assert not compiled.evaluate(Scope()).passed
            bodies: tuple[Any, ...] = ({}, [], {"state": "UNKNOWN", "data": {"status": -1}})
            for body in bodies:
                verdict = compiled.evaluate(Scope(response=ResponseView(body=body)))
                assert verdict.reason is None or isinstance(verdict.reason, str)
            pairs = _equalities(compiled.checker.fixed.comparison.tree)  # type: ignore[attr-defined]
            if pairs is None:
                continue
            for query, literal in pairs:
                scope = Scope(response=ResponseView(body=_body_for(query, literal)))
                assert compiled.evaluate(scope).passed, (raw["condition"], query, literal)
            assert not compiled.evaluate(Scope(response=ResponseView(body={}))).passed
            checked += 1
    assert checked >= 80


def test_bare_expressions_in_strings_are_recognised_across_the_corpus() -> None:
    bare = 0
    for path in CORPUS:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"value: (Bearer \$inputs\.\w+)", text):
            template = parse_template(match.group(1))
            assert template.has_bare and not template.whole
            assert (
                template.evaluate(Scope(inputs={"token": "t", "apiKey": "t", "authToken": "t"})) == "Bearer t"
            )
            bare += 1
    assert bare > 100
