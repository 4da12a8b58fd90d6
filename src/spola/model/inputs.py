"""Workflow input schemas: ``$ref`` into the Arazzo document (``#/components/inputs/x``) resolved.

References are inlined; a recursive one is rewritten to ``#/$defs/<name>`` and the target added under
``$defs`` of the returned schema, so ``jsonschema`` can still validate against the result. References
that do not point into the document (other files, ``$anchor`` names) are kept as written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from spola.model import pointers
from spola.model.plain_schema import is_plain

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

_META: Draft202012Validator | None = None
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def resolve_inputs(schema: Any, root: dict[str, Any]) -> tuple[Any, list[str]]:
    """Inline the document-local ``$ref``s of an input schema.

    Returns:
        the resolved schema and the references that point at nothing (for findings).
    """
    state = _State(root)
    resolved = state.inline(schema, ())
    if state.defs and isinstance(resolved, dict):
        resolved = dict(resolved)
        defs = dict(resolved.get("$defs") or {})
        defs.update(state.defs)
        resolved["$defs"] = defs
    return resolved, state.missing


def schema_problem(schema: Any) -> tuple[list[str | int], str] | None:
    """Where and why a JSON Schema (2020-12) is malformed, or None when it is valid."""
    global _META  # noqa: PLW0603 - built once, on first use
    if is_plain(schema):
        return None  # valid by construction: no need to import jsonschema
    from jsonschema import Draft202012Validator  # ~150 ms to import: only once a schema is checked
    from jsonschema.exceptions import best_match

    if _META is None:
        _META = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    error = best_match(_META.iter_errors(schema))
    if error is None:
        return None
    return [p for p in error.path if isinstance(p, str | int)], error.message


class _State:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.defs: dict[str, Any] = {}
        self.missing: list[str] = []

    def inline(self, node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [self.inline(item, stack) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            return self._follow(node, ref, stack)
        return {key: self.inline(value, stack) for key, value in node.items()}

    def _follow(self, node: dict[str, Any], ref: str, stack: tuple[str, ...]) -> Any:
        try:
            target = pointers.resolve_fragment(self.root, ref[1:])
        except (KeyError, ValueError):
            self.missing.append(ref)
            return {key: self.inline(value, stack) for key, value in node.items() if key != "$ref"} | {
                "$ref": ref
            }
        siblings = {key: self.inline(value, stack) for key, value in node.items() if key != "$ref"}
        if ref in stack:
            name = _UNSAFE.sub("_", ref[2:].replace("/", "."))
            if name not in self.defs:
                self.defs[name] = {}  # placeholder first: the target may refer to itself again
                self.defs[name] = self.inline(target, (*stack, ref))
            return {**siblings, "$ref": f"#/$defs/{name}"}
        resolved = self.inline(target, (*stack, ref))
        if not siblings:
            return resolved
        return {**siblings, "allOf": [resolved]}
