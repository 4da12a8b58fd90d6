"""What a step sends against what its OpenAPI operation declares: parameters and request bodies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from spola.model.fields import did_you_mean
from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext
    from spola.model import Operation, Parameter, Step, Workflow

IGNORED_HEADERS: Final = frozenset({"accept", "content-type", "authorization"})
"""Header parameters OpenAPI says to ignore when declared: they need no declaration to be sent."""
CLIENT_HEADERS: Final = frozenset({"user-agent"})
"""Headers spola's driver always sends itself."""
_PATH_VARIABLE: Final = re.compile(r"\{([^{}]+)\}")
_SEVERITY_BY_IN: Final = {"query": "error", "header": "warning", "cookie": "warning", "querystring": "error"}


def _same(param_name: str, param_in: str | None, name: str, in_: str) -> bool:
    if param_in != in_:
        return False
    return param_name == name or (in_ == "header" and param_name.lower() == name.lower())


def _credential_names(operation: Operation) -> set[tuple[str, str]]:
    """(in, lower-case name) of every apiKey scheme the description defines: credentials a step may
    pass as parameters (the operation's ``security`` is often incomplete)."""
    names: set[tuple[str, str]] = set()
    for scheme in operation.security_schemes.values():
        if str(scheme.get("type", "")).lower() == "apikey" and isinstance(scheme.get("name"), str):
            names.add((str(scheme.get("in", "header")), scheme["name"].lower()))
    return names


def _supplied(step: Step, workflow: Workflow) -> list[Parameter]:
    return [*workflow.parameters, *step.parameters]


def unknown_parameters(ctx: LintContext) -> Iterator[Finding]:
    """``unknown-parameter``: a step parameter the operation does not declare with that ``in``."""
    for _, step in ctx.steps():
        operation = ctx.operation(step)
        if operation is None:
            continue
        credentials = _credential_names(operation)
        for param in step.parameters:
            where = param.in_
            if where is None or operation.parameter(param.name, where) is not None:
                continue
            if where == "header" and param.name.lower() in IGNORED_HEADERS:
                continue
            if (where, param.name.lower()) in credentials:
                continue
            elsewhere = [p.in_ for p in operation.parameters if p.name == param.name]
            hint = (
                f"the operation declares '{param.name}' in {elsewhere[0]}: write `in: {elsewhere[0]}`"
                if elsewhere
                else did_you_mean(param.name, [p.name for p in operation.parameters if p.in_ == where])
            )
            yield ctx.finding(
                "unknown-parameter",
                join(param.pointer, "name") if param.reference is None else param.pointer,
                f"parameter '{param.name}' (in: {where}) is not declared by {operation} "
                f"({operation.method} {operation.path}); spola sends it anyway",
                hint=hint or "check the name against the operation, or drop the parameter",
            )


def missing_parameters(ctx: LintContext) -> Iterator[Finding]:
    """``missing-path-parameter`` / ``missing-required-parameter``: the operation needs a value."""
    for workflow, step in ctx.steps():
        operation = ctx.operation(step)
        if operation is None:
            continue
        supplied = _supplied(step, workflow)
        for name in dict.fromkeys(_PATH_VARIABLE.findall(operation.path)):
            if not any(_same(p.name, p.in_, name, "path") for p in supplied):
                yield ctx.finding(
                    "missing-path-parameter",
                    step.pointer,
                    f"step '{step.step_id}' gives no value for path parameter '{name}' of {operation} "
                    f"({operation.method} {operation.path}): spola cannot build the request",
                    hint=f"add `{{name: {name}, in: path, value: ...}}` to the step's parameters",
                )
        credentials = _credential_names(operation)
        for declared in operation.parameters:
            if not declared.required or declared.in_ == "path":
                continue
            lowered = declared.name.lower()
            if declared.in_ == "header" and lowered in IGNORED_HEADERS:
                continue
            if (declared.in_, lowered) in credentials:
                continue
            if any(_same(p.name, p.in_, declared.name, declared.in_) for p in supplied):
                continue
            client = declared.in_ == "header" and lowered in CLIENT_HEADERS
            yield ctx.finding(
                "missing-required-parameter",
                step.pointer,
                f"step '{step.step_id}' does not supply {declared.in_} parameter '{declared.name}', "
                f"which {operation} requires" + ("; spola's driver sends its own" if client else ""),
                hint=f"add `{{name: {declared.name}, in: {declared.in_}, value: ...}}` to the parameters",
                severity="info" if client else _SEVERITY_BY_IN.get(declared.in_, "warning"),
            )


def request_bodies(ctx: LintContext) -> Iterator[Finding]:
    """``missing-request-body`` and ``undeclared-request-body``."""
    for _, step in ctx.steps():
        operation = ctx.operation(step)
        if operation is None:
            continue
        body = step.request_body
        sends = body is not None and (body.has_payload or bool(body.replacements))
        declared = operation.request_body
        if declared is not None and declared.get("required") is True and not sends:
            types = ", ".join(str(t) for t in (declared.get("content") or {}))
            yield ctx.finding(
                "missing-request-body",
                step.pointer,
                f"{operation} ({operation.method} {operation.path}) requires a request body "
                f"({types or 'no content type given'}); step '{step.step_id}' sends none",
            )
        elif declared is None and sends and body is not None:
            yield ctx.finding(
                "undeclared-request-body",
                body.pointer,
                f"step '{step.step_id}' sends a request body, but {operation} "
                f"({operation.method} {operation.path}) declares none",
            )
