"""Tree → structs for values: selectors, value trees, outputs, criteria and request bodies.

Each builder checks the object's shape as it goes and records findings; it returns None (or skips the
item) when the object is too broken to build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from spola.model import compile as comp
from spola.model import fields as f
from spola.model import shapes
from spola.model.document import (
    Criterion,
    FailureAction,
    Parameter,
    PayloadReplacement,
    RequestBody,
    SuccessAction,
)
from spola.model.pointers import join
from spola.model.refs_text import KEY_PATTERN

if TYPE_CHECKING:
    from spola.model.collector import Collector


class Ctx(Struct):
    """What the builders share while reading one document."""

    c: Collector
    version: tuple[int, int]
    parameters: dict[str, Parameter] = field(default_factory=dict)
    success_actions: dict[str, SuccessAction] = field(default_factory=dict)
    failure_actions: dict[str, FailureAction] = field(default_factory=dict)


# --- expression types and selectors ---------------------------------------------------------------


def expression_type(
    ctx: Ctx, raw: Any, pointer: str, allowed: tuple[str, ...]
) -> tuple[str | None, str | None]:
    """A ``type`` field that is a string or an Expression Type Object → (type, version)."""
    if isinstance(raw, str):
        if raw not in allowed:
            choices = ", ".join(f"'{a}'" for a in allowed)
            ctx.c.error(
                pointer,
                f"'{raw}' is not allowed here; expected one of {choices}",
                hint=f.did_you_mean(raw, allowed, n=1),
            )
            return None, None
        return raw, None
    obj = f.check_object(ctx.c, raw, pointer, shapes.EXPRESSION_TYPE, ctx.version)
    if obj is None:
        return None, None
    versions = shapes.EXPRESSION_VERSIONS[ctx.version]
    kind = f.enum(ctx.c, obj, "type", pointer, tuple(t for t in versions if t in allowed))
    version = f.string(ctx.c, obj, "version", pointer)
    if kind is not None and version is not None and version not in versions[kind]:
        choices = ", ".join(f"'{v}'" for v in versions[kind])
        ctx.c.error(
            join(pointer, "version"), f"'{version}' is not a version of {kind}; expected one of {choices}"
        )
        return kind, None
    return kind, version


def looks_like_selector(raw: Any) -> bool:
    """True for a mapping that is meant as a Selector Object (it has ``selector`` and ``context``)."""
    return isinstance(raw, dict) and "selector" in raw and "context" in raw


def check_selector(ctx: Ctx, raw: Any, pointer: str) -> bool:
    """Check a Selector Object (1.1): context, selector and type, nothing else but extensions."""
    obj = f.check_object(ctx.c, raw, pointer, shapes.SELECTOR, ctx.version)
    if obj is None:
        return False
    before = len(ctx.c.errors)
    context = f.string(ctx.c, obj, "context", pointer)
    f.string(ctx.c, obj, "selector", pointer)
    if "type" in obj:
        expression_type(ctx, obj["type"], join(pointer, "type"), shapes.SELECTOR_TYPES)
    if context is not None:
        comp.expression_ok(ctx.c, join(pointer, "context"), context, grammar=ctx.version)
    return len(ctx.c.errors) == before


def selectors_in(ctx: Ctx, raw: Any, pointer: str) -> None:
    """Check every Selector-like mapping inside a value tree (payloads, parameter values)."""
    if looks_like_selector(raw):
        if ctx.version < f.V11:
            return  # 1.0 has no Selector Object: the mapping is a literal
        check_selector(ctx, raw, pointer)
    elif isinstance(raw, dict):
        for key, value in raw.items():
            selectors_in(ctx, value, join(pointer, str(key)))
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            selectors_in(ctx, value, join(pointer, index))


def value(ctx: Ctx, raw: Any, pointer: str) -> Any:
    """Check and compile a value tree (parameter value, payload, replacement value)."""
    before = len(ctx.c.errors)
    selectors_in(ctx, raw, pointer)
    if len(ctx.c.errors) != before:
        return None
    return comp.value_at(ctx.c, pointer, raw, grammar=ctx.version)


def output_value(ctx: Ctx, raw: Any, pointer: str) -> Any:
    """An output: a runtime expression, or (1.1) a Selector Object."""
    if isinstance(raw, dict) and ctx.version >= f.V11:
        if not check_selector(ctx, raw, pointer):
            return None
        return comp.value_at(ctx.c, pointer, raw, grammar=ctx.version)
    if not isinstance(raw, str):
        what = "a runtime expression or a Selector Object" if ctx.version >= f.V11 else "a runtime expression"
        ctx.c.error(pointer, f"an output must be {what}, not {f.type_name(raw)}")
        return None
    compiled = comp.value_at(ctx.c, pointer, raw, grammar=ctx.version)
    if compiled is not None and compiled.is_literal:
        ctx.c.warn(
            pointer,
            f"the output holds no runtime expression: it is always the text '{raw}'",
            hint="runtime expressions start with '$', e.g. $response.body#/id",
        )
    return compiled


def outputs(ctx: Ctx, obj: dict[str, Any], pointer: str) -> dict[str, Any]:
    """The ``outputs`` map of a step or workflow, keys checked against ``^[a-zA-Z0-9.\\-_]+$``."""
    result: dict[str, Any] = {}
    where = join(pointer, "outputs")
    for key, raw in f.mapping(ctx.c, obj, "outputs", pointer).items():
        if not key_ok(key):
            ctx.c.error(join(where, key), f"output name '{key}' must match ^[a-zA-Z0-9.\\-_]+$")
        compiled = output_value(ctx, raw, join(where, key))
        if compiled is not None:
            result[key] = compiled
    return result


def key_ok(key: Any) -> bool:
    """True when a map key matches the spec's key pattern ``^[a-zA-Z0-9.\\-_]+$``."""
    return isinstance(key, str) and bool(KEY_PATTERN.match(key))


