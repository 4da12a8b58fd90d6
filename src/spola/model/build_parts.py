"""Tree → structs for parameters and actions, Reusable Objects resolved from the components.

Each builder checks the object's shape as it goes and records findings; it returns None (or skips the
item) when the object is too broken to build.
"""

from __future__ import annotations

from typing import Any

import msgspec.structs

from spola.model import fields as f
from spola.model import shapes
from spola.model.build_values import Ctx, criteria, value
from spola.model.document import FailureAction, Parameter, SuccessAction
from spola.model.pointers import join
from spola.model.refs_text import parse_component_ref

# --- parameters ----------------------------------------------------------------------------------


def parameter(ctx: Ctx, raw: Any, pointer: str) -> Parameter | None:
    """A Parameter Object or a Reusable Object naming one in ``components.parameters``."""
    if isinstance(raw, dict) and "reference" in raw:
        reused: Parameter | None = _reused(ctx, raw, pointer, "parameters")
        return reused
    obj = f.check_object(ctx.c, raw, pointer, shapes.PARAMETER, ctx.version)
    if obj is None:
        return None
    name = f.string(ctx.c, obj, "name", pointer)
    in_ = f.enum(ctx.c, obj, "in", pointer, shapes.PARAMETER_IN[ctx.version])
    if "value" not in obj:
        return None  # reported as a missing required field
    compiled = value(ctx, obj["value"], join(pointer, "value"))
    if name is None or compiled is None:
        return None
    return Parameter(name, in_, compiled, obj.get("value"), None, f.extensions(obj), pointer)


def parameters(ctx: Ctx, obj: dict[str, Any], pointer: str, *, kind: str) -> tuple[Parameter, ...]:
    """A ``parameters`` list; ``kind`` is ``operation``, ``workflow`` (step), ``action`` or ``defaults``.

    Operation steps need ``in`` on every parameter; actions must not use it; a workflow step ignores it.
    """
    result: list[Parameter] = []
    seen: set[tuple[str, str | None]] = set()
    for index, raw in enumerate(f.array(ctx.c, obj, "parameters", pointer)):
        where = join(pointer, "parameters", index)
        param = parameter(ctx, raw, where)
        if param is None:
            continue
        written_in = isinstance(raw, dict) and "in" in raw
        if kind == "operation" and param.in_ is None and not written_in:
            ctx.c.error(
                where,
                f"parameter '{param.name}' needs 'in' (path, query, header or cookie) "
                "because the step calls an operation",
            )
        elif kind == "action" and param.in_ is not None:
            ctx.c.error(
                join(where, "in"), "an action's parameters are workflow inputs: 'in' must not be used"
            )
        elif kind == "defaults" and param.in_ is None and not written_in:
            ctx.c.warn(
                where,
                f"workflow parameter '{param.name}' has no 'in': operation steps of this "
                "workflow cannot tell where to send it",
            )
        elif kind == "workflow" and param.in_ is not None:
            ctx.c.warn(join(where, "in"), "ignored: a workflow step's parameters are workflow inputs")
        key = (param.name, None if kind in ("workflow", "action") else param.in_)
        if key in seen:
            shown = f"'{param.name}'" + (f" in {param.in_}" if key[1] else "")
            ctx.c.error(where, f"duplicate parameter {shown}")
        seen.add(key)
        result.append(param)
    return tuple(result)


# --- actions ---------------------------------------------------------------------------------------


def success_action(ctx: Ctx, raw: Any, pointer: str) -> SuccessAction | None:
    """A Success Action Object or a Reusable Object naming one."""
    if isinstance(raw, dict) and "reference" in raw:
        reused_success: SuccessAction | None = _reused(ctx, raw, pointer, "successActions")
        return reused_success
    obj = f.check_object(ctx.c, raw, pointer, shapes.SUCCESS_ACTION, ctx.version)
    if obj is None:
        return None
    name, kind, workflow_id, step_id, params = _action_common(ctx, obj, pointer, shapes.SUCCESS_TYPES)
    crit = criteria(ctx, obj, "criteria", pointer)
    if name is None or kind is None:
        return None
    return SuccessAction(name, kind, workflow_id, step_id, params, crit, None, f.extensions(obj), pointer)


