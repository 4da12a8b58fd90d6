"""Workflow inputs: coercion of command-line text, schema defaults, validation before anything is sent."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from spola.errors import InputError, Location
from spola.idcache import by_identity_pair
from spola.model.plain_schema import conforms, is_plain

if TYPE_CHECKING:
    import jsonschema

_COMPONENT_PREFIX = "#/components/inputs/"


def resolve_schema(
    schema: Any, component_inputs: Mapping[str, Any], _seen: frozenset[str] = frozenset()
) -> Any:
    """Inline ``$ref: '#/components/inputs/x'`` references so the schema stands alone."""
    if isinstance(schema, Mapping):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT_PREFIX):
            name = ref[len(_COMPONENT_PREFIX) :]
            if name in _seen or name not in component_inputs:
                return {k: v for k, v in schema.items() if k != "$ref"}
            target = resolve_schema(component_inputs[name], component_inputs, _seen | {name})
            rest = {k: resolve_schema(v, component_inputs, _seen) for k, v in schema.items() if k != "$ref"}
            return {**target, **rest} if isinstance(target, Mapping) else target
        return {k: resolve_schema(v, component_inputs, _seen) for k, v in schema.items()}
    if isinstance(schema, list):
        return [resolve_schema(v, component_inputs, _seen) for v in schema]
    return schema


def _property_schema(schema: Mapping[str, Any] | None, name: str) -> Mapping[str, Any]:
    if not isinstance(schema, Mapping):
        return {}
    props = schema.get("properties")
    if isinstance(props, Mapping) and isinstance(props.get(name), Mapping):
        return props[name]  # type: ignore[no-any-return]
    return {}


def _types(prop: Mapping[str, Any]) -> list[str]:
    kind = prop.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(k) for k in kind]
    return []


def coerce_text(name: str, text: str, schema: Mapping[str, Any] | None) -> Any:
    """Turn ``--input name=text`` into the type the schema asks for (``job_id=123`` → 123).

    Raises:
        InputError: the text cannot be read as the declared type.
    """
    prop = _property_schema(schema, name)
    types = _types(prop)
    if not types or "string" in types:
        if types and text.strip()[:1] in "{[" and ("object" in types or "array" in types):
            return _json(name, text)
        return text
    for kind in types:
        if kind == "integer":
            try:
                return int(text)
            except ValueError:
                continue
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                continue
            return int(number) if number.is_integer() and "." not in text else number
        if kind == "boolean" and text.lower() in ("true", "false", "1", "0", "yes", "no"):
            return text.lower() in ("true", "1", "yes")
        if kind == "null" and text in ("null", ""):
            return None
        if kind in ("object", "array"):
            return _json(name, text)
    raise InputError(
        f"input '{name}' must be {' or '.join(types)}, got {text!r}",
        hint="Pass a value of that type, e.g. --input name=123, or JSON for objects and arrays.",
    )


def _json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"input '{name}' is not valid JSON: {exc.msg} at column {exc.colno}") from exc


def read_inputs_file(text: str, origin: str) -> dict[str, Any]:
    """Read an ``--inputs`` file (JSON or YAML object).

    Raises:
        InputError: not an object, or not parseable.
    """
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"cannot read inputs: {exc}", Location(file=origin, line=line)) from exc
    if not isinstance(data, dict):
        raise InputError("the inputs file must hold one object of name: value pairs", Location(file=origin))
    return data


def apply_defaults(schema: Mapping[str, Any] | None, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with the schema's top-level property defaults filled in (nested objects too)."""
    result = dict(inputs)
    if not isinstance(schema, Mapping):
        return result
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return result
    for name, prop in props.items():
        if not isinstance(prop, Mapping):
            continue
        if name not in result and "default" in prop:
            default = prop["default"]
            # a container is copied: the schema is shared by every run (see `_standalone`)
            result[name] = copy.deepcopy(default) if isinstance(default, dict | list) else default
        elif isinstance(result.get(name), Mapping) and prop.get("properties"):
            result[name] = apply_defaults(prop, result[name])
    return result


