"""The request builder as it was before requests were compiled (a756a35): the reference the compiled
request is held to. Test code only: spola builds every request through `CompiledRequest.build`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from spola import serialize
from spola.exchange import HttpRequest, TokenGrant
from spola.expr import MISSING, Scope
from spola.model import Operation, Parameter, RequestBody
from spola.options import RunOptions
from spola.request_builder import (
    _TEMPLATE_VAR,
    SAFE_METHODS,
    BuiltRequest,
    RequestBuildError,
    _apply_security,
    _build_body,
    _carries_idempotency_key,
    _operation_parameters,
    base_url,
)


def reference_build_request(
    *,
    operation: Operation,
    parameters: Sequence[Parameter],
    request_body: RequestBody | None,
    scope: Scope,
    options: RunOptions,
    source_url: str | None = None,
    secret_values: frozenset[str] = frozenset(),
    base: str | None = None,
) -> BuiltRequest:
    """Evaluate a step's parameters and body and build the request, the general way."""
    op_params = _operation_parameters(operation)
    path_values: dict[str, Any] = {}
    query_values: dict[str, Any] = {}
    headers: list[tuple[str, str]] = []
    query: list[tuple[str, str]] = []
    cookies: list[tuple[str, str]] = []
    querystring: str | None = None
    for param in parameters:
        value = param.value.evaluate(scope)
        if value is MISSING:
            continue
        where = param.in_ or "query"
        spec = op_params.get((param.name, where))
        style = getattr(spec, "style", None)
        explode = getattr(spec, "explode", None)
        if where == "path":
            path_values[param.name] = value
        elif where == "query":
            query_values[param.name] = value
            query.extend(serialize.serialize_query(param.name, value, style, explode))
        elif where == "header":
            headers.append((param.name, serialize.serialize_header(value, explode)))
        elif where == "cookie":
            cookies.append((param.name, serialize.scalar_text(value)))
        elif where == "querystring":
            querystring = value if isinstance(value, str) else serialize.encode_form(value).decode()

    def fill_path(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in path_values:
            raise RequestBuildError(
                f"path parameter '{name}' of {operation.method} {operation.path} has no value",
                hint="Add it to the step's parameters with in: path.",
            )
        spec = op_params.get((name, "path"))
        return serialize.serialize_path(
            name, path_values[name], getattr(spec, "style", None), getattr(spec, "explode", None)
        )

    path = _TEMPLATE_VAR.sub(fill_path, operation.path) if "{" in operation.path else operation.path
    secrets = set(secret_values)
    body_bytes: bytes | None = None
    body_value: Any = None
    if request_body is not None:
        body_value, body_bytes, content_type = _build_body(request_body, operation, scope)
        if body_bytes is not None and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", content_type))
    if base is None:
        base = base_url(operation, options, source_url)
    grants: list[TokenGrant] = []
    _apply_security(operation, options, headers, query, cookies, secrets, grants, base)
    if cookies:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
    url = base + path
    if querystring is not None:
        url += "?" + querystring.lstrip("?")
    elif query:
        url += "?" + serialize.encode_query(query)
    method = operation.method.upper()
    idempotent = method in SAFE_METHODS or _carries_idempotency_key(headers, query_values, body_value)
    same = secrets == secret_values and "" not in secrets  # nothing added: no new set per request
    kept = secret_values if same else frozenset(s for s in secrets if s)
    request = HttpRequest(
        method=method,
        url=url,
        headers=tuple(headers),
        body=body_bytes,
        path_params=path_values,
        query_params=query_values,
        body_value=body_value,
        secrets=kept,
        grants=tuple(grants),
    )
    return BuiltRequest(request=request, idempotent=idempotent)
