"""Walking into values: JSON Pointers (RFC 6901), dotted names, keys and indexes.

Every walk answers `MISSING` when its target does not exist; none raises on data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spola import jsoncodec
from spola.expr.scope import MISSING


class PointerSyntaxError(ValueError):
    """A JSON Pointer is malformed; ``offset`` is the index of the problem inside the pointer."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def split_pointer(pointer: str) -> tuple[str, ...]:
    """Split a JSON Pointer into its unescaped reference tokens (``~1`` → ``/``, ``~0`` → ``~``).

    Raises:
        PointerSyntaxError: when the pointer is neither empty nor starts with ``/``, or holds a
            ``~`` not followed by ``0`` or ``1``.
    """
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise PointerSyntaxError("a JSON Pointer must be empty or start with '/'", 0)
    index = pointer.find("~")
    while index != -1:
        if pointer[index + 1 : index + 2] not in ("0", "1"):
            raise PointerSyntaxError("'~' in a JSON Pointer must be followed by '0' or '1'", index)
        index = pointer.find("~", index + 2)
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def escape_token(token: str) -> str:
    """Escape one reference token for use in a JSON Pointer."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(tokens: Sequence[str | int]) -> str:
    """Build a JSON Pointer from reference tokens."""
    return "".join("/" + escape_token(str(token)) for token in tokens)


def _array_index(token: str, size: int) -> int | None:
    """The array index an RFC 6901 token names, or None (no leading zeros, no signs)."""
    if not token.isdigit() or not token.isascii() or (len(token) > 1 and token[0] == "0"):
        return None
    index = int(token)
    return index if index < size else None


def _as_json(value: Any) -> Any:
    """A text or bytes value that holds JSON, parsed; anything else unchanged."""
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                return jsoncodec.loads(value)
            except ValueError:
                return value
    return value


def resolve_tokens(value: Any, tokens: Sequence[str]) -> Any:
    """Follow already-split pointer tokens from ``value``; `MISSING` when a token has no target.

    A JSON text (a ``str`` or ``bytes`` holding an object or array) is parsed before walking.
    """
    current = value
    for token in tokens:
        if type(current) is dict:  # parsed JSON: the common case, in one look-up
            current = current.get(token, MISSING)
            if current is MISSING:
                return MISSING
            continue
        current = _as_json(current)
        if isinstance(current, Mapping):
            current = current.get(token, MISSING)
        elif isinstance(current, Sequence) and not isinstance(current, str | bytes | bytearray):
            index = _array_index(token, len(current))
            current = MISSING if index is None else current[index]
        else:
            return MISSING
        if current is MISSING:
            return MISSING
    return current


def resolve_pointer(value: Any, pointer: str) -> Any:
    """Resolve a JSON Pointer against ``value``; `MISSING` when the target does not exist."""
    return resolve_tokens(value, split_pointer(pointer))


def _length(value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        return len(value)
    return MISSING


def step(value: Any, key: str | int) -> Any:
    """One navigation step: a key of an object, an index of an array (negative counts from the end).

    ``length`` on an array or string that has no such key answers its length (a JavaScript habit
    real documents rely on). Anything else that does not exist is `MISSING`.
    """
    value = _as_json(value)
    if isinstance(value, Mapping):
        if isinstance(key, int):
            return value.get(str(key), MISSING)
        return value.get(key, MISSING)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        if isinstance(key, str):
            if key == "length":
                return len(value)
            if not key.isdigit():
                return MISSING
            key = int(key)
        if -len(value) <= key < len(value):
            return value[key]
        return MISSING
    if isinstance(value, str) and key == "length":
        return _length(value)
    return MISSING


def lookup_dotted(value: Any, name: str) -> Any:
    """Look ``name`` up in ``value``: the exact key first, else walk its dot-separated segments.

    At each level the longest run of segments that is a key wins, so an input named ``a.b`` and
    an object ``{"a": {"b": 1}}`` both answer ``$inputs.a.b``.
    """
    value = _as_json(value)
    if isinstance(value, Mapping) and name in value:
        return value[name]
    if "." not in name:
        return step(value, name)
    return _walk(value, name.split("."))


def _walk(value: Any, segments: list[str]) -> Any:
    if not segments:
        return value
    value = _as_json(value)
    if isinstance(value, Mapping):
        for cut in range(len(segments), 0, -1):
            key = ".".join(segments[:cut])
            if key in value:
                found = _walk(value[key], segments[cut:])
                if found is not MISSING:
                    return found
        return MISSING
    nxt = step(value, segments[0])
    return MISSING if nxt is MISSING else _walk(nxt, segments[1:])