def declared_inputs(schema: Any) -> list[str] | None:
    """The input names a workflow's (resolved) schema declares, or None when it admits any name.

    A schema admits any name unless it is an object schema with properties and nothing that lets
    other names in (``additionalProperties`` / ``patternProperties``, or a combination of schemas).
    """
    if not isinstance(schema, Mapping):
        return None
    extra = schema.get("additionalProperties")
    if extra is not None and extra is not False:
        return None
    if schema.get("patternProperties") or any(k in schema for k in ("allOf", "anyOf", "oneOf", "$ref")):
        return None
    props = schema.get("properties")
    if not isinstance(props, Mapping) or not props:
        return None
    return [str(name) for name in props]


def check_declared(schema: Any, inputs: Mapping[str, Any], workflow_id: str) -> None:
    """Refuse an input the workflow does not declare: a typo must not be silently ignored."""
    import difflib

    names = declared_inputs(schema)
    if names is None:
        return
    unknown = [name for name in inputs if name not in names]
    if not unknown:
        return
    folded = {n.lower().replace("_", "").replace("-", ""): n for n in names}
    parts = []
    for name in unknown:
        close = folded.get(name.lower().replace("_", "").replace("-", ""))
        if close is None:
            matches = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            close = matches[0] if matches else None
        parts.append(f"'{name}'" + (f" (did you mean '{close}'?)" if close else ""))
    noun = "input named" if len(unknown) == 1 else "inputs named"
    raise InputError(
        f"workflow '{workflow_id}' has no {noun} {', '.join(parts)}; it declares: {', '.join(names)}",
        hint="Give them with --input NAME=VALUE or --inputs FILE (spola workflows DOC lists them).",
    )


def validate_inputs(
    schema: Mapping[str, Any] | None,
    inputs: Mapping[str, Any],
    *,
    workflow_id: str,
    component_inputs: Mapping[str, Any] | None = None,
    refuse_undeclared: bool = False,
) -> dict[str, Any]:
    """Apply defaults and validate inputs against the workflow's JSON Schema.

    Returns the inputs with defaults. Raises InputError listing every problem; with
    ``refuse_undeclared``, also for a name the schema does not declare (unless it admits any).
    """
    resolved, plain = _standalone(schema, component_inputs or _NO_COMPONENTS) if schema else (None, False)
    if refuse_undeclared:
        check_declared(resolved, inputs, workflow_id)
    result = apply_defaults(resolved, inputs)
    if not resolved:
        return result
    if plain and conforms(resolved, result):
        return result  # what jsonschema would say, without importing it (most input schemas are plain)
    validator = _validator(json.dumps(resolved, sort_keys=True, default=str), workflow_id)
    problems = []
    for err in sorted(validator.iter_errors(result), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path)
        problems.append(f"{where or '(inputs)'}: {_short(err)}")
    if problems:
        raise InputError(
            f"inputs of workflow '{workflow_id}' are invalid: " + "; ".join(problems),
            hint="Give them with --input NAME=VALUE or --inputs FILE (spola workflows DOC lists them).",
        )
    return result


def _make_standalone(schema: Any, component_inputs: Mapping[str, Any]) -> tuple[Any, bool]:
    """The schema with its component references inlined, and whether it is `is_plain`."""
    resolved = resolve_schema(schema, component_inputs)
    return resolved, is_plain(resolved)


_standalone = by_identity_pair(_make_standalone, 256)
"""`_make_standalone` once per (schema, components) pair of a loaded document: a batch validates
thousands of rows against one schema. The result is shared: read, never changed (`apply_defaults`
copies the defaults it takes from it)."""

_NO_COMPONENTS: Mapping[str, Any] = {}


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str, workflow_id: str) -> Any:
    """A checked validator per schema, made once: checking a schema costs far more than using it."""
    import jsonschema  # imported by the first workflow with an inputs schema, not at start-up

    schema = json.loads(schema_text)
    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator_cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InputError(f"the inputs schema of workflow '{workflow_id}' is invalid: {exc.message}") from exc
    return validator_cls(schema, format_checker=jsonschema.FormatChecker())


def _short(err: jsonschema.ValidationError) -> str:
    message = str(err.message)
    if err.validator == "required":
        return message.replace("is a required property", "is required")
    if err.validator == "type":
        return f"{err.instance!r} is not of type {err.validator_value!r}"
    return message
