"""Response schemas of the OpenAPI operations a document calls: which values a field can take.

``SchemaReader.values_at(operation, tokens)`` walks the JSON schema of the operation's successful
JSON responses (``200``…``299``, ``2XX``, else ``default``) along a path of property names and
array indices, following ``$ref`` (also into other files) and ``allOf`` / ``oneOf`` / ``anyOf``,
and answers the ``enum`` (or ``const``) values declared there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from spola.model.refs import RefError, RefResolver
from spola.model.sources import Fetcher

if TYPE_CHECKING:
    from collections.abc import Sequence

    from spola.model import Document, Operation

_MAX_DEPTH: Final = 16
Candidate = tuple[dict[str, Any], str]


class SchemaReader:
    """Follows the schemas of one document's OpenAPI sources; files are read once."""

    __slots__ = ("_fetcher", "_resolver", "document")

    def __init__(self, document: Document) -> None:
        self.document = document
        self._fetcher = Fetcher(allow_remote=False)
        self._resolver = RefResolver(self._tree)

    def _tree(self, uri: str) -> Any:
        for source in self.document.sources.values():
            if source.location == uri and source.raw is not None:
                return source.raw
        return self._fetcher.tree(uri)

    def _base(self, operation: Operation) -> str | None:
        source = self.document.sources.get(operation.source)
        return source.location if source is not None else None

    def responses(self, operation: Operation) -> list[Candidate]:
        """The JSON schemas of the operation's successful responses (``default`` when none is 2xx)."""
        base = self._base(operation)
        responses = operation.raw.get("responses")
        if base is None or not isinstance(responses, dict):
            return []
        codes = [k for k in responses if str(k).startswith("2")]
        if not codes and "default" in responses:
            codes = ["default"]
        found: list[Candidate] = []
        for code in codes:
            try:
                response, where = self._resolver.resolve(responses[code], base)
            except RefError:
                continue
            content = response.get("content") if isinstance(response, dict) else None
            if not isinstance(content, dict):
                continue
            for media, body in content.items():
                if "json" in str(media).lower() and isinstance(body, dict) and "schema" in body:
                    found.append((body["schema"], where))
        return found

    def values_at(self, operation: Operation, tokens: Sequence[str | int]) -> tuple[Any, ...]:
        """The ``enum`` / ``const`` values the response schema declares at a path (empty when none)."""
        candidates: list[Candidate] = []
        for schema, base in self.responses(operation):
            candidates.extend(self._expand(schema, base, 0))
        for token in tokens:
            candidates = [c for cand in candidates for c in self._step(cand, token)]
            if not candidates:
                return ()
        values: list[Any] = []
        for schema, _ in candidates:
            declared = schema.get("enum")
            for value in declared if isinstance(declared, list) else []:
                if value is not None and value not in values:
                    values.append(value)
            if "const" in schema and schema["const"] not in values:
                values.append(schema["const"])
        return tuple(values)

    def unresolved(self, operation: Operation) -> list[str]:
        """Messages for each ``$ref`` of the operation's responses that points at nothing."""
        base = self._base(operation)
        responses = operation.raw.get("responses")
        if base is None or not isinstance(responses, dict):
            return []
        problems: list[str] = []
        for code, response in responses.items():
            try:
                self._resolver.deep(response, base)
            except RefError as exc:
                problems.append(f"response {code}: {exc}")
        return problems

    def _expand(self, node: Any, base: str, depth: int) -> list[Candidate]:
        if depth > _MAX_DEPTH:
            return []
        try:
            resolved, where = self._resolver.resolve(node, base)
        except RefError:
            return []
        if not isinstance(resolved, dict):
            return []
        found: list[Candidate] = [(resolved, where)]
        for key in ("allOf", "oneOf", "anyOf"):
            parts = resolved.get(key)
            for part in parts if isinstance(parts, list) else []:
                found.extend(self._expand(part, where, depth + 1))
        return found

    def _step(self, candidate: Candidate, token: str | int) -> list[Candidate]:
        schema, base = candidate
        nexts: list[Any] = []
        index_like = isinstance(token, int) or (isinstance(token, str) and token.isdigit())
        if index_like and isinstance(schema.get("items"), dict):
            nexts.append(schema["items"])
        properties = schema.get("properties")
        if isinstance(properties, dict) and str(token) in properties:
            nexts.append(properties[str(token)])
        elif not index_like and isinstance(schema.get("additionalProperties"), dict):
            nexts.append(schema["additionalProperties"])
        return [c for node in nexts for c in self._expand(node, base, 0)]
