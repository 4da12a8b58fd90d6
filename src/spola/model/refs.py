"""``$ref`` resolution inside and across OpenAPI files: relative URIs, JSON Pointer fragments, cycles guarded.

Documents are fetched through a callback (URI → tree) so the caller decides about caching, local
files and the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urldefrag, urljoin

from spola.model import pointers

Fetch = Callable[[str], Any]
_MAX_CHAIN = 64


class RefError(Exception):
    """A ``$ref`` cannot be followed: missing file, nothing at the pointer, or a cycle of references."""


class RefResolver:
    """Follows ``$ref`` chains and inlines referenced subtrees, memoised per (document, pointer).

    Args:
        fetch: returns the parsed tree of a document URI (without fragment); raises RefError.
        merge_siblings: keep keywords written beside ``$ref`` (OpenAPI 3.1) instead of ignoring them (3.0).
    """

    def __init__(self, fetch: Fetch, *, merge_siblings: bool = True) -> None:
        self._fetch = fetch
        self._merge = merge_siblings
        self._memo: dict[tuple[str, str], Any] = {}

    def target(self, ref: str, base: str) -> tuple[Any, str]:
        """The node a reference designates, and the URI of the document it is in."""
        absolute = urljoin(base, ref)
        uri, fragment = urldefrag(absolute)
        tree = self._fetch(uri or base)
        try:
            return pointers.resolve_fragment(tree, fragment), uri or base
        except (KeyError, ValueError) as exc:
            raise RefError(f"$ref '{ref}' points at nothing ({exc.args[0] if exc.args else exc})") from exc

    def resolve(self, node: Any, base: str) -> tuple[Any, str]:
        """Follow ``$ref`` at the top of a node until a real object; returns it and its document URI."""
        seen: list[str] = []
        siblings: dict[str, Any] = {}
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            key = urljoin(base, ref)
            if key in seen or len(seen) > _MAX_CHAIN:
                raise RefError("circular $ref: " + " → ".join([*seen, key]))
            seen.append(key)
            if self._merge:
                siblings = {**{k: v for k, v in node.items() if k != "$ref"}, **siblings}
            node, base = self.target(ref, base)
        if siblings and isinstance(node, dict):
            node = {**node, **siblings}
        return node, base

    def deep(self, node: Any, base: str) -> Any:
        """A copy of the node with every ``$ref`` inlined; a reference back into itself is left as written."""
        return self._deep(node, base, ())

    def _deep(self, node: Any, base: str, stack: tuple[tuple[str, str], ...]) -> Any:
        if isinstance(node, list):
            return [self._deep(item, base, stack) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return {key: self._deep(value, base, stack) for key, value in node.items()}
        uri, fragment = urldefrag(urljoin(base, ref))
        key = (uri or base, fragment)
        if key in stack:
            return {"$ref": urljoin(base, ref)}  # recursive schema: keep an absolute reference
        if key not in self._memo:
            target, target_base = self.target(ref, base)
            self._memo[key] = self._deep(target, target_base, (*stack, key))
        resolved = self._memo[key]
        siblings = (
            {k: self._deep(v, base, stack) for k, v in node.items() if k != "$ref"} if self._merge else {}
        )
        if siblings and isinstance(resolved, dict):
            return {**resolved, **siblings}
        return resolved