def failure_action(ctx: Ctx, raw: Any, pointer: str) -> FailureAction | None:
    """A Failure Action Object or a Reusable Object naming one."""
    if isinstance(raw, dict) and "reference" in raw:
        reused_failure: FailureAction | None = _reused(ctx, raw, pointer, "failureActions")
        return reused_failure
    obj = f.check_object(ctx.c, raw, pointer, shapes.FAILURE_ACTION, ctx.version)
    if obj is None:
        return None
    name, kind, workflow_id, step_id, params = _action_common(ctx, obj, pointer, shapes.FAILURE_TYPES)
    retry_after = f.number(ctx.c, obj, "retryAfter", pointer)
    retry_limit = f.integer(ctx.c, obj, "retryLimit", pointer)
    if kind is not None and kind != "retry":
        for key in ("retryAfter", "retryLimit"):
            if key in obj:
                ctx.c.error(join(pointer, key), f"'{key}' only applies to 'retry' actions, not '{kind}'")
    crit = criteria(ctx, obj, "criteria", pointer)
    if name is None or kind is None:
        return None
    return FailureAction(
        name,
        kind,
        workflow_id,
        step_id,
        params,
        retry_after,
        retry_limit,
        crit,
        None,
        f.extensions(obj),
        pointer,
    )


def _action_common(
    ctx: Ctx, obj: dict[str, Any], pointer: str, types: tuple[str, ...]
) -> tuple[str | None, str | None, str | None, str | None, tuple[Parameter, ...]]:
    name = f.string(ctx.c, obj, "name", pointer)
    kind = f.enum(ctx.c, obj, "type", pointer, types)
    workflow_id = f.string(ctx.c, obj, "workflowId", pointer)
    step_id = f.string(ctx.c, obj, "stepId", pointer)
    if "workflowId" in obj and "stepId" in obj:
        ctx.c.error(pointer, "'workflowId' and 'stepId' are mutually exclusive")
    if kind == "goto" and "workflowId" not in obj and "stepId" not in obj:
        ctx.c.error(pointer, "a 'goto' action needs a 'stepId' or a 'workflowId'")
    if kind == "end":
        for key in ("workflowId", "stepId"):
            if key in obj:
                ctx.c.warn(join(pointer, key), f"ignored: '{key}' has no effect on an 'end' action")
    if "parameters" in obj and "workflowId" not in obj:
        ctx.c.error(join(pointer, "parameters"), "an action's parameters need a 'workflowId' to pass them to")
    params = parameters(ctx, obj, pointer, kind="action")
    return name, kind, workflow_id, step_id, params


def actions(ctx: Ctx, obj: dict[str, Any], key: str, pointer: str, *, success: bool) -> tuple[Any, ...]:
    """A list of success or failure actions, Reusable Objects resolved, duplicate names reported."""
    result: list[Any] = []
    seen: set[str] = set()
    for index, raw in enumerate(f.array(ctx.c, obj, key, pointer)):
        where = join(pointer, key, index)
        action = success_action(ctx, raw, where) if success else failure_action(ctx, raw, where)
        if action is None:
            continue
        if action.name in seen:
            ctx.c.error(where, f"duplicate action '{action.name}' in {key}")
        seen.add(action.name)
        result.append(action)
    return tuple(result)


# --- reusable objects -------------------------------------------------------------------------------


def _reused(ctx: Ctx, raw: dict[str, Any], pointer: str, kind: str) -> Any:
    obj = f.check_object(ctx.c, raw, pointer, shapes.REUSABLE, ctx.version)
    if obj is None:
        return None
    text = f.string(ctx.c, obj, "reference", pointer)
    if text is None:
        return None
    parsed = parse_component_ref(text)
    where = join(pointer, "reference")
    if parsed is None:
        ctx.c.error(
            where,
            f"'{text}' is not a component reference; expected $components.{kind}.<name>",
            rule="reference",
        )
        return None
    if parsed[0] != kind:
        ctx.c.error(where, f"'{text}' names {parsed[0]}, but {kind} are expected here", rule="reference")
        return None
    tables: dict[str, dict[str, Any]] = {
        "parameters": ctx.parameters,
        "successActions": ctx.success_actions,
        "failureActions": ctx.failure_actions,
    }
    table = tables[kind]
    target = table.get(parsed[1])
    if target is None:
        ctx.c.error(
            where,
            f"no {kind} component named '{parsed[1]}'",
            rule="reference",
            hint=f.did_you_mean(parsed[1], table) or _known(table),
        )
        return None
    changes: dict[str, Any] = {"reference": text, "pointer": pointer}
    if "value" in obj:
        if kind != "parameters":
            ctx.c.error(join(pointer, "value"), "'value' only applies to parameter references")
        else:
            compiled = value(ctx, obj["value"], join(pointer, "value"))
            if compiled is None:
                return None
            changes.update(value=compiled, raw_value=obj["value"])
    return msgspec.structs.replace(target, **changes)


def _known(table: dict[str, Any]) -> str | None:
    return ("defined: " + ", ".join(sorted(table))) if table else "the document defines none"
