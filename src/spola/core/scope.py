"""Build the ``Scope`` an expression reads from a frame, its request and its response."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spola import jsoncodec
from spola.errors import SpolaError
from spola.expr import MISSING, Headers, RequestView, ResponseView, Scope
from spola.idcache import by_identity

if TYPE_CHECKING:
    from collections.abc import Mapping

    from spola.core.frame import Frame
    from spola.criteria import Value
    from spola.exchange import HttpResponse

_NO_BODY = object()


def read_body(response: HttpResponse) -> tuple[Any, str | None]:
    """The body as expressions see it, and why a body that declares itself JSON is not (or None)."""
    media = response.content_type
    if response.body and media.endswith("json"):
        try:
            return jsoncodec.loads(response.body), None
        except ValueError as exc:
            problem = f"the response says {media} but its body is not valid JSON ({exc})"
            return response.body.decode("utf-8", errors="replace"), problem
    return parse_body(response), None


def parse_body(response: HttpResponse) -> Any:
    """A response body as expressions see it: parsed JSON when it is JSON, else text."""
    raw = response.body
    if not raw:
        return None
    media = response.content_type
    text = raw.decode("utf-8", errors="replace")
    if media.endswith("json") or media == "" or media.startswith("text/plain"):
        stripped = text.lstrip()
        if stripped[:1] in ("{", "[", '"') or media.endswith("json"):
            try:
                return jsoncodec.loads(text)
            except ValueError:
                return text
    return text


def evaluate_outputs(
    outputs: Mapping[str, Value],
    scope: Scope,
    *,
    chained: bool = False,
    known: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate an ``outputs`` map; what cannot be found is ``None``, never an error.

    ``chained``: each output can read the ones before it as ``$outputs.*`` (workflow outputs).
    ``known``: outputs already evaluated against this same scope, taken as they are.
    """
    result: dict[str, Any] = {}
    for name, value in outputs.items():
        if known is not None and name in known:
            result[name] = known[name]
            continue
        try:
            found = value.evaluate(scope)
        except SpolaError:
            found = MISSING
        result[name] = None if found is MISSING else found
        if chained:
            scope.outputs = result
    return result


def _make_document_view(document: Any) -> tuple[dict[str, Any], Mapping[str, Any], str | None]:
    """``$sourceDescriptions``, ``$components`` and ``$self`` of a document, made once per document."""
    sources = {s.name: {"name": s.name, "url": s.url, "type": s.type} for s in document.source_descriptions}
    components = getattr(document.components, "raw", None) or {}
    return sources, components, getattr(document, "self_uri", None)


_document_view = by_identity(_make_document_view, 256)


def build_scope(
    frame: Frame,
    workflows: dict[str, dict[str, Any]],
    *,
    response: HttpResponse | None = None,
    body: Any = _NO_BODY,
    child_outputs: dict[str, Any] | None = None,
) -> Scope:
    """What expressions in ``frame`` may read now (with the current exchange when given).

    ``workflows`` is the run's ``$workflows`` map: the inputs, outputs and steps of finished workflows.
    """
    sources, components, self_uri = _document_view(frame.document)
    request_view = None
    url = method = None
    request = frame.request
    if request is not None:
        url, method = request.url, request.method
        shown = frame.request_view
        if shown is not None and shown[0] is request:  # a poll's request, repeated as it was
            request_view = shown[1]
        else:
            request_view = RequestView(
                headers=Headers.joined(request.headers),
                query=request.query_params,
                path=request.path_params,
                body=request.body_value if request.body is not None else MISSING,
            )
            frame.request_view = (request, request_view)
    response_view = None
    status = None
    if response is not None:
        status = response.status
        response_view = ResponseView(
            headers=Headers.joined(response.headers),
            body=parse_body(response) if body is _NO_BODY else body,
        )
    return Scope(  # positional, in Scope's field order (a scope is made twice per exchange)
        frame.inputs,  # inputs
        child_outputs if child_outputs is not None else frame.outputs,  # outputs
        frame.step_outputs,  # steps
        workflows,
        sources,  # source_descriptions
        components,
        self_uri,
        url,
        method,
        status,  # status_code
        request_view,  # request
        response_view,  # response
    )
