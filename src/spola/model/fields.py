"""Shape checks for one object of the tree: known fields, required fields, JSON types, enums."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from spola.model.pointers import join

if TYPE_CHECKING:
    from spola.model.collector import Collector

V11 = (1, 1)


class Shape(Struct, frozen=True):
    """The fixed fields of one kind of object, as the spec lists them."""

    name: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    since_11: tuple[str, ...] = ()  # fields that Arazzo 1.1 added
    extensible: bool = True
    ignore_unknown: bool = False  # the Reusable Object: "any properties added MUST be ignored"
    aliases: dict[str, str] = field(default_factory=dict)


def check_object(
    c: Collector, raw: Any, pointer: str, shape: Shape, version: tuple[int, int]
) -> dict[str, Any] | None:
    """Check a raw object against its shape; return it as a dict, or None when it is not an object."""
    if not isinstance(raw, dict):
        c.error(pointer, f"must be a {shape.name} (a mapping), not {type_name(raw)}")
        return None
    known = set(shape.fields)
    for key in raw:
        if not isinstance(key, str):
            c.error(pointer, f"field names must be strings, not {type_name(key)} {key!r}")
            continue
        if key in known:
            if key in shape.since_11 and version < V11:
                c.error(
                    join(pointer, key),
                    f"'{key}' is an Arazzo 1.1 field; this document declares {version[0]}.{version[1]}",
                    hint="declare `arazzo: 1.1.0` to use it",
                )
            continue
        if key.startswith("x-") and shape.extensible:
            continue
        if shape.ignore_unknown:
            c.warn(join(pointer, key), f"field '{key}' is ignored in a {shape.name}")
            continue
        hint = did_you_mean(key, shape.fields)
        c.error(join(pointer, key), f"unknown field '{key}' in a {shape.name}", hint=hint)
    for name in shape.required:
        if name not in raw:
            c.error(pointer, f"missing required field '{name}' in a {shape.name}")
    return raw


def did_you_mean(word: str, candidates: Any, *, n: int = 3) -> str | None:
    """A 'did you mean …?' hint from close matches (a case-insensitive equal wins alone), or None."""
    names = [str(x) for x in candidates]
    same = [name for name in names if name.lower() == word.lower()]
    if same:
        return f"did you mean '{same[0]}'?"
    scored = sorted(
        ((difflib.SequenceMatcher(None, word.lower(), name.lower()).ratio(), name) for name in set(names)),
        reverse=True,
    )
    best = scored[0][0] if scored else 0.0
    matches = [name for score, name in scored[:n] if score >= 0.6 and score >= best - 0.1]
    if not matches:
        return None
    return "did you mean " + ", ".join(f"'{m}'" for m in matches) + "?"


def type_name(value: Any) -> str:
    """The JSON type name of a Python value from the tree."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def string(c: Collector, obj: dict[str, Any], key: str, pointer: str) -> str | None:
    """The field as a string; an error if present and not a string."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        if value is None and key in obj:
            c.error(join(pointer, key), "must be a string, not null")
        return value
    hint = f"quote it: '{value}'" if isinstance(value, int | float) and not isinstance(value, bool) else None
    c.error(join(pointer, key), f"must be a string, not {type_name(value)}", hint=hint)
    return None


def integer(
    c: Collector, obj: dict[str, Any], key: str, pointer: str, *, minimum: int | None = 0
) -> int | None:
    """The field as an integer (``3.0`` is accepted as 3); an error otherwise."""
    value = obj.get(key)
    if value is None and key not in obj:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        c.error(join(pointer, key), f"must be an integer, not {type_name(value)}")
        return None
    if minimum is not None and value < minimum:
        c.error(join(pointer, key), f"must be at least {minimum}, not {value}")
        return None
    return value


def number(
    c: Collector, obj: dict[str, Any], key: str, pointer: str, *, minimum: float | None = 0
) -> float | None:
    """The field as a number; an error otherwise."""
    value = obj.get(key)
    if value is None and key not in obj:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        c.error(join(pointer, key), f"must be a number, not {type_name(value)}")
        return None
    if minimum is not None and value < minimum:
        c.error(join(pointer, key), f"must be at least {minimum:g}, not {value}")
        return None
    return float(value)


def array(c: Collector, obj: dict[str, Any], key: str, pointer: str, *, min_items: int = 0) -> list[Any]:
    """The field as a list (empty when absent); an error if present and not an array or too short."""
    value = obj.get(key)
    if value is None and key not in obj:
        return []
    if not isinstance(value, list):
        c.error(join(pointer, key), f"must be an array, not {type_name(value)}")
        return []
    if len(value) < min_items:
        c.error(
            join(pointer, key), "must not be empty" if min_items == 1 else f"needs at least {min_items} items"
        )
    return value


def mapping(c: Collector, obj: dict[str, Any], key: str, pointer: str) -> dict[str, Any]:
    """The field as a dict (empty when absent); an error if present and not an object."""
    value = obj.get(key)
    if value is None and key not in obj:
        return {}
    if not isinstance(value, dict):
        c.error(join(pointer, key), f"must be an object, not {type_name(value)}")
        return {}
    return value


def enum(c: Collector, obj: dict[str, Any], key: str, pointer: str, allowed: tuple[str, ...]) -> str | None:
    """The field as one of the allowed strings; an error naming them otherwise."""
    value = string(c, obj, key, pointer)
    if value is None or value in allowed:
        return value
    choices = ", ".join(f"'{a}'" for a in allowed)
    c.error(
        join(pointer, key),
        f"'{value}' is not allowed here; expected one of {choices}",
        hint=did_you_mean(value, allowed, n=1),
    )
    return None


def extensions(obj: dict[str, Any]) -> dict[str, Any]:
    """The ``x-`` specification extensions of an object."""
    return {k: v for k, v in obj.items() if isinstance(k, str) and k.startswith("x-")}
