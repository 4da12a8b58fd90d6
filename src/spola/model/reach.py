"""What one run can reach: a problem is judged where it lives.

``spola run DOC -w ID`` refuses only for problems in what that run can reach — the workflow, the
workflows its steps run, its ``dependsOn``, the workflows its actions ``goto``, the components they use
and the source descriptions they call. ``reach`` computes that set from the document's raw tree (so a
part the builder had to drop still counts) and ``in_reach`` says whether a finding lies inside it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from spola.model.pointers import join
from spola.model.refs_text import parse_qualified

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.model.document import Document

_SOURCE = re.compile(r"\$sourceDescriptions\.([A-Za-z0-9_\-]+)")
_COMPONENT = re.compile(
    r"\$components\.(inputs|parameters|successActions|failureActions)\.([a-zA-Z0-9.\-_]+)"
)
_LOCAL_REF = re.compile(r"^#(/components/.+)$")
_WORKFLOW_EXPR = re.compile(r"\$workflows\.([^{}$]+?)\.(?:inputs|outputs|steps)(?![A-Za-z0-9_])")


class Reach(Struct, frozen=True):
    """The JSON Pointer prefixes (in the document's own file) one run can reach."""

    file: str | None
    prefixes: frozenset[str]
    all_sources: bool

    def covers(self, pointer: str) -> bool:
        """True when the pointer lies inside something the run reaches."""
        parts = pointer.split("/")
        if len(parts) < 3 or parts[1] not in ("workflows", "components", "sourceDescriptions"):
            return True  # the root, /arazzo, /info, a whole array: every run needs them
        if parts[1] == "components" and len(parts) < 4:
            return True
        if parts[1] == "sourceDescriptions" and self.all_sources:
            return True
        depth = 4 if parts[1] == "components" else 3
        return "/".join(parts[:depth]) in self.prefixes


def _strings(node: Any) -> Iterator[tuple[str | None, str]]:
    """Every string in a raw tree, with the key it is the value of."""
    stack: list[tuple[str | None, Any]] = [(None, node)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, str):
            yield key, item
        elif isinstance(item, dict):
            stack.extend((str(k), v) for k, v in item.items())
            stack.extend((None, str(k)) for k in item if isinstance(k, str) and k.startswith("$"))
        elif isinstance(item, list):
            stack.extend((key, v) for v in item)


def _at(raw: Any, pointer: str) -> Any:
    node = raw
    for escaped in pointer.split("/")[1:]:
        token = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def reach(document: Document, workflow_id: str) -> Reach:
    """The parts of ``document`` a run of ``workflow_id`` can reach."""
    raw: dict[str, Any] = document.raw if isinstance(document.raw, dict) else {}
    workflows: list[Any] = raw["workflows"] if isinstance(raw.get("workflows"), list) else []
    by_id: dict[str, list[int]] = {}
    for index, item in enumerate(workflows):
        if isinstance(item, dict) and isinstance(item.get("workflowId"), str):
            by_id.setdefault(item["workflowId"], []).append(index)
    sources: list[Any] = raw["sourceDescriptions"] if isinstance(raw.get("sourceDescriptions"), list) else []
    source_index = {
        s["name"]: i for i, s in enumerate(sources) if isinstance(s, dict) and isinstance(s.get("name"), str)
    }
    prefixes: set[str] = set()
    all_sources = len(sources) <= 1
    todo = [join("/workflows", i) for i in by_id.get(workflow_id, [])]
    while todo:
        pointer = todo.pop()
        if pointer in prefixes:
            continue
        prefixes.add(pointer)
        for key, text in _strings(_at(raw, pointer)):
            targets: list[str] = []
            if key in ("workflowId", "dependsOn") and pointer.startswith("/workflows/"):
                parsed = parse_qualified(text)
                if parsed is not None and parsed[0] is None:
                    targets.extend(join("/workflows", i) for i in by_id.get(parsed[1], []))
            targets.extend(
                join("/workflows", i)
                for m in _WORKFLOW_EXPR.finditer(text)
                for i in by_id.get(m.group(1), [])
            )
            targets.extend(join("/components", m.group(1), m.group(2)) for m in _COMPONENT.finditer(text))
            local = _LOCAL_REF.match(text) if key == "$ref" else None
            if local:
                targets.append("/".join(local.group(1).split("/")[:4]))
            for m in _SOURCE.finditer(text):
                if m.group(1) in source_index:
                    prefixes.add(join("/sourceDescriptions", source_index[m.group(1)]))
            todo.extend(t for t in targets if t not in prefixes)
    for workflow in document.workflows:
        if workflow.pointer not in prefixes:
            continue
        for step in workflow.steps:
            if step.workflow_id is not None or step.channel_path is not None:
                continue
            operation = document.operations.get(step.pointer)
            if operation is not None and operation.source in source_index:
                prefixes.add(join("/sourceDescriptions", source_index[operation.source]))
            elif operation is None:
                all_sources = True  # unresolved: any source may be the one it needs
    return Reach(document.path, frozenset(prefixes), all_sources)


def in_reach(finding: Finding, where: Reach) -> bool:
    """True when a finding lies in what the run reaches (findings in other files count as reached)."""
    location = finding.location
    if location.file is not None and where.file is not None and location.file != where.file:
        return True
    if location.pointer is None:
        return True
    return where.covers(location.pointer)
