"""Tree → ``Document``: the root, info, sources, components, workflows and steps, checked as they are read.

Findings go to the collector; nothing here raises for a document problem. Cross-references between
objects (goto targets, dependsOn, workflow ids) are checked afterwards, in ``validate``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from spola.model import build_parts as parts
from spola.model import build_values as values
from spola.model import fields as f
from spola.model import shapes
from spola.model.build_values import Ctx
from spola.model.document import Components, Document, Info, Step, Workflow
from spola.model.inputs import resolve_inputs, schema_problem
from spola.model.pointers import join
from spola.model.refs_text import ID_PATTERN, id_advice, parse_step_dependency
from spola.model.source_description import SourceDescription

if TYPE_CHECKING:
    from collections.abc import Callable

    from spola.model.collector import Collector

_VERSION = re.compile(r"^1\.([01])\.\d+(-.+)?$")
_TARGETS = ("operationId", "operationPath", "channelPath", "workflowId")


def build_document(
    c: Collector, raw: Any, *, path: str | None, uri: str | None, positions: dict[str, tuple[int, int]]
) -> Document | None:
    """Build the document from its tree; None when the root is not an Arazzo object at all."""
    if not isinstance(raw, dict):
        c.error(
            "",
            f"an Arazzo document must be an object (a mapping) with an 'arazzo' field, not "
            f"{f.type_name(raw)}",
        )
        return None
    if "arazzo" not in raw and ("openapi" in raw or "swagger" in raw or "asyncapi" in raw):
        kind = next(k for k in ("openapi", "swagger", "asyncapi") if k in raw)
        c.error(
            "",
            f"this is an {kind} description, not an Arazzo document",
            hint="pass the Arazzo file that names it in sourceDescriptions",
        )
        return None
    version = _version(c, raw)
    ctx = Ctx(c, version)
    f.check_object(c, raw, "", shapes.ROOT, version)
    self_uri = _self_uri(c, raw) if "$self" in raw else None
    info = _info(ctx, raw.get("info"))
    sources = _sources(ctx, raw)
    components = _components(ctx, raw)
    workflows = _workflows(ctx, raw, sources)
    return Document(
        arazzo=raw["arazzo"]
        if isinstance(raw.get("arazzo"), str) and _VERSION.match(raw["arazzo"])
        else f"1.{version[1]}.0",
        info=info,
        source_descriptions=sources,
        workflows=workflows,
        components=components,
        self_uri=self_uri,
        extensions=f.extensions(raw),
        path=path,
        uri=uri,
        positions=positions,
        raw=raw,
    )


def _version(c: Collector, raw: dict[str, Any]) -> tuple[int, int]:
    text = raw.get("arazzo")
    if text is None:
        return (1, 1)
    if not isinstance(text, str):
        c.error(
            "/arazzo", f"the Arazzo version must be a string like '1.0.1', not {f.type_name(text)} {text!r}"
        )
        return (1, 1)
    match = _VERSION.match(text)
    if not match:
        c.error("/arazzo", f"unsupported Arazzo version '{text}'; spola reads 1.0.x and 1.1.x")
        return (1, 1)
    return (1, int(match.group(1)))


def _self_uri(c: Collector, raw: dict[str, Any]) -> str | None:
    text = f.string(c, raw, "$self", "")
    if text is None:
        return None
    if "#" in text:
        c.error("/$self", f"'$self' must not contain a fragment ('#…'): {text}")
        return None
    try:
        urlsplit(text)
    except ValueError as exc:
        c.error("/$self", f"'$self' is not a URI reference: {exc}")
        return None
    if not text or any(ch.isspace() for ch in text):
        c.error("/$self", f"'$self' is not a URI reference: {text!r}")
        return None
    return text


def _info(ctx: Ctx, raw: Any) -> Info:
    obj = f.check_object(ctx.c, raw, "/info", shapes.INFO, ctx.version) if raw is not None else None
    if obj is None:
        return Info(title="", version="")
    return Info(
        title=f.string(ctx.c, obj, "title", "/info") or "",
        version=f.string(ctx.c, obj, "version", "/info") or "",
        summary=f.string(ctx.c, obj, "summary", "/info"),
        description=f.string(ctx.c, obj, "description", "/info"),
        extensions=f.extensions(obj),
    )


def _sources(ctx: Ctx, root: dict[str, Any]) -> tuple[SourceDescription, ...]:
    result: list[SourceDescription] = []
    names: set[str] = set()
    for index, raw in enumerate(f.array(ctx.c, root, "sourceDescriptions", "", min_items=1)):
        pointer = join("/sourceDescriptions", index)
        obj = f.check_object(ctx.c, raw, pointer, shapes.SOURCE, ctx.version)
        if obj is None:
            continue
        name = f.string(ctx.c, obj, "name", pointer)
        url = f.string(ctx.c, obj, "url", pointer)
        kind = f.enum(ctx.c, obj, "type", pointer, shapes.SOURCE_TYPES[ctx.version])
        if name is not None:
            if name in names:
                ctx.c.error(join(pointer, "name"), f"duplicate source description name '{name}'")
            elif not ID_PATTERN.match(name):
                ctx.c.warn(
                    join(pointer, "name"),
                    f"source name '{name}' should match [A-Za-z0-9_-]+ so that expressions can refer to it",
                )
            names.add(name)
        if name is not None and url is not None:
            result.append(SourceDescription(name, url, kind, f.extensions(obj), pointer))
    return tuple(result)


def _components(ctx: Ctx, root: dict[str, Any]) -> Components:
    if "components" not in root:
        return Components()
    obj = f.check_object(ctx.c, root["components"], "/components", shapes.COMPONENTS, ctx.version)
    if obj is None:
        return Components()
    tables: dict[str, dict[str, Any]] = {}
    for key in ("inputs", "parameters", "successActions", "failureActions"):
        tables[key] = f.mapping(ctx.c, obj, key, "/components")
        for name in tables[key]:
            if not values.key_ok(name):
                ctx.c.error(
                    join("/components", key, str(name)),
                    f"component name '{name}' must match ^[a-zA-Z0-9.\\-_]+$",
                )
    for name, schema in tables["inputs"].items():
        if isinstance(schema, dict | bool):
            _check_schema(ctx, schema, join("/components/inputs", name))
        else:
            ctx.c.error(
                join("/components/inputs", name),
                f"an input schema must be a JSON Schema object, not {f.type_name(schema)}",
            )
    for name, raw in tables["parameters"].items():
        param = parts.parameter(ctx, raw, join("/components/parameters", name))
        if param is not None and param.reference is None:
            ctx.parameters[name] = param
    for name, raw in tables["successActions"].items():
        action = parts.success_action(ctx, raw, join("/components/successActions", name))
        if action is not None and action.reference is None:
            ctx.success_actions[name] = action
    for name, raw in tables["failureActions"].items():
        failure = parts.failure_action(ctx, raw, join("/components/failureActions", name))
        if failure is not None and failure.reference is None:
            ctx.failure_actions[name] = failure
    return Components(
        dict(tables["inputs"]),
        dict(ctx.parameters),
        dict(ctx.success_actions),
        dict(ctx.failure_actions),
        obj,
        f.extensions(obj),
    )


def _workflows(
    ctx: Ctx, root: dict[str, Any], sources: tuple[SourceDescription, ...]
) -> tuple[Workflow, ...]:
    result: list[Workflow] = []
    seen: set[str] = set()
    has_async = any(s.type in (None, "asyncapi") for s in sources)
    for index, raw in enumerate(f.array(ctx.c, root, "workflows", "", min_items=1)):
        pointer = join("/workflows", index)
        workflow = _workflow(ctx, raw, pointer, root, has_async)
        if workflow is None:
            continue
        if workflow.workflow_id in seen:
            ctx.c.error(join(pointer, "workflowId"), f"duplicate workflowId '{workflow.workflow_id}'")
        seen.add(workflow.workflow_id)
        result.append(workflow)
    return tuple(result)


def _workflow(ctx: Ctx, raw: Any, pointer: str, root: dict[str, Any], has_async: bool) -> Workflow | None:
    obj = f.check_object(ctx.c, raw, pointer, shapes.WORKFLOW, ctx.version)
    if obj is None:
        return None
    workflow_id = f.string(ctx.c, obj, "workflowId", pointer)
    if workflow_id is not None and not ID_PATTERN.match(workflow_id):
        ctx.c.warn(join(pointer, "workflowId"), id_advice("workflowId", workflow_id, ctx.version))
    inputs, raw_inputs = _inputs(ctx, obj, pointer, root)
    depends_on = _strings(ctx, obj, "dependsOn", pointer)
    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw_step in enumerate(f.array(ctx.c, obj, "steps", pointer, min_items=1)):
        step = _step(ctx, raw_step, join(pointer, "steps", index), has_async)
        if step is None:
            continue
        if step.step_id in seen:
            ctx.c.error(join(pointer, "steps", index, "stepId"), f"duplicate stepId '{step.step_id}'")
        seen.add(step.step_id)
        steps.append(step)
    if workflow_id is None:
        return None
    return Workflow(
        workflow_id=workflow_id,
        steps=tuple(steps),
        summary=f.string(ctx.c, obj, "summary", pointer),
        description=f.string(ctx.c, obj, "description", pointer),
        inputs=inputs,
        raw_inputs=raw_inputs,
        depends_on=depends_on,
        success_actions=parts.actions(ctx, obj, "successActions", pointer, success=True),
        failure_actions=parts.actions(ctx, obj, "failureActions", pointer, success=False),
        outputs=values.outputs(ctx, obj, pointer),
        parameters=parts.parameters(ctx, obj, pointer, kind="defaults"),
        extensions=f.extensions(obj),
        pointer=pointer,
    )


def _inputs(ctx: Ctx, obj: dict[str, Any], pointer: str, root: dict[str, Any]) -> tuple[Any, Any]:
    if "inputs" not in obj:
        return None, None
    raw = obj["inputs"]
    if not isinstance(raw, dict | bool):
        ctx.c.error(join(pointer, "inputs"), f"'inputs' must be a JSON Schema object, not {f.type_name(raw)}")
        return None, raw
    resolved, missing = resolve_inputs(raw, root)
    for ref in missing:
        ctx.c.error(
            join(pointer, "inputs"), f"$ref '{ref}' points at nothing in this document", rule="reference"
        )
    _check_schema(ctx, raw, join(pointer, "inputs"))
    return resolved, raw


def _check_schema(ctx: Ctx, schema: Any, pointer: str) -> None:
    problem = schema_problem(schema)  # $ref targets are checked where they are written
    if problem is not None:
        ctx.c.error(join(pointer, *problem[0]), f"not a valid JSON Schema: {problem[1]}")


def _strings(
    ctx: Ctx,
    obj: dict[str, Any],
    key: str,
    pointer: str,
    *,
    min_items: int = 0,
    check: Callable[[str, str], None] | None = None,
) -> tuple[str, ...]:
    result: list[str] = []
    for index, item in enumerate(f.array(ctx.c, obj, key, pointer, min_items=min_items)):
        where = join(pointer, key, index)
        if not isinstance(item, str):
            ctx.c.error(where, f"must be a string, not {f.type_name(item)}")
        elif item in result:
            ctx.c.error(where, f"'{item}' is listed twice in {key}")
        else:
            if check is not None:
                check(item, where)
            result.append(item)
    return tuple(result)


def _step(ctx: Ctx, raw: Any, pointer: str, has_async: bool) -> Step | None:
    obj = f.check_object(ctx.c, raw, pointer, shapes.STEP, ctx.version)
    if obj is None:
        return None
    step_id = f.string(ctx.c, obj, "stepId", pointer)
    if step_id is not None and not ID_PATTERN.match(step_id):
        ctx.c.warn(join(pointer, "stepId"), id_advice("stepId", step_id, ctx.version))
    targets = {key: f.string(ctx.c, obj, key, pointer) for key in _TARGETS if key in obj}
    kind = _step_kind(ctx, obj, pointer, targets, has_async)
    action = f.enum(ctx.c, obj, "action", pointer, shapes.ACTIONS)
    correlation = None
    if "correlationId" in obj:
        correlation = values.value(ctx, obj["correlationId"], join(pointer, "correlationId"))
        if action != "receive" and "action" in obj and action is not None:
            ctx.c.error(
                join(pointer, "correlationId"),
                f"correlationId is only allowed on 'receive' steps, not '{action}'",
            )
        elif "action" not in obj and kind != "workflow":
            ctx.c.error(join(pointer, "correlationId"), "correlationId needs `action: receive`")
    depends_on = _step_depends_on(ctx, obj, pointer)
    params = parts.parameters(ctx, obj, pointer, kind="workflow" if kind == "workflow" else "operation")
    body = (
        values.request_body(ctx, obj["requestBody"], join(pointer, "requestBody"))
        if "requestBody" in obj
        else None
    )
    if body is not None and kind == "workflow":
        ctx.c.warn(
            join(pointer, "requestBody"), "ignored: a workflow step passes parameters, not a request body"
        )
    success = values.criteria(ctx, obj, "successCriteria", pointer, min_items=1)
    on_success = parts.actions(ctx, obj, "onSuccess", pointer, success=True)
    on_failure = parts.actions(ctx, obj, "onFailure", pointer, success=False)
    outputs = values.outputs(ctx, obj, pointer)
    timeout = f.integer(ctx.c, obj, "timeout", pointer)
    if step_id is None:
        return None
    return Step(
        step_id=step_id,
        description=f.string(ctx.c, obj, "description", pointer),
        operation_id=targets.get("operationId"),
        operation_path=targets.get("operationPath"),
        workflow_id=targets.get("workflowId"),
        channel_path=targets.get("channelPath"),
        action=action,
        correlation_id=correlation,
        parameters=params,
        request_body=body,
        success_criteria=success,
        on_success=on_success,
        on_failure=on_failure,
        outputs=outputs,
        timeout=timeout,
        depends_on=depends_on,
        extensions=f.extensions(obj),
        pointer=pointer,
    )


def _step_kind(
    ctx: Ctx, obj: dict[str, Any], pointer: str, targets: dict[str, str | None], has_async: bool
) -> str:
    names = [k for k in _TARGETS if k in obj]
    if not names:
        allowed = _TARGETS if ctx.version >= f.V11 else ("operationId", "operationPath", "workflowId")
        ctx.c.error(
            pointer,
            "a step needs one of " + ", ".join(f"'{k}'" for k in allowed) + " (what it calls): none is given",
        )
    elif len(names) > 1:
        ctx.c.error(
            join(pointer, names[1]),
            " and ".join(f"'{k}'" for k in names) + " are mutually exclusive: a step calls exactly one thing",
        )
    if "workflowId" in obj:
        for key in ("action", "correlationId", "channelPath"):
            if key in obj:
                ctx.c.error(join(pointer, key), f"a workflow step (workflowId) cannot have '{key}'")
        return "workflow"
    if "channelPath" in obj:
        if "action" not in obj:
            ctx.c.error(pointer, "a channelPath step needs an 'action' ('send' or 'receive')")
        if not has_async:
            ctx.c.error(
                join(pointer, "channelPath"), "channelPath is for AsyncAPI sources; this document has none"
            )
        return "asyncapi"
    return "asyncapi" if "action" in obj else "operation"


def _step_depends_on(ctx: Ctx, obj: dict[str, Any], pointer: str) -> tuple[str, ...]:
    def check(text: str, where: str) -> None:
        if parse_step_dependency(text) is None:
            ctx.c.error(
                where,
                f"'{text}' is not a step reference; write a stepId, "
                "$workflows.<workflowId>.steps.<stepId> or "
                "$sourceDescriptions.<name>.<workflowId>.steps.<stepId>",
            )

    return _strings(ctx, obj, "dependsOn", pointer, min_items=1, check=check)
