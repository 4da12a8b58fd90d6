"""Payload Replacement Objects: set a value at a target inside a request body.

- JSON Pointer (the default for JSON payloads): the parent must exist; the last key is created
  when absent; on an array, ``-`` or the array's length appends, a smaller index replaces.
- JSONPath: every selected location is set (none selected: the payload is unchanged). A target
  starting with ``$`` in a JSON payload is taken as JSONPath even without a type.
- XPath (the default for XML payloads): selected elements get the value as their text (their
  children are removed), selected attributes and text nodes get it as their value.

The document is never changed in place: a new one is returned. A JSON payload given as text comes
back as text, an XML payload in the type (str or bytes) it came in.

XPath support (elementpath, lxml) is imported only when an XPath target is replaced.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, MutableMapping, MutableSequence
from typing import Any, Literal

from spola.criteria.queries import compile_query
from spola.criteria.types import SELECTOR_TYPES, expression_type
from spola.errors import ExpressionError, Location
from spola.expr import MISSING, join_pointer, resolve_pointer, split_pointer, stringify
from spola.expr.navigate import PointerSyntaxError


def _fail(target: str, problem: str) -> ExpressionError:
    return ExpressionError(f"replacement target `{target}`: {problem}")


def _set_pointer(document: Any, target: str, value: Any) -> Any:
    try:
        tokens = split_pointer(target)
    except PointerSyntaxError as exc:
        raise ExpressionError(f"invalid JSON Pointer `{target}`: {exc}", Location(offset=exc.offset)) from exc
    if not tokens:
        return value
    parent_pointer = join_pointer(tokens[:-1])
    parent = resolve_pointer(document, parent_pointer)
    last = tokens[-1]
    if isinstance(parent, MutableMapping):
        parent[last] = value
    elif isinstance(parent, MutableSequence):
        if last == "-" or last == str(len(parent)):
            parent.append(value)
        elif last.isdigit() and (last == "0" or not last.startswith("0")) and int(last) < len(parent):
            parent[int(last)] = value
        else:
            raise _fail(target, f"{last!r} is not an index of the array at `{parent_pointer or '/'}`")
    elif parent is MISSING:
        raise _fail(target, f"`{parent_pointer}` does not exist in the payload")
    else:
        raise _fail(target, f"`{parent_pointer or '/'}` is neither an object nor an array")
    return document


def _set_jsonpath(document: Any, target: str, value: Any, version: str) -> Any:
    query = compile_query(target, version)
    matches = list(query.finditer(document))
    for match in matches:
        if not match.parts:
            return value
        parent = match.parent.obj if match.parent is not None else None
        key = match.parts[-1]
        try:
            parent[key] = value  # type: ignore[index]
        except (TypeError, IndexError, KeyError) as exc:
            raise _fail(target, f"cannot set {match.path}") from exc
    return document


def _set_xpath(document: Any, target: str, value: Any, version: str) -> Any:
    import elementpath
    from lxml import etree

    from spola.criteria.xpath import parse_xml, prepare_xpath, run_xpath

    program = prepare_xpath(target, version)
    if not isinstance(document, str | bytes | bytearray):
        raise _fail(target, "an XPath target needs an XML payload given as text")
    try:
        tree = parse_xml(document)
        nodes = run_xpath(program, tree)
    except (ValueError, elementpath.ElementPathError) as exc:
        raise _fail(target, str(exc)) from exc
    text = stringify(value)
    for node in nodes if isinstance(nodes, list) else ():
        if isinstance(node, elementpath.AttributeNode):
            node.parent.elem.set(node.name, text)  # type: ignore[union-attr]
        elif isinstance(node, elementpath.TextNode):
            node.parent.elem.text = text  # type: ignore[union-attr]
        elif isinstance(node, elementpath.ElementNode):
            element: Any = node.value
            for child in list(element):
                element.remove(child)
            element.text = text
        else:
            raise _fail(target, f"selects {type(node).__name__}, which cannot be set")
    serialized = etree.tostring(tree, encoding="unicode")
    original = document.decode("utf-8", "replace") if isinstance(document, bytes | bytearray) else document
    declaration = re.match(r"\s*<\?xml[^>]*\?>\s*", original)
    if declaration and not serialized.startswith("<?xml"):
        serialized = declaration.group().strip() + "\n" + serialized
    return serialized.encode("utf-8") if isinstance(document, bytes | bytearray) else serialized


def replace(
    document: Any,
    target: str,
    value: Any,
    *,
    selector_type: str | Mapping[str, Any] | None = None,
    version: str | None = None,
    media: Literal["json", "xml"] = "json",
) -> Any:
    """Return a copy of ``document`` with ``value`` set at ``target``.

    ``selector_type`` is ``jsonpointer``, ``jsonpath``, ``xpath`` or an Expression Type Object;
    without it, JSON payloads use JSON Pointer (JSONPath when the target starts with ``$``) and
    XML payloads use XPath.

    Raises:
        ExpressionError: when the target does not parse or cannot be set in this document.
    """
    if selector_type is None:
        selector_type = "xpath" if media == "xml" else "jsonpath" if target.startswith("$") else "jsonpointer"
    kind, version = expression_type(selector_type, version, allowed=SELECTOR_TYPES)
    assert version is not None
    if kind == "xpath":
        return _set_xpath(document, target, value, version)
    as_text = isinstance(document, str | bytes | bytearray)
    if as_text:
        try:
            data = json.loads(document)
        except ValueError as exc:
            raise _fail(target, "the payload is not JSON") from exc
    else:
        data = copy.deepcopy(document)
    value = copy.deepcopy(value)
    if kind == "jsonpath":
        data = _set_jsonpath(data, target, value, version)
    else:
        data = _set_pointer(data, target, value)
    return json.dumps(data, ensure_ascii=False) if as_text else data
