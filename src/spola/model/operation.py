"""An API operation as a step needs it: method, path template, servers, parameters, body, security."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field


class ServerVariable(Struct, frozen=True):
    """A Server Object variable: its default and, when given, the allowed values."""

    default: str
    enum: tuple[str, ...] | None = None
    description: str | None = None


class Server(Struct, frozen=True):
    """An OpenAPI Server Object: a URL template and its variables."""

    url: str
    variables: dict[str, ServerVariable] = field(default_factory=dict)
    description: str | None = None


class OpParameter(Struct, frozen=True):
    """An OpenAPI Parameter Object, ``$ref`` resolved, with the serialisation defaults applied.

    ``style`` defaults to ``form`` for query and cookie, ``simple`` for path and header; ``explode``
    defaults to true for ``form``. ``schema`` and ``content`` are resolved dicts (or None).
    """

    name: str
    in_: str
    required: bool = False
    style: str = "simple"
    explode: bool = False
    allow_reserved: bool = False
    schema: dict[str, Any] | None = None
    content: dict[str, Any] | None = None


class Operation(Struct, frozen=True):
    """One operation of an OpenAPI source, everything ``$ref``-resolved.

    ``servers``: operation-level, else path-level, else document-level (else ``/``).
    ``parameters``: path-item and operation parameters merged, the operation's winning by (name, in).
    ``security``: the operation's requirement list when it has one (even empty), else the document's.
    ``pointer``: where the operation is in ``file`` (e.g. ``/paths/~1pets~1{petId}/get``).
    """

    source: str
    operation_id: str | None
    method: str
    path: str
    servers: tuple[Server, ...]
    parameters: tuple[OpParameter, ...]
    request_body: dict[str, Any] | None
    security: tuple[dict[str, list[str]], ...]
    security_schemes: dict[str, dict[str, Any]]
    pointer: str
    file: str
    openapi_version: str = "3.1.0"
    raw: dict[str, Any] = field(default_factory=dict)

    def parameter(self, name: str, in_: str) -> OpParameter | None:
        """The declared parameter with this name and location (header names case-insensitively)."""
        for param in self.parameters:
            if param.in_ != in_:
                continue
            if param.name == name or (in_ == "header" and param.name.lower() == name.lower()):
                return param
        return None

    def __str__(self) -> str:
        label = self.operation_id or f"{self.method} {self.path}"
        return f"{self.source}.{label}"
