"""``.name``-only queries and the everyday comparison dialect, answered without python-jsonpath,
give python-jsonpath's own answers (both versions), on generated queries, conditions and values."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import jsonpath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spola.criteria import replace
from spola.criteria.jsonpath import classify, classify_in_full
from spola.criteria.queries import (
    NamePath,
    any_match,
    compile_query,
    environments,
    find_values,
    is_singular,
)
from spola.criteria.types import JSONPATH_GOESSNER, JSONPATH_RFC

SETTINGS = settings(
    max_examples=int(os.environ.get("SPOLA_HYPOTHESIS_EXAMPLES", "100")),
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
)
VERSIONS = st.sampled_from([JSONPATH_RFC, JSONPATH_GOESSNER])
# python-jsonpath's own words (filter operators, functions, literals) are names here too
NAMES = st.one_of(
    st.sampled_from(
        ["state", "life_cycle_state", "true", "false", "null", "and", "or", "in", "nin", "contains",
         "keys", "length", "count", "match", "search", "value", "_", "a1", "A_b"]
    ),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
)  # fmt: skip
PATHS = st.lists(NAMES, min_size=1, max_size=4).map(lambda names: "$." + ".".join(names))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 30), st.sampled_from(["RUNNING", "x", ""]))


def _values(names: list[str]) -> st.SearchStrategy[Any]:
    keys = st.sampled_from([*names, "other"])
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(keys, inner, max_size=3)),
        max_leaves=10,
    )


@st.composite
def path_and_value(draw: st.DrawFn) -> tuple[str, Any]:
    path = draw(PATHS)
    names = path[2:].split(".")
    value = draw(_values(names))
    if draw(st.booleans()):  # often a value on which the path exists
        for name in reversed(names):
            value = {name: value}
    return path, value


@SETTINGS
@given(path_and_value(), VERSIONS)
def test_a_name_path_selects_what_python_jsonpath_selects(case: tuple[str, Any], version: str) -> None:
    text, data = case
    query = compile_query(text, version)
    assert isinstance(query, NamePath)
    real = environments()[version].compile(text)
    assert find_values(query, data) == [match.obj for match in real.finditer(data)]
    assert any_match(query, data) == (next(iter(real.finditer(data)), None) is not None)
    assert is_singular(query) == (isinstance(real, jsonpath.JSONPath) and real.singular_query())
    assert [m.obj for m in query.finditer(data)] == [m.obj for m in real.finditer(data)]


OPERATORS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
LITERALS = st.sampled_from(['"RUNNING"', "'PENDING'", '""', "10", "-1", "2.5", "true", "false", "null"])
COMPARISONS = st.tuples(
    PATHS, st.sampled_from(["", " "]), OPERATORS, st.sampled_from(["", " "]), LITERALS
).map("".join)
CONDITIONS = st.lists(COMPARISONS, min_size=1, max_size=3).flatmap(
    lambda parts: st.lists(st.sampled_from([" && ", " || ", "||"]), min_size=len(parts) - 1,
                           max_size=len(parts) - 1).map(
        lambda joins: parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True))
    )
)  # fmt: skip


@SETTINGS
@given(CONDITIONS, VERSIONS, st.data())
def test_the_everyday_dialect_is_never_a_query_and_reads_as_in_full(
    text: str, version: str, data: st.DataObject
) -> None:
    with pytest.raises(jsonpath.JSONPathError):
        environments()[version].compile(text)
    quick, full = classify(text, version), classify_in_full(text, version)
    assert (quick.dialect, quick.text, quick.query) == (full.dialect, full.text, full.query)
    names = [name for path in re.findall(r"\$((?:\.\w+)+)", text) for name in path[1:].split(".")]
    value = data.draw(_values(names))
    assert quick.test(value) == full.test(value)


def test_a_name_path_replacement_goes_through_the_real_query() -> None:
    payload = {"a": {"b": 1}, "c": 2}
    changed = replace(payload, "$.a.b", 5, selector_type="jsonpath")
    assert changed == {"a": {"b": 5}, "c": 2}
