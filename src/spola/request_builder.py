"""Step + OpenAPI operation + evaluated parameters and body → ``HttpRequest``.

No I/O: everything the request needs arrives as arguments. A parameter or body whose expression
refers to something absent (an optional input that was not given) is left out, never sent as null.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from msgspec import Struct

from spola import serialize
from spola.criteria import replace
from spola.errors import SpolaError
from spola.exchange import HttpRequest, TokenGrant
from spola.expr import MISSING
from spola.idcache import by_identity

if TYPE_CHECKING:
    from spola.expr import Scope
    from spola.model import Operation, Parameter, RequestBody
    from spola.options import Credential, RunOptions

_TEMPLATE_VAR = re.compile(r"\{([^{}]+)\}")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
IDEMPOTENCY_NAMES = ("idempotency", "idempotent", "request_id", "requestid", "client_token", "dedup")


class RequestBuildError(SpolaError):
    """The request for a step cannot be built (no server, a path parameter without a value, …)."""


class BuiltRequest(Struct, frozen=True):
    """A request plus what the engine needs to know about it."""

    request: HttpRequest
    idempotent: bool


def merge_parameters(
    workflow_params: Sequence[Parameter], step_params: Sequence[Parameter]
) -> list[Parameter]:
    """Workflow-level parameters overridden (not removed) by step ones with the same name and ``in``."""
    keys = {(p.name, p.in_) for p in step_params}
    return [p for p in workflow_params if (p.name, p.in_) not in keys] + list(step_params)


def base_url(operation: Operation, options: RunOptions, source_url: str | None) -> str:
    """The server URL for an operation: ``--server`` override, else the first server with variables."""
    override = options.servers.get(operation.source)
    if override:
        return override.rstrip("/")
    if not operation.servers:
        if source_url and urlsplit(source_url).scheme in ("http", "https"):
            parts = urlsplit(source_url)
            return f"{parts.scheme}://{parts.netloc}"
        raise RequestBuildError(
            f"source '{operation.source}' declares no server for {operation.method} {operation.path}",
            hint=f"Give one with --server {operation.source}=URL.",
        )
    server = operation.servers[0]

    def fill(match: re.Match[str]) -> str:
        var = match.group(1)
        given = options.server_vars.get((operation.source, var))
        if given is not None:
            return given
        spec = server.variables.get(var)
        if spec is None:
            raise RequestBuildError(
                f"server URL {server.url} of source '{operation.source}' uses {{{var}}} without a default",
                hint=f"Give it with --server-var {operation.source}.{var}=VALUE.",
            )
        return str(spec.default)

    url = _TEMPLATE_VAR.sub(fill, server.url)
    if not urlsplit(url).scheme:
        if source_url and urlsplit(source_url).scheme in ("http", "https"):
            url = urljoin(source_url, url)
        else:
            raise RequestBuildError(
                f"the server URL '{url}' of source '{operation.source}' is relative",
                hint=f"Give the whole base URL with --server {operation.source}=URL.",
            )
    return url.rstrip("/")


def _credential(creds: Sequence[Credential], source: str, scheme: str) -> Credential | None:
    exact = [c for c in creds if c.source == source and c.scheme == scheme]
    if exact:
        return exact[0]
    loose = [c for c in creds if c.source == source and c.scheme is None]
    return loose[0] if loose else None


def _apply_security(
    operation: Operation,
    options: RunOptions,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    cookies: list[tuple[str, str]],
    secrets: set[str],
    grants: list[TokenGrant],
    base: str,
) -> None:
    """Apply the first security requirement for which credentials were given."""
    if not options.credentials:
        return
    present = {k.lower() for k, _ in headers}
    for requirement in operation.security:
        chosen: list[tuple[dict[str, Any], Credential]] = []
        for scheme_name in requirement:
            scheme = operation.security_schemes.get(scheme_name)
            cred = _credential(options.credentials, operation.source, scheme_name)
            if scheme is None or cred is None:
                break
            chosen.append((scheme, cred))
        else:
            for scheme, cred in chosen:
                grant = _client_credentials(scheme, cred, base)
                if grant is not None and "authorization" not in present:
                    secrets.add(grant.client_secret)
                    grants.append(grant)
                else:
                    _apply_scheme(scheme, cred, headers, query, cookies, present, secrets)
            return


def _client_credentials(scheme: Mapping[str, Any], cred: Credential, base: str) -> TokenGrant | None:
    """An OAuth2 client-credentials grant when the scheme has that flow and ``--auth`` gave ``id:secret``."""
    if str(scheme.get("type", "")).lower() != "oauth2" or ":" not in cred.value:
        return None
    flow = (scheme.get("flows") or {}).get("clientCredentials")
    if not isinstance(flow, Mapping) or not flow.get("tokenUrl"):
        return None
    client_id, _, secret = cred.value.partition(":")
    token_url = urljoin(base + "/", str(flow["tokenUrl"]))
    return TokenGrant(token_url, client_id, secret, tuple(str(s) for s in (flow.get("scopes") or {})))


def _apply_scheme(
    scheme: Mapping[str, Any],
    cred: Credential,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    cookies: list[tuple[str, str]],
    present: set[str],
    secrets: set[str],
) -> None:
    kind = str(scheme.get("type", "")).lower()
    value = cred.value
    secrets.add(value)
    if kind == "http":
        http_scheme = str(scheme.get("scheme", "bearer")).lower()
        if "authorization" in present:
            return
        if http_scheme == "basic":
            token = base64.b64encode(value.encode()).decode()
            secrets.add(token)
            headers.append(("Authorization", f"Basic {token}"))
        else:
            headers.append(("Authorization", f"{http_scheme.capitalize()} {value}"))
    elif kind == "apikey":
        name = str(scheme.get("name", ""))
        where = str(scheme.get("in", "header"))
        if where == "header" and name.lower() not in present:
            headers.append((name, value))
        elif where == "query":
            query.append((name, value))
        elif where == "cookie":
            cookies.append((name, value))
    elif kind in ("oauth2", "openidconnect") and "authorization" not in present:
        # A ready access token given with --auth; fetching tokens is done by the engine (oauth.py).
        headers.append(("Authorization", f"Bearer {value}"))


def build_request(
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
    """Evaluate a step's parameters and body and build the request for ``operation``: `compile_request`
    and `CompiledRequest.build` in one call (a step that runs more than once keeps its compiled
    request in its plan, `spola.core.plan.StepPlan.build`).

    ``base``: the server URL when the caller already knows it (`base_url` of the same operation,
    options and source URL), so a poll loop does not form it again.

    Raises:
        RequestBuildError: a path parameter has no value, or no server URL can be formed.
    """
    compiled = compile_request(
        operation=operation,
        parameters=parameters,
        request_body=request_body,
        source_url=source_url,
        base=base,
    )
    return compiled.build(scope, options, secret_values)


def _parameter_table(operation: Operation) -> dict[tuple[str, str], Any]:
    """The operation's parameters by (name, in), made once per operation (read-only)."""
    return {(p.name, p.in_): p for p in operation.parameters}


