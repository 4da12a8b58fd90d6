"""Workflows as MCP tools: names, descriptions and schemas (plain data; the ``mcp`` SDK is not imported).

Each workflow of the served documents becomes one `ToolSpec`. Inputs the server binds (``--input``) and
inputs whose role is a secret (``format: password``, ``writeOnly``, ``x-secret``, a credential-like
name) are removed from the schema the agent sees: the agent never supplies, sees or echoes a credential.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spola.errors import UsageError
from spola.model.roles import secret_input_names

if TYPE_CHECKING:
    from spola.model import Document, Workflow

TOOL_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
"""What MCP (SEP-986) allows in a tool name."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
STATUS_TOOL = "spola_run_status"
CANCEL_TOOL = "spola_cancel_run"
RESERVED = frozenset({STATUS_TOOL, CANCEL_TOOL})


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One workflow served as a tool.

    ``bound`` are inputs the server supplies (never shown); ``held`` names every input the agent may
    not supply (bound ones and secrets); ``missing_secrets`` are secret inputs the workflow requires
    that nobody bound, so a call fails with a message saying how to give them to the server.
    """

    name: str
    document: Document
    document_path: str
    workflow: Workflow
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    bound: dict[str, Any] = field(default_factory=dict)
    held: frozenset[str] = frozenset()
    secret_inputs: frozenset[str] = frozenset()
    missing_secrets: tuple[str, ...] = ()

    @property
    def workflow_id(self) -> str:
        """The workflow's id (the tool name may differ: sanitised, made unique)."""
        return self.workflow.workflow_id


def tool_name(workflow_id: str, taken: Iterable[str]) -> str:
    """A valid MCP tool name for a workflow id, unique among ``taken``.

    Characters MCP does not allow become ``_``; a clash gets ``_2``, ``_3``…
    """
    base = _UNSAFE.sub("_", workflow_id).strip("_") or "workflow"
    base = base[:120]
    used = set(taken) | RESERVED
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}_{n}"
    return name


def input_schema(schema: Mapping[str, Any] | None, held: Iterable[str]) -> dict[str, Any]:
    """The workflow's input schema (``$ref``s already resolved by the loader) without the held inputs."""
    hidden = set(held)
    if not schema:
        return {"type": "object", "properties": {}}
    out = copy.deepcopy(dict(schema))
    if out.get("type") != "object" and "properties" not in out:
        return {"type": "object", "properties": {}, "description": "This workflow takes no named inputs."}
    out["type"] = "object"
    properties = out.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {k: v for k, v in properties.items() if k not in hidden}
    else:
        out["properties"] = {}
    required = out.get("required")
    if isinstance(required, list):
        kept = [name for name in required if name not in hidden]
        if kept:
            out["required"] = kept
        else:
            out.pop("required")
    return out


def output_schema(workflow: Workflow) -> dict[str, Any]:
    """An object schema naming the workflow's outputs (Arazzo does not type them: any JSON value)."""
    return {
        "type": "object",
        "properties": {name: {"description": f"Workflow output '{name}'."} for name in workflow.outputs},
    }


def describe(document: Document, workflow: Workflow, bound: Iterable[str], missing: Iterable[str]) -> str:
    """The tool description: the workflow's summary and description, then what the server holds."""
    parts = [" ".join(text.split()) for text in (workflow.summary, workflow.description) if text]
    if not parts:
        parts.append(f"Runs the Arazzo workflow '{workflow.workflow_id}' of {document.info.title}.")
    parts.append(
        "Runs the whole multi-step flow (polling included) and returns the workflow's outputs; "
        "progress is reported while it runs, and the run id it reports can be looked up again "
        f"with {STATUS_TOOL}."
    )
    fixed = sorted(set(bound))
    if fixed:
        parts.append("Set by the server: " + ", ".join(fixed) + ".")
    absent = sorted(set(missing))
    if absent:
        parts.append("Not callable until the server is given: " + ", ".join(absent) + ".")
    return " ".join(parts)


def _typed(name: str, value: Any, schema: Mapping[str, Any]) -> Any:
    from spola.core.inputs import coerce_text

    return coerce_text(name, value, schema) if isinstance(value, str) else value


def build_tools(
    documents: Iterable[tuple[str, Document]],
    bound: Mapping[str, Any],
    allow: Iterable[str] = (),
) -> list[ToolSpec]:
    """One `ToolSpec` per workflow (only the ``allow``-ed ids when some are given).

    ``bound`` maps input names to the text the server supplies (``--input NAME=VALUE``) to every workflow
    declaring that input; each workflow reads it by its own schema (``123`` is an integer where the
    workflow says so).

    Raises:
        UsageError: an ``--allow-workflow`` or ``--input`` names nothing in the documents.
    """
    allowed = set(allow)
    specs: list[ToolSpec] = []
    seen_ids: set[str] = set()
    used_inputs: set[str] = set()
    for path, document in documents:
        for workflow in document.workflows:
            seen_ids.add(workflow.workflow_id)
            if allowed and workflow.workflow_id not in allowed:
                continue
            schema = workflow.inputs or {}
            properties = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
            declared = set(properties or {})
            mine = {name: _typed(name, value, schema) for name, value in bound.items() if name in declared}
            used_inputs.update(mine)
            secrets = set(secret_input_names(document, workflow))
            held = frozenset(set(mine) | secrets)
            required = schema.get("required") if isinstance(schema.get("required"), list) else []
            missing = tuple(sorted(name for name in secrets if name in (required or []) and name not in mine))
            specs.append(
                ToolSpec(
                    name=tool_name(workflow.workflow_id, (s.name for s in specs)),
                    document=document,
                    document_path=path,
                    workflow=workflow,
                    description=describe(document, workflow, mine, missing),
                    input_schema=input_schema(schema, held),
                    output_schema=output_schema(workflow),
                    bound=mine,
                    held=held,
                    secret_inputs=frozenset(secrets | {n for n in mine if n in secrets}),
                    missing_secrets=missing,
                )
            )
    unknown = sorted(allowed - seen_ids)
    if unknown:
        raise UsageError(
            f"--allow-workflow names {', '.join(unknown)}, which no document declares",
            hint="Workflows: " + ", ".join(sorted(seen_ids)) + ".",
        )
    unused = sorted(set(bound) - used_inputs)
    if unused:
        raise UsageError(
            f"--input {unused[0]}: no served workflow declares an input named '{unused[0]}'",
            hint="spola workflows DOC lists each workflow's inputs.",
        )
    return specs
