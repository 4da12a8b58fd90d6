"""JSON in and out on the hot path: msgspec's C codec where it gives what the standard library gives,
the standard library where it does not.

Reading: `loads` returns exactly what ``json.loads`` returns for every input, or raises what it
raises: msgspec decodes (3-4x faster on a typical poll body); whatever msgspec refuses (NaN and
Infinity, numbers out of a double's range, lone surrogates, UTF-16 input, malformed text) goes to
``json.loads``, which then decides as it always did (the differential tests in
tests/unit/test_jsoncodec.py hold the two to that).

Writing: `dumps_bytes` / `dumps_text` give compact JSON (no spaces, UTF-8 as is: what
``json.dumps(separators=(",", ":"), ensure_ascii=False)`` gives, ~10x faster). Two differences,
both towards valid JSON: a float NaN or infinity is written ``null`` (``json`` writes the invalid
tokens ``NaN`` / ``Infinity``), and msgspec also encodes types ``json`` refuses (tuples and sets as
arrays, dates and times in ISO 8601, UUIDs, enums by value). A value msgspec cannot encode (a
non-string, non-integer key, an unknown object) goes to ``json.dumps`` with the caller's
``default``, so it fails or falls back exactly as before.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable


def _plain(value: Any) -> Any:
    """msgspec's hook for what it does not know: a ``str`` subclass (aiohttp's case-insensitive
    header names) is its text, as ``json`` writes it; anything else is refused (`dumps_*` then
    fall back to ``json`` and the caller's ``default``)."""
    if isinstance(value, str):
        return str.__str__(value)
    raise TypeError(f"Encoding objects of type {type(value).__name__} is unsupported")


_DECODE = msgspec.json.Decoder().decode
_ENCODE = msgspec.json.Encoder(enc_hook=_plain).encode
_REFUSED = (msgspec.DecodeError, UnicodeEncodeError)
_CANNOT = (TypeError, msgspec.EncodeError, OverflowError)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON text (``bytes`` as UTF-8, or ``str``): ``json.loads``'s result, or its error."""
    try:
        return _DECODE(data)
    except _REFUSED:
        if isinstance(data, memoryview):
            data = bytes(data)
        return json.loads(data)


def dumps_bytes(value: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON of ``value`` as UTF-8 bytes (see the module's notes on NaN and extra types)."""
    try:
        return _ENCODE(value)
    except _CANNOT:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default).encode()


def dumps_text(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Compact JSON of ``value`` as text (`dumps_bytes`, decoded)."""
    return dumps_bytes(value, default=default).decode()