_operation_parameters = by_identity(_parameter_table, 4096)


def _build_body(
    request_body: RequestBody, operation: Operation, scope: Scope
) -> tuple[Any, bytes | None, str]:
    media = request_body.content_type or _operation_media(operation) or "application/json"
    return _body(request_body, media, serialize.is_xml_media(media), scope)


def _body(request_body: RequestBody, media: str, xml: bool, scope: Scope) -> tuple[Any, bytes | None, str]:
    """The body value, its bytes and content type; ``media`` and ``xml`` as `_build_body` chose them."""
    value = request_body.payload.evaluate(scope) if request_body.payload is not None else MISSING
    if value is MISSING and not request_body.replacements:
        return None, None, media
    if value is MISSING:
        value = {}
    for repl in request_body.replacements:
        new = repl.value.evaluate(scope)
        if new is MISSING:
            continue
        value = replace(
            value,
            repl.target,
            new,
            selector_type=repl.target_selector_type,
            version=repl.target_selector_version,
            media="xml" if xml else "json",
        )
    body, content_type = serialize.encode_body(value, media)
    return value, body, content_type


def _operation_media(operation: Operation) -> str | None:
    body = operation.request_body or {}
    content = body.get("content") or {}
    for media in content:
        return str(media)
    return None


def _looks_like_key(name: str) -> bool:
    low = name.lower().replace("-", "_")
    return any(n in low for n in IDEMPOTENCY_NAMES)


