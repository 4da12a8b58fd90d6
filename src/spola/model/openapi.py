"""OpenAPI 3.0 / 3.1 descriptions: an index of their operations, and ``Operation`` built from one."""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import unquote

from msgspec import Struct, field

from spola.model import pointers
from spola.model.operation import Operation, OpParameter, Server, ServerVariable
from spola.model.refs import RefError, RefResolver

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SUPPORTED = re.compile(r"^3\.[012](\.\d+)?(-.+)?$")


class OpenApiError(Exception):
    """The document is not an OpenAPI description spola can use (message says why)."""


class OpenApiDescription(Struct, frozen=True):
    """A loaded OpenAPI description and where each operationId is (``/paths/<path>/<method>``)."""

    location: str
    file: str
    version: str
    raw: dict[str, Any]
    operation_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)
    operation_pointers: tuple[str, ...] = ()

    @property
    def merge_siblings(self) -> bool:
        """OpenAPI 3.1 keeps keywords beside ``$ref``; 3.0 ignores them."""
        return not self.version.startswith("3.0")


def index_openapi(tree: Any, location: str, file: str, resolver: RefResolver) -> OpenApiDescription:
    """Check the version and index the operations of an OpenAPI tree.

    Raises:
        OpenApiError: Swagger 2.0, an unknown version, or no ``paths`` object.
    """
    if not isinstance(tree, dict):
        raise OpenApiError("is not an OpenAPI description (not an object)")
    if "swagger" in tree:
        raise OpenApiError(
            f"is Swagger {tree.get('swagger')} (OpenAPI 2.0), which spola does not support; "
            "convert it to OpenAPI 3 (e.g. with swagger2openapi)"
        )
    version = str(tree.get("openapi", ""))
    if not _SUPPORTED.match(version):
        raise OpenApiError(f"has unsupported OpenAPI version '{version}'; spola reads 3.0.x and 3.1.x")
    ids: dict[str, list[str]] = {}
    found: list[str] = []
    paths = tree.get("paths") or {}
    if not isinstance(paths, dict):
        raise OpenApiError("has a 'paths' field that is not an object")
    for path, item in paths.items():
        try:
            resolved, _ = resolver.resolve(item, location)
        except RefError:
            continue  # reported when a step uses this path
        if not isinstance(resolved, dict):
            continue
        for method in METHODS:
            operation = resolved.get(method)
            if operation is None:
                continue
            pointer = pointers.join("/paths", str(path), method)
            found.append(pointer)
            try:
                op, _ = resolver.resolve(operation, location)
            except RefError:
                continue
            if isinstance(op, dict) and isinstance(op.get("operationId"), str):
                ids.setdefault(op["operationId"], []).append(pointer)
    return OpenApiDescription(
        location, file, version, tree, {k: tuple(v) for k, v in ids.items()}, tuple(found)
    )


def build_operation(desc: OpenApiDescription, source: str, pointer: str, resolver: RefResolver) -> Operation:
    """The ``Operation`` at ``/paths/<path>/<method>`` with every ``$ref`` it needs resolved.

    Raises:
        RefError: a reference cannot be followed. OpenApiError: the pointer does not name an operation.
    """
    tokens = pointers.split(pointer)
    if len(tokens) == 2 and tokens[0] == "paths":
        raise OpenApiError(
            f"'{pointer}' is a path item, not an operation: add the method, e.g. {pointer}/get"
        )
    if len(tokens) != 3 or tokens[0] != "paths" or tokens[2].lower() not in METHODS:
        raise OpenApiError(f"'{pointer}' does not name an operation (expected /paths/<path>/<method>)")
    path, method = tokens[1], tokens[2].lower()
    paths = desc.raw.get("paths") or {}
    if path not in paths and unquote(path) in paths:
        path = unquote(path)
    if path not in paths:
        raise OpenApiError(f"no path '{path}' in {desc.file}")
    item, item_base = resolver.resolve(paths[path], desc.location)
    if not isinstance(item, dict) or method not in item:
        raise OpenApiError(f"path '{path}' has no '{method}' operation in {desc.file}")
    op, op_base = resolver.resolve(item[method], item_base)
    if not isinstance(op, dict):
        raise OpenApiError(f"the operation at '{pointer}' is not an object")
    parameters = _parameters(item.get("parameters"), item_base, op.get("parameters"), op_base, resolver)
    body = resolver.deep(op["requestBody"], op_base) if op.get("requestBody") is not None else None
    security = op["security"] if "security" in op else desc.raw.get("security") or []
    components = desc.raw.get("components") or {}
    schemes = {}
    for name, scheme in (components.get("securitySchemes") or {}).items():
        schemes[str(name)] = copy.deepcopy(resolver.resolve(scheme, desc.location)[0])
    return Operation(
        source=source,
        operation_id=op.get("operationId") if isinstance(op.get("operationId"), str) else None,
        method=method.upper(),
        path=path,
        servers=_servers(op.get("servers") or item.get("servers") or desc.raw.get("servers") or []),
        parameters=parameters,
        request_body=body if isinstance(body, dict) else None,
        security=tuple(s for s in security if isinstance(s, dict)),
        security_schemes=schemes,
        pointer=pointer,
        file=desc.file,
        openapi_version=desc.version,
        raw=copy.deepcopy(op),
    )


def _parameters(
    item_params: Any, item_base: str, op_params: Any, op_base: str, resolver: RefResolver
) -> tuple[OpParameter, ...]:
    merged: dict[tuple[str, str], OpParameter] = {}
    for raw_list, base in ((item_params, item_base), (op_params, op_base)):
        for raw in raw_list or []:
            param, param_base = resolver.resolve(raw, base)
            if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                continue
            built = _parameter(param, param_base, resolver)
            merged[(built.name, built.in_)] = built
    return tuple(merged.values())


def _parameter(param: dict[str, Any], base: str, resolver: RefResolver) -> OpParameter:
    in_ = str(param.get("in", "query"))
    style = param.get("style") or ("form" if in_ in ("query", "cookie") else "simple")
    explode = param.get("explode")
    schema = resolver.deep(param["schema"], base) if isinstance(param.get("schema"), dict) else None
    content = resolver.deep(param["content"], base) if isinstance(param.get("content"), dict) else None
    return OpParameter(
        name=param["name"],
        in_=in_,
        required=bool(param.get("required", in_ == "path")),
        style=str(style),
        explode=bool(explode) if explode is not None else style == "form",
        allow_reserved=bool(param.get("allowReserved", False)),
        schema=schema,
        content=content,
    )


def _servers(raw: Any) -> tuple[Server, ...]:
    servers: list[Server] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        variables = {}
        for name, var in (item.get("variables") or {}).items():
            if isinstance(var, dict):
                enum = var.get("enum")
                variables[str(name)] = ServerVariable(
                    default=str(var.get("default", "")),
                    enum=tuple(str(v) for v in enum) if isinstance(enum, list) else None,
                    description=var.get("description"),
                )
        servers.append(Server(item["url"], variables, item.get("description")))
    return tuple(servers)