# --- criteria -----------------------------------------------------------------------------------


def criterion(ctx: Ctx, raw: Any, pointer: str) -> Criterion | None:
    """A Criterion Object, its condition compiled."""
    obj = f.check_object(ctx.c, raw, pointer, shapes.CRITERION, ctx.version)
    if obj is None:
        return None
    condition = f.string(ctx.c, obj, "condition", pointer)
    context = f.string(ctx.c, obj, "context", pointer)
    kind, version = "simple", None
    if "type" in obj:
        allowed = shapes.CRITERION_TYPES if isinstance(obj["type"], str) else ("jsonpath", "xpath")
        parsed_kind, version = expression_type(ctx, obj["type"], join(pointer, "type"), allowed)
        if parsed_kind is None:
            return None
        kind = parsed_kind
        if "context" not in obj:
            ctx.c.error(pointer, f"a '{kind}' criterion needs a 'context' (e.g. $response.body)")
            return None
    if condition is None:
        return None
    compiled = comp.criterion_at(
        ctx.c, pointer, condition, type_=kind, version=version, context=context, grammar=ctx.version
    )
    if compiled is None:
        return None
    return Criterion(condition, compiled, kind, version, context, f.extensions(obj), pointer)


def criteria(
    ctx: Ctx, obj: dict[str, Any], key: str, pointer: str, *, min_items: int = 0
) -> tuple[Criterion, ...]:
    """A list of criteria (``successCriteria`` or an action's ``criteria``)."""
    items = f.array(ctx.c, obj, key, pointer, min_items=min_items)
    built = (criterion(ctx, raw, join(pointer, key, i)) for i, raw in enumerate(items))
    return tuple(item for item in built if item is not None)


# --- request bodies ----------------------------------------------------------------------------------


def request_body(ctx: Ctx, raw: Any, pointer: str) -> RequestBody | None:
    """A Request Body Object, payload and replacement values compiled."""
    obj = f.check_object(ctx.c, raw, pointer, shapes.REQUEST_BODY, ctx.version)
    if obj is None:
        return None
    content_type = f.string(ctx.c, obj, "contentType", pointer)
    payload = value(ctx, obj["payload"], join(pointer, "payload")) if "payload" in obj else None
    replacements: list[PayloadReplacement] = []
    for index, item in enumerate(f.array(ctx.c, obj, "replacements", pointer)):
        built = replacement(ctx, item, join(pointer, "replacements", index))
        if built is not None:
            replacements.append(built)
    return RequestBody(
        content_type,
        payload,
        tuple(replacements),
        obj.get("payload"),
        "payload" in obj,
        f.extensions(obj),
        pointer,
    )


def replacement(ctx: Ctx, raw: Any, pointer: str) -> PayloadReplacement | None:
    """A Payload Replacement Object."""
    obj = f.check_object(ctx.c, raw, pointer, shapes.REPLACEMENT, ctx.version)
    if obj is None:
        return None
    target = f.string(ctx.c, obj, "target", pointer)
    kind, version = None, None
    if "targetSelectorType" in obj:
        kind, version = expression_type(
            ctx, obj["targetSelectorType"], join(pointer, "targetSelectorType"), shapes.SELECTOR_TYPES
        )
    compiled = value(ctx, obj.get("value"), join(pointer, "value")) if "value" in obj else None
    if target is None or compiled is None:
        return None
    return PayloadReplacement(target, compiled, kind, version, obj.get("value"), f.extensions(obj), pointer)
