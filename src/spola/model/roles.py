"""Which values are secret, by the role they play — never by what they are called.

A workflow input is secret when its schema says so (``format: password``, ``writeOnly: true``,
``x-spola-secret: true``; the older ``x-secret: true`` too), when the user says so (``--secret
NAME``), or when the document *uses* it as a credential: in a parameter that an OpenAPI security
scheme of the step's operation declares (an ``apiKey`` header, query or cookie), in a credential
header (``Authorization``, ``Proxy-Authorization``, ``Cookie``, an API-key header such as
``X-API-Key``), or passed to a child workflow whose own input is secret. A step output that such a
parameter reads is secret too (a token a login step returns); the engine learns its value when the
step runs. ``idempotency_token`` is not a secret: nothing sends it as a credential.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from spola.errors import SpolaError
from spola.redact import is_credential_header as _credential_header

if TYPE_CHECKING:
    from spola.model.document import Document, Parameter, Step, Workflow

__all__ = [
    "SecretRoles",
    "declared_secret",
    "is_credential_header",
    "roles_of",
    "secret_input_names",
    "secret_roles",
]


def is_credential_header(name: str, scheme_headers: Iterable[str] = ()) -> bool:
    """Whether a header of this name carries a credential (``scheme_headers``: apiKey header names)."""
    return _credential_header(name) or name.lower() in {h.lower() for h in scheme_headers}


def declared_secret(prop: Any) -> bool:
    """Whether an input's schema declares it secret."""
    return isinstance(prop, Mapping) and (
        prop.get("format") == "password"
        or prop.get("writeOnly") is True
        or prop.get("x-spola-secret") is True
        or prop.get("x-secret") is True
    )


class SecretRoles(Struct):
    """What a workflow (and the workflows it runs) treats as secret."""

    inputs: set[str] = field(default_factory=set)
    """Top-level inputs of the workflow that are secret."""
    outputs: set[tuple[str, str]] = field(default_factory=set)
    """(step id, output name) of any workflow in reach whose value is sent as a credential."""
    scheme_headers: set[str] = field(default_factory=set)
    """Header names the reachable operations' apiKey security schemes declare (lower case)."""
    scheme_queries: set[str] = field(default_factory=set)
    """Query parameter names of apiKey security schemes."""


def _schema_properties(workflow: Workflow, document: Document) -> Mapping[str, Any]:
    schema = workflow.inputs
    if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
        name = schema["$ref"].removeprefix("#/components/inputs/")
        schema = (getattr(document.components, "inputs", None) or {}).get(name, schema)
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) else {}


def _parameters(document: Document, workflow: Workflow, step: Step) -> list[Parameter]:
    keys = {(p.name, p.in_) for p in step.parameters}
    merged = [p for p in workflow.parameters if (p.name, p.in_) not in keys] + list(step.parameters)
    params: list[Parameter] = []
    for param in merged:
        if param.reference:
            name = param.reference.strip("{}").removeprefix("$components.parameters.")
            target = document.components.parameters.get(name)
            params.append(target if target is not None else param)
        else:
            params.append(param)
    return params


def _scheme_positions(document: Document, step: Step) -> set[tuple[str, str]]:
    """(in, name lower case) of the apiKey parameters the step's operation's security declares."""
    try:
        operation = document.operation_for(step)
    except SpolaError:
        return set()
    if operation is None:
        return set()
    positions: set[tuple[str, str]] = set()
    for requirement in operation.security:
        for scheme_name in requirement:
            scheme = operation.security_schemes.get(scheme_name) or {}
            if str(scheme.get("type", "")).lower() == "apikey" and scheme.get("name"):
                positions.add((str(scheme.get("in", "header")), str(scheme["name"]).lower()))
    return positions


def _reads(param: Parameter) -> set[tuple[str, str | None, str | None]]:
    return {(ref.kind, ref.id, ref.head) for ref in param.value.references()}


def secret_roles(document: Document, workflow: Workflow, flagged: Iterable[str] = ()) -> SecretRoles:
    """The secret inputs and outputs of ``workflow``, following the workflows its steps run."""
    roles = SecretRoles()
    cache: dict[tuple[int, str], set[str]] = {}

    def visit(doc: Document, wf: Workflow, stack: frozenset[tuple[int, str]]) -> set[str]:
        key = (id(doc), wf.workflow_id)
        if key in cache:
            return cache[key]
        if key in stack:
            return set()
        secret = {name for name, prop in _schema_properties(wf, doc).items() if declared_secret(prop)}
        for step in wf.steps:
            params = _parameters(doc, wf, step)
            if step.workflow_id is not None:
                try:
                    child_doc, child = doc.resolve_workflow(step.workflow_id)
                except SpolaError:
                    continue
                child_secret = visit(child_doc, child, stack | {key})
                for param in params:
                    if param.name in child_secret:
                        _mark(param, secret, roles)
                continue
            positions = _scheme_positions(doc, step)
            roles.scheme_headers.update(n for where, n in positions if where == "header")
            roles.scheme_queries.update(n for where, n in positions if where == "query")
            for param in params:
                where = (param.in_ or "").lower()
                credential = (where, param.name.lower()) in positions or (
                    where == "header" and is_credential_header(param.name)
                )
                if credential:
                    _mark(param, secret, roles)
        cache[key] = secret
        return secret

    roles.inputs = visit(document, workflow, frozenset()) | set(flagged)
    return roles


def _mark(param: Parameter, secret: set[str], roles: SecretRoles) -> None:
    for kind, ref_id, head in _reads(param):
        if kind == "inputs" and head:
            secret.add(head)
        elif kind == "steps" and ref_id and head:
            roles.outputs.add((ref_id, head))


def secret_input_names(document: Document, workflow: Workflow, flagged: Iterable[str] = ()) -> frozenset[str]:
    """The top-level inputs of ``workflow`` to withhold: declared, flagged, or used as credentials."""
    return frozenset(secret_roles(document, workflow, flagged).inputs)


_CACHE: dict[tuple[int, str], tuple[Document, SecretRoles]] = {}


def roles_of(document: Document, workflow: Workflow) -> SecretRoles:
    """`secret_roles` of a workflow, computed once per loaded document (a batch starts thousands)."""
    key = (id(document), workflow.workflow_id)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is document:
        return hit[1]
    roles = secret_roles(document, workflow)
    if len(_CACHE) >= 64:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (document, roles)
    return roles