def _body_carries_key(body: Any) -> bool:
    return isinstance(body, Mapping) and any(
        _looks_like_key(str(k)) and body[k] not in (None, "") for k in body
    )


def _carries_idempotency_key(headers: Sequence[tuple[str, str]], query: Mapping[str, Any], body: Any) -> bool:
    if any(_looks_like_key(k) for k, _ in headers) or any(_looks_like_key(k) for k in query):
        return True
    return _body_carries_key(body)


# The compiled request: what `build_request` decides from the operation, the step's parameters and
# its body alone, decided once (`compile_request`), so an execution only evaluates the values and
# fills the slots. `CompiledRequest.build` gives exactly what `build_request` gives for the same
# arguments (tests/unit/test_compiled_request.py holds the two side by side).

_PATH, _QUERY, _HEADER, _COOKIE, _QUERYSTRING, _IGNORED = range(6)
_PLAIN = frozenset({str, int, float})
"""Exact types whose `serialize.scalar_text` is ``str(value)`` (bool is not int here: ``type`` is exact)."""
_KINDS = {"path": _PATH, "query": _QUERY, "header": _HEADER, "cookie": _COOKIE, "querystring": _QUERYSTRING}

# (evaluate, kind, name, style, explode, looks like an idempotency key)
_CompiledParam = tuple[Callable[["Scope"], Any], int, str, "str | None", "bool | None", bool]
# (name, style, explode, simple style, literal text after the slot)
_PathSlot = tuple[str, "str | None", "bool | None", bool, str]


class CompiledRequest(Struct, frozen=True, gc=False):
    """A step's request with everything but the values decided (see `compile_request`).

    Not tracked by the cyclic collector: it refers to the document's objects and to bound
    ``evaluate`` methods of its value trees, none of which refer back.
    """

    operation: Operation
    source_url: str | None
    base: str | None
    method: str
    safe: bool
    """The method alone makes the request idempotent."""
    params: tuple[_CompiledParam, ...]
    path_head: str
    """The path up to its first ``{slot}`` (the whole path when it has none)."""
    path_slots: tuple[_PathSlot, ...]
    request_body: RequestBody | None
    media: str | None
    """The body's media type (None: decided per execution, as `build_request` does)."""
    xml: bool
    content_type_param: bool
    """A header parameter is named Content-Type (then whether it was sent decides per execution)."""
    secured: bool
    """The operation has security requirements (they apply only when credentials are given)."""

    def build(
        self, scope: Scope, options: RunOptions, secret_values: frozenset[str] = frozenset()
    ) -> BuiltRequest:
        """`build_request` for this step: the same request, the same errors."""
        path_values: dict[str, Any] = {}
        query_values: dict[str, Any] = {}
        headers: list[tuple[str, str]] = []
        query: list[tuple[str, str]] = []
        cookies: list[tuple[str, str]] = []
        querystring: str | None = None
        keyed = False
        for evaluate, kind, name, style, explode, looks in self.params:
            value = evaluate(scope)
            if value is MISSING:
                continue
            if kind == _QUERY:
                query_values[name] = value
                if type(value) in _PLAIN:  # what scalar_text gives for these exact types
                    query.append((name, str(value)))
                elif isinstance(value, (list, dict)):
                    query.extend(serialize.serialize_query(name, value, style, explode))
                else:  # what serialize_query gives for a scalar, whatever the style
                    query.append((name, serialize.scalar_text(value)))
            elif kind == _PATH:
                path_values[name] = value
            elif kind == _HEADER:
                text = str(value) if type(value) in _PLAIN else serialize.serialize_header(value, explode)
                headers.append((name, text))
            elif kind == _COOKIE:
                cookies.append((name, str(value) if type(value) in _PLAIN else serialize.scalar_text(value)))
            elif kind == _QUERYSTRING:
                querystring = value if isinstance(value, str) else serialize.encode_form(value).decode()
            keyed = keyed or looks
        path = self.path_head
        if self.path_slots:
            pieces = [path]
            for name, style, explode, simple, tail in self.path_slots:
                if name not in path_values:
                    operation = self.operation
                    raise RequestBuildError(
                        f"path parameter '{name}' of {operation.method} {operation.path} has no value",
                        hint="Add it to the step's parameters with in: path.",
                    )
                value = path_values[name]
                if simple and not isinstance(value, (list, dict)):
                    pieces.append(quote(serialize.scalar_text(value), safe=""))
                else:
                    pieces.append(serialize.serialize_path(name, value, style, explode))
                pieces.append(tail)
            path = "".join(pieces)
        body_bytes: bytes | None = None
        body_value: Any = None
        request_body = self.request_body
        if request_body is not None:
            if self.media is None:
                body_value, body_bytes, content_type = _build_body(request_body, self.operation, scope)
            else:
                body_value, body_bytes, content_type = _body(request_body, self.media, self.xml, scope)
            if body_bytes is not None and not (
                self.content_type_param and any(k.lower() == "content-type" for k, _ in headers)
            ):
                headers.append(("Content-Type", content_type))
        base = self.base
        if base is None:
            base = base_url(self.operation, options, self.source_url)
        grants: list[TokenGrant] = []
        secured = self.secured and bool(options.credentials)
        if secured:
            secrets = set(secret_values)
            _apply_security(self.operation, options, headers, query, cookies, secrets, grants, base)
            same = secrets == secret_values and "" not in secrets
            kept = secret_values if same else frozenset(s for s in secrets if s)
        else:
            kept = secret_values if "" not in secret_values else frozenset(s for s in secret_values if s)
        if cookies:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
        url = base + path
        if querystring is not None:
            url += "?" + querystring.lstrip("?")
        elif query:
            url += "?" + serialize.encode_pairs(tuple(query))
        if self.safe:
            idempotent = True
        elif secured:  # a security header may look like a key
            idempotent = _carries_idempotency_key(headers, query_values, body_value)
        else:
            idempotent = keyed or _body_carries_key(body_value)
        request = HttpRequest(
            self.method,
            url,
            tuple(headers),
            body_bytes,
            path_values,
            query_values,
            body_value,
            kept,
            tuple(grants) if grants else (),
        )
        return BuiltRequest(request, idempotent)


