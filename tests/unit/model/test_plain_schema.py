"""Plain input schemas are checked without jsonschema: every "yes" must be jsonschema's own answer.

`is_plain` True must mean the 2020-12 meta-schema accepts the schema; `conforms` True must mean
jsonschema's Draft 2020-12 validator (with its format checker, as spola runs it) accepts the value.
Both are tested against jsonschema itself, on generated schemas and values.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spola.core.inputs import validate_inputs
from spola.errors import InputError
from spola.model.plain_schema import conforms, is_plain

SETTINGS = settings(
    max_examples=int(os.environ.get("SPOLA_HYPOTHESIS_EXAMPLES", "200")),
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
)

NAMES = st.sampled_from(["a", "b", "job_id", "token", "x-y", ""])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([0.0, 1.0, 1.5, -2.5, 3.0]),
    st.sampled_from(["", "a", "ab", "abc", "RUNNING", "1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3)),
    max_leaves=8,
)
TYPES = st.sampled_from(["array", "boolean", "integer", "null", "number", "object", "string"])
NUMBERS = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, 1.0, -1.5]))
COUNTS = st.integers(0, 3)


def _keywords(schema: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.one_of(TYPES, st.lists(TYPES, min_size=1, max_size=3, unique=True)),
            "properties": st.dictionaries(NAMES, schema, max_size=3),
            "required": st.lists(NAMES, max_size=3, unique=True),
            "additionalProperties": schema,
            "items": schema,
            "enum": st.lists(VALUES, max_size=3),
            "const": VALUES,
            "default": VALUES,
            "examples": st.lists(VALUES, max_size=2),
            "minimum": NUMBERS,
            "maximum": NUMBERS,
            "exclusiveMinimum": NUMBERS,
            "exclusiveMaximum": NUMBERS,
            "minLength": COUNTS,
            "maxLength": COUNTS,
            "minItems": COUNTS,
            "maxItems": COUNTS,
            "description": st.just("d"),
            "title": st.just("t"),
            "format": st.sampled_from(["password", "int64", "int32", "double"]),
            "readOnly": st.booleans(),
            "x-spola-secret": st.booleans(),
        },
    )


SCHEMAS = st.recursive(st.booleans() | st.just({}), _keywords, max_leaves=6)


@SETTINGS
@given(SCHEMAS)
def test_a_plain_schema_is_one_the_meta_schema_accepts(schema: Any) -> None:
    assert is_plain(schema)
    jsonschema.Draft202012Validator.check_schema(schema)


@SETTINGS
@given(SCHEMAS, VALUES)
def test_conforms_only_when_jsonschema_finds_no_error(schema: Any, value: Any) -> None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    if conforms(schema, value):
        assert validator.is_valid(value), (schema, value)


def test_conforms_agrees_on_the_everyday_cases() -> None:
    schema = {
        "type": "object",
        "required": ["job_id"],
        "properties": {
            "job_id": {"type": "integer", "minimum": 1},
            "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
            "params": {"type": "object", "additionalProperties": {"type": "string"}},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        },
        "additionalProperties": False,
    }
    assert is_plain(schema)
    assert conforms(schema, {"job_id": 3, "mode": "fast", "params": {"a": "b"}, "tags": ["x"]})
    assert conforms(schema, {"job_id": 3.0})  # 3.0 is an integer to JSON Schema
    for bad in (
        {},
        {"job_id": 0},
        {"job_id": True},
        {"job_id": "3"},
        {"job_id": 3, "mode": "other"},
        {"job_id": 3, "params": {"a": 1}},
        {"job_id": 3, "tags": ["x", "y", "z"]},
        {"job_id": 3, "other": 1},
    ):
        assert not conforms(schema, bad), bad
        assert not jsonschema.Draft202012Validator(schema).is_valid(bad), bad


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "^a"},
        {"$ref": "#/components/inputs/x"},
        {"$schema": "https://json-schema.org/draft/2020-12/schema"},
        {"oneOf": [{"type": "string"}]},
        {"type": "text"},
        {"type": []},
        {"type": ["string", "string"]},
        {"required": ["a", "a"]},
        {"required": "a"},
        {"minLength": -1},
        {"minLength": 1.0},
        {"maximum": "3"},
        {"format": "email"},
        {"format": "date-time"},
        {"properties": {"a": {"type": "nope"}}},
        {"items": [{"type": "string"}]},
        {"enum": "a"},
        {"description": 3},
        {"unknownKeyword": 1},
        [],
        None,
    ],
)
def test_anything_else_is_left_to_jsonschema(schema: Any) -> None:
    assert not is_plain(schema)


@pytest.mark.parametrize("value", [Decimal("1.5"), date(2024, 1, 1), (1, 2), b"a"])
def test_values_json_does_not_produce_are_left_to_jsonschema(value: Any) -> None:
    assert not conforms({"type": ["number", "string", "array", "object"]}, value)
    assert not conforms({}, value)


def test_validate_inputs_still_words_the_errors_through_jsonschema() -> None:
    schema = {"type": "object", "required": ["job_id"], "properties": {"job_id": {"type": "integer"}}}
    assert validate_inputs(schema, {"job_id": 1}, workflow_id="w") == {"job_id": 1}
    with pytest.raises(InputError, match=r"job_id: 'x' is not of type 'integer'"):
        validate_inputs(schema, {"job_id": "x"}, workflow_id="w")
    with pytest.raises(InputError, match=r"'job_id' is required"):
        validate_inputs(schema, {}, workflow_id="w")
