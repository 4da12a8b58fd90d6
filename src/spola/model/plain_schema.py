"""Plain JSON Schemas: the small subset most workflow inputs are written in, checked without jsonschema.

Importing ``jsonschema`` (with ``referencing``, ``attrs`` and its bundled meta-schemas) is one of the
largest shares of ``spola run``'s start-up, and most input schemas are a handful of typed properties
and a ``required`` list. For those, both questions spola asks are answered here:

- `is_plain`: True means the schema uses only the keywords below, in forms the JSON Schema 2020-12
  meta-schema accepts — so jsonschema would find no problem in it;
- `conforms`: True means jsonschema's Draft 2020-12 validator, format checker included, would find no
  error in the instance.

Both answer in one direction only: False sends the caller to jsonschema, which decides, and words
the errors. A plain schema has no ``$ref``, ``$schema``, ``pattern``, combinators or conditionals; a
``format`` is plain only when it is one jsonschema never checks (``password``, ``int64``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

_TYPES: Final = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})
# Every format jsonschema's FormatChecker can check (some only with optional dependencies installed).
_CHECKED_FORMATS: Final = frozenset(
    {
        "color", "date", "date-time", "duration", "email", "hostname", "idn-email", "idn-hostname",
        "ipv4", "ipv6", "iri", "iri-reference", "json-pointer", "regex", "relative-json-pointer",
        "time", "uri", "uri-reference", "uri-template", "uuid",
    }
)  # fmt: skip
_TEXTS: Final = frozenset({"title", "description", "$comment"})
_FLAGS: Final = frozenset({"deprecated", "readOnly", "writeOnly"})
_ANYTHING: Final = frozenset({"default", "const", "example", "nullable"})  # `example`, `nullable`: ignored
_BOUNDS: Final = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_COUNTS: Final = frozenset({"minLength", "maxLength", "minItems", "maxItems"})
_SCHEMAS: Final = frozenset({"items", "additionalProperties"})
_MAX_DEPTH: Final = 64


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def is_plain(schema: Any, depth: int = 0) -> bool:
    """Whether the schema is in the plain subset (and so valid under the 2020-12 meta-schema)."""
    if schema is True or schema is False:
        return True
    if type(schema) is not dict or depth > _MAX_DEPTH:
        return False
    for key, value in schema.items():
        if type(key) is not str:
            return False
        if key in _TEXTS:
            ok = type(value) is str
        elif key in _FLAGS:
            ok = type(value) is bool
        elif key in _ANYTHING or key.startswith("x-"):
            ok = True
        elif key in _BOUNDS:
            ok = _number(value)
        elif key in _COUNTS:
            ok = type(value) is int and value >= 0
        elif key in _SCHEMAS:
            ok = is_plain(value, depth + 1)
        elif key == "type":
            ok = _plain_type(value)
        elif key == "properties":
            ok = type(value) is dict and all(
                type(name) is str and is_plain(sub, depth + 1) for name, sub in value.items()
            )
        elif key == "required":
            ok = type(value) is list and all(type(n) is str for n in value) and len(set(value)) == len(value)
        elif key in ("enum", "examples"):
            ok = type(value) is list
        elif key == "format":
            ok = type(value) is str and value not in _CHECKED_FORMATS
        else:
            ok = False
        if not ok:
            return False
    return True


def _plain_type(value: Any) -> bool:
    if type(value) is str:
        return value in _TYPES
    return (
        type(value) is list
        and bool(value)
        and all(type(t) is str and t in _TYPES for t in value)
        and len(set(value)) == len(value)
    )


def _is_type(value: Any, kind: str) -> bool:
    """jsonschema's Draft 2020-12 type check, for the Python values JSON and YAML produce."""
    if kind == "string":
        return type(value) is str
    if kind == "object":
        return type(value) is dict
    if kind == "integer":
        return type(value) is int or (type(value) is float and value.is_integer())
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        return type(value) is bool
    if kind == "array":
        return type(value) is list
    return kind == "null" and value is None


def _same(one: Any, two: Any) -> bool:
    """Equal as JSON values (``1 == 1.0``, ``True != 1``); False where unsure (jsonschema then decides)."""
    if _number(one) and _number(two):
        return bool(one == two)
    if type(one) is not type(two):
        return False
    if type(one) is list:
        return len(one) == len(two) and all(_same(a, b) for a, b in zip(one, two, strict=True))
    if type(one) is dict:
        return one.keys() == two.keys() and all(_same(v, two[k]) for k, v in one.items())
    if one is None or type(one) is bool or type(one) is str:
        return bool(one == two)
    return False


def conforms(schema: Any, value: Any) -> bool:
    """Whether a value is valid under a plain schema (True only when jsonschema would agree)."""
    if schema is True:
        return True
    if schema is False or not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if type(kind) is str else kind
        if not any(_is_type(value, k) for k in kinds):
            return False
    if "enum" in schema and not any(_same(choice, value) for choice in schema["enum"]):
        return False
    if "const" in schema and not _same(schema["const"], value):
        return False
    if _number(value):
        return _number_conforms(schema, value)
    if type(value) is str:
        return bool(schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)))
    if type(value) is list:
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            return False
        items = schema.get("items", True)
        return all(conforms(items, item) for item in value)
    if type(value) is dict:
        return _object_conforms(schema, value)
    return value is None or type(value) is bool


def _number_conforms(schema: Mapping[str, Any], value: float) -> bool:
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return False
    return not ("exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"])


def _object_conforms(schema: Mapping[str, Any], value: dict[Any, Any]) -> bool:
    if not all(name in value for name in schema.get("required", ())):
        return False
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        sub = properties.get(name, extra) if type(name) is str else extra
        if not conforms(sub, item):
            return False
    return True