def compile_request(
    *,
    operation: Operation,
    parameters: Sequence[Parameter],
    request_body: RequestBody | None,
    source_url: str | None = None,
    base: str | None = None,
) -> CompiledRequest:
    """Decide once what `build_request` decides from these arguments alone; ``base`` as there (None:
    formed per execution from the options, which is how a missing server is reported)."""
    op_params = _operation_parameters(operation)
    params: list[_CompiledParam] = []
    for param in parameters:
        where = param.in_ or "query"
        kind = _KINDS.get(where, _IGNORED)
        spec = op_params.get((param.name, where))
        looks = kind in (_QUERY, _HEADER) and _looks_like_key(param.name)
        style, explode = getattr(spec, "style", None), getattr(spec, "explode", None)
        params.append((param.value.evaluator, kind, param.name, style, explode, looks))
    path_head = operation.path
    slots: list[_PathSlot] = []
    if "{" in operation.path:
        parts = _TEMPLATE_VAR.split(operation.path)
        path_head = parts[0]
        for i in range(1, len(parts), 2):
            name = parts[i]
            spec = op_params.get((name, "path"))
            style, explode = getattr(spec, "style", None), getattr(spec, "explode", None)
            slots.append((name, style, explode, (style or "simple") == "simple", parts[i + 1]))
    media: str | None = None
    if request_body is not None:
        try:
            media = request_body.content_type or _operation_media(operation) or "application/json"
        except Exception:  # a malformed operation body: it fails per execution, as before
            media = None
    method = operation.method.upper()
    return CompiledRequest(
        operation=operation,
        source_url=source_url,
        base=base,
        method=method,
        safe=method in SAFE_METHODS,
        params=tuple(params),
        path_head=path_head,
        path_slots=tuple(slots),
        request_body=request_body,
        media=media,
        xml=media is not None and serialize.is_xml_media(media),
        content_type_param=any(
            (p.in_ or "query") == "header" and p.name.lower() == "content-type" for p in parameters
        ),
        secured=bool(operation.security),
    )
