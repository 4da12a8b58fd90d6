"""YAML / JSON text → a plain tree plus where each node starts (JSON Pointer → line, column).

Safe loading only. Timestamps stay strings and mapping keys stay the text written, so the tree is
what the same document written in JSON would give.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from msgspec import Struct, field

from spola.errors import Finding, Location
from spola.limits import DEFAULT_LOAD_LIMITS, LoadLimits
from spola.model.pointers import join

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_NODES = 2_000_000  # guards the position walk against alias bombs


class _Loader(_Base):  # type: ignore[misc]
    """The C safe loader, with JSON-like keys and timestamps kept as text."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key: Any = key_node.value
            else:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, list | dict):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        "found a key that is not a string",
                        key_node.start_mark,
                    )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)


class Parsed(Struct, frozen=True):
    """A parsed document: the tree, node positions (1-based) by JSON Pointer, and problems found."""

    data: Any
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the text parsed (duplicate-key findings do not stop the tree from being usable)."""
        return not any(f.rule == "syntax" for f in self.findings)


def parse_text(
    text: str, file: str | None, *, positions: bool = True, limits: LoadLimits = DEFAULT_LOAD_LIMITS
) -> Parsed:
    """Parse YAML (or JSON) text; never raises for bad input, returns findings instead.

    Before anything is built, the node graph is measured: more than ``limits.max_nodes`` nodes once
    aliases are expanded (an alias bomb), a recursive alias, or nesting deeper than
    ``limits.max_depth`` is a finding, found in time proportional to the text.

    Args:
        text: the document text.
        file: shown in findings.
        positions: record line/column per JSON Pointer (slower; meant for Arazzo documents).
        limits: the node and depth budget.
    """
    try:
        return _parse(text, file, positions, limits)
    except RecursionError:
        return Parsed(None, findings=(_syntax(file, "the document nests too deeply to be read", None, None),))


def _parse(text: str, file: str | None, positions: bool, limits: LoadLimits) -> Parsed:
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            problem = _measure(node, limits) if node is not None else None
            if problem is not None:
                return Parsed(None, findings=(_syntax(file, problem, None, None),))
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        return _json_fallback(text, file, exc)
    if node is None:
        return Parsed(None)
    if not positions:
        return Parsed(data)
    walker = _PositionWalker(file)
    walker.walk(node, "")
    return Parsed(data, walker.positions, tuple(walker.findings))


def _measure(root: yaml.Node, limits: LoadLimits) -> str | None:
    """Why the node graph is over budget (expanded size, recursive alias, depth), or None.

    Iterative and memoised by node identity, so shared (aliased) nodes are measured once.
    """
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if expanded:
            on_path.discard(key)
            size, depth = 1, 0
            for child in _children(node):
                size += sizes[id(child)]
                depth = max(depth, depths[id(child)])
            sizes[key] = size
            depths[key] = depth + 1
            if size > limits.max_nodes:
                return (
                    f"the document expands to more than {limits.max_nodes:,} nodes (YAML aliases: an "
                    "alias bomb?); refused before reading it (--max-document-nodes)"
                )
            if depth + 1 > limits.max_depth:
                return (
                    f"the document nests deeper than {limits.max_depth} levels; refused before reading "
                    "it (--max-document-depth)"
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            return "the document has a YAML alias that contains itself (a recursive alias)"
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            child_key = id(child)
            if child_key in on_path:
                return "the document has a YAML alias that contains itself (a recursive alias)"
            if child_key not in sizes:
                stack.append((child, False))
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        out: list[yaml.Node] = []
        for key_node, value_node in node.value:
            out.append(key_node)
            out.append(value_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _json_fallback(text: str, file: str | None, exc: yaml.YAMLError) -> Parsed:
    if text.lstrip().startswith(("{", "[")):
        try:
            return Parsed(json.loads(text))
        except json.JSONDecodeError as jexc:
            return Parsed(
                None, findings=(_syntax(file, f"invalid JSON: {jexc.msg}", jexc.lineno, jexc.colno),)
            )
    return Parsed(None, findings=(_yaml_finding(file, exc),))


def _yaml_finding(file: str | None, exc: yaml.YAMLError) -> Finding:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    text = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is None:
        return _syntax(file, text, None, None)
    return _syntax(file, text, mark.line + 1, mark.column + 1)


def _syntax(file: str | None, message: str, line: int | None, column: int | None) -> Finding:
    return Finding(message, Location(file=file, line=line, column=column), rule="syntax")


class _PositionWalker:
    def __init__(self, file: str | None) -> None:
        self.file = file
        self.positions: dict[str, tuple[int, int]] = {}
        self.findings: list[Finding] = []
        self.count = 0

    def walk(self, node: yaml.Node, pointer: str, mark: yaml.Mark | None = None) -> None:
        self.count += 1
        if self.count > _MAX_NODES:
            return
        start = mark or node.start_mark
        self.positions[pointer] = (start.line + 1, start.column + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                if key in seen:
                    where = key_node.start_mark
                    self.findings.append(
                        Finding(
                            f"duplicate key '{key}' (the last one wins)",
                            Location(self.file, where.line + 1, where.column + 1, join(pointer, key)),
                            rule="syntax-duplicate-key",
                        )
                    )
                seen.add(key)
                self.walk(value_node, join(pointer, key), key_node.start_mark)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, join(pointer, index))
