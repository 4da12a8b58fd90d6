"""spola.jsoncodec against the standard library: the same values read, the same errors, JSON written
that reads back to the same value."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spola import jsoncodec

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and the type of each number kept (1 is not 1.0 here)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _outcome(parse: Any, data: bytes | str) -> tuple[str, Any]:
    try:
        return "value", parse(data)
    except ValueError as exc:
        return "error", type(exc)
    except RecursionError:
        return "error", RecursionError


def _agree(data: bytes | str) -> None:
    ours, theirs = _outcome(jsoncodec.loads, data), _outcome(json.loads, data)
    assert ours[0] == theirs[0], (data, ours, theirs)
    if ours[0] == "value":
        assert _same(ours[1], theirs[1]), (data, ours, theirs)
    else:
        assert issubclass(ours[1], theirs[1]) or ours[1] is theirs[1], (data, ours, theirs)


@settings(max_examples=400)
@given(VALUES, st.sampled_from([None, 0, 2]), st.booleans())
def test_well_formed_json_reads_as_the_standard_library_reads_it(
    value: Any, indent: int | None, ascii_: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_)
    _agree(text)
    _agree(text.encode())


JSONISH = st.text(
    alphabet='{}[]":,. -+eE0123456789tfnrulasNIinfyx\\u\t\n\x00\x1f\u00e9\ud800\U0001f600', max_size=40
)


@settings(max_examples=1500)
@given(JSONISH)
def test_any_text_is_read_or_refused_as_the_standard_library_does(text: str) -> None:
    _agree(text)
    try:
        raw = text.encode()
    except UnicodeEncodeError:
        return
    _agree(raw)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": NaN}',
        b"Infinity",
        b"-Infinity",
        b"1e400",
        b"-1e400",
        b'"\\ud800"',
        b'"\\udc00x"',
        b"123456789012345678901234567890",
        b"1.5e-400",
        b'{"a": 1, "a": 2}',
        b"\xef\xbb\xbf{}",
        '{"é": "ü"}'.encode("utf-16"),
        '[1, "x"]'.encode("utf-32"),
        b'"\xff"',
        b"[1,]",
        b"{,}",
        b"[" * 5000 + b"]" * 5000,
        b" 1 ",
        b"",
        b"tru",
        b'"a\x01"',
        b"01",
        b"-",
        b"1.",
        b".5",
    ],
)
def test_edges_read_as_the_standard_library_reads_them(data: bytes) -> None:
    _agree(data)
    with contextlib.suppress(UnicodeDecodeError):
        _agree(data.decode())


@settings(max_examples=400)
@given(VALUES)
def test_written_json_reads_back_to_the_same_value(value: Any) -> None:
    for written in (jsoncodec.dumps_bytes(value), jsoncodec.dumps_text(value).encode()):
        assert _same(json.loads(written), value)
    assert jsoncodec.dumps_text(value) == jsoncodec.dumps_bytes(value).decode()


def test_writing_is_compact_and_keeps_utf8() -> None:
    assert jsoncodec.dumps_bytes({"a": [1, "é", None, True]}) == '{"a":[1,"é",null,true]}'.encode()


def test_what_msgspec_cannot_write_goes_to_the_standard_library_with_its_default() -> None:
    class Thing:
        def __str__(self) -> str:
            return "thing"

    assert jsoncodec.dumps_text({True: 1, None: 2}) == '{"true":1,"null":2}'
    assert jsoncodec.dumps_text({"x": Thing()}, default=str) == '{"x":"thing"}'
    with pytest.raises(TypeError):
        jsoncodec.dumps_text({"x": Thing()})
    with pytest.raises(TypeError):
        jsoncodec.dumps_bytes({(1, 2): 3})


def test_nan_and_infinity_are_written_as_null() -> None:
    assert jsoncodec.dumps_text([math.nan, math.inf, -math.inf]) == "[null,null,null]"


def test_str_subclasses_such_as_header_names_are_written_as_their_text_by_msgspec() -> None:
    from multidict import CIMultiDict

    headers = CIMultiDict({"Content-Type": "application/json", "X-A": "1"})
    written = jsoncodec.dumps_text([list(pair) for pair in headers.items()])
    assert written == '[["Content-Type","application/json"],["X-A","1"]]'
    assert jsoncodec.dumps_text({"k": next(iter(headers))}) == '{"k":"Content-Type"}'


def test_no_fallback_for_what_a_response_row_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A journalled exchange (header pairs with aiohttp's istr names, text, numbers) never needs
    the slow path."""
    from multidict import CIMultiDict

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("json.dumps fallback used")

    monkeypatch.setattr(jsoncodec.json, "dumps", refuse)
    headers = tuple(CIMultiDict({"Content-Type": "application/json"}).items())
    assert jsoncodec.dumps_text([list(pair) for pair in headers], default=str)
    assert jsoncodec.dumps_text({"headers": [list(p) for p in headers], "bodyBytes": 3, "body": "{}"})
