"""JSON Pointers (RFC 6901): build, split, and follow them through plain YAML/JSON trees."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

_MISSING = object()


def escape(token: str | int) -> str:
    """Escape one reference token: ``~`` → ``~0``, ``/`` → ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join(pointer: str, *tokens: str | int) -> str:
    """Append reference tokens to a pointer: ``join("/workflows", 0)`` → ``/workflows/0``."""
    return pointer + "".join("/" + escape(t) for t in tokens)


def split(pointer: str) -> list[str]:
    """The unescaped reference tokens of a pointer (``""`` → ``[]``).

    Raises:
        ValueError: the pointer is neither empty nor starts with ``/``.
    """
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON Pointer must be empty or start with '/': {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def resolve(tree: Any, pointer: str) -> Any:
    """The node a pointer designates in a tree of dicts and lists.

    Raises:
        KeyError: nothing is there (the message names the first missing token).
        ValueError: the pointer is malformed.
    """
    node = tree
    walked = ""
    for token in split(pointer):
        node = _step(node, token)
        if node is _MISSING:
            raise KeyError(f"nothing at {walked + '/' + escape(token)!r}")
        walked = join(walked, token)
    return node


def resolve_fragment(tree: Any, fragment: str) -> Any:
    """Follow a URI fragment used as a JSON Pointer, percent-decoding it when the literal form fails.

    Raises:
        KeyError: nothing is there. ValueError: the fragment is not a JSON Pointer.
    """
    try:
        return resolve(tree, fragment)
    except KeyError:
        decoded = unquote(fragment)
        if decoded == fragment:
            raise
        return resolve(tree, decoded)


def _step(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        return node.get(token, _MISSING)
    if isinstance(node, list):
        canonical = token.isdigit() and (len(token) == 1 or not token.startswith("0"))
        if canonical and int(token) < len(node):
            return node[int(token)]
        return _MISSING
    return _MISSING
