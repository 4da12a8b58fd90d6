"""Property-based: the loader and the expression / condition parsers raise only spola's own errors,
in bounded time, whatever the input (issue 10). Example counts stay modest for CI."""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spola.criteria import compile_criterion
from spola.errors import SpolaError
from spola.expr import parse_condition, parse_embedded, parse_expression, parse_template
from spola.model import load_text
from spola.model.reader import parse_text

SETTINGS = settings(
    max_examples=int(os.environ.get("SPOLA_HYPOTHESIS_EXAMPLES", "60")),
    deadline=timedelta(seconds=5),  # generous (a noisy machine); catches only run-away inputs
    suppress_health_check=[HealthCheck.too_slow],
)

# Pieces runtime expressions and conditions are made of, so examples get deep into the grammars.
TOKENS = [
    "$", "$url", "$method", "$statusCode", "$request.", "$response.", "header.", "query.", "path.",
    "body", "#/", "/", "~0", "~1", "$inputs.", "$outputs.", "$steps.", "$workflows.", ".outputs.",
    "$sourceDescriptions.", "$components.", "parameters.", "x", "a-b", "0", "{", "}", "{$", "(", ")",
    "[", "]", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", " ", "'", '"', "200", "-1", "1.5e3",
    "true", "false", "null", "$.", "$..", "@", "*", "?", ",", ":", "\\", "\n", "é", "\x00",
]  # fmt: skip
fragments = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
texts = st.one_of(st.text(max_size=80), fragments)


def _only_spola(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(SpolaError):
        call(*args, **kwargs)


@SETTINGS
@given(texts)
def test_parse_expression_raises_only_spola_errors(text: str) -> None:
    _only_spola(parse_expression, text)


@SETTINGS
@given(texts)
def test_parse_template_and_embedded_raise_only_spola_errors(text: str) -> None:
    _only_spola(parse_template, text)
    _only_spola(parse_embedded, text)


@SETTINGS
@given(texts)
def test_parse_condition_raises_only_spola_errors(text: str) -> None:
    _only_spola(parse_condition, text)


@SETTINGS
@given(
    texts,
    st.sampled_from(
        [None, "simple", "regex", "jsonpath", "xpath", "bogus", {"type": "jsonpath", "version": "x"}]
    ),
    st.one_of(st.none(), st.sampled_from(["$response.body", "$response.header.x", "$nope"]), texts),
)
def test_compile_criterion_raises_only_spola_errors(text: str, kind: Any, context: str | None) -> None:
    _only_spola(compile_criterion, text, type=kind, context=context)


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), fragments
)
yaml_trees = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)
KEYS = ["arazzo", "info", "sourceDescriptions", "workflows", "components", "steps", "workflowId",
        "stepId", "operationId", "successCriteria", "onSuccess", "onFailure", "outputs", "inputs",
        "parameters", "requestBody", "dependsOn", "type", "retryLimit", "condition", "name", "url"]  # fmt: skip
arazzo_like = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=40,
)


@SETTINGS
@given(st.one_of(st.text(max_size=200), fragments))
def test_parse_text_never_raises(text: str) -> None:
    parsed = parse_text(text, "x.yaml")
    assert parsed.ok or parsed.findings


@SETTINGS
@given(arazzo_like)
def test_load_text_of_arbitrary_trees_raises_only_document_errors(tree: Any) -> None:
    document = {"arazzo": "1.0.1", "info": {"title": "t", "version": "1"}, "workflows": tree}
    _only_spola(load_text, yaml.safe_dump(document), resolve_sources=False)
    _only_spola(load_text, yaml.safe_dump(tree), resolve_sources=False)


@SETTINGS
@given(yaml_trees, st.text(max_size=40))
def test_load_text_of_mangled_text_raises_only_document_errors(tree: Any, noise: str) -> None:
    text = yaml.safe_dump(tree)
    cut = len(text) // 2
    _only_spola(load_text, text[:cut] + noise + text[cut:], resolve_sources=False)
