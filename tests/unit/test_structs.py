"""spola.structs: what msgspec Structs need of dataclasses' generated behaviour."""

from __future__ import annotations

from msgspec import Struct, field

from spola.redact import Redactor
from spola.structs import ComparedOn, asdict


class _Check(ComparedOn, Struct, frozen=True, eq=False):
    text: str
    cache: dict[str, int] = field(default_factory=dict)
    _COMPARED = ("text",)


def test_compared_on_leaves_the_other_fields_out_of_equality_and_hash() -> None:
    a, b = _Check("x"), _Check("x", {"warm": 1})
    assert a == b and (a != b) is False and hash(a) == hash(b)
    assert _Check("y") != a and (_Check("y") == a) is False
    assert (a == "x") is False and a != "x"  # another type: NotImplemented, then identity


def test_a_redactor_compares_on_its_secrets_and_never_shows_them() -> None:
    one = Redactor(frozenset({"s3cret-value"}))
    assert one == Redactor(frozenset({"s3cret-value"})) and one != Redactor(frozenset({"other"}))
    assert "s3cret" not in repr(one)


class _Inner(Struct):
    n: int


class _Outer(Struct):
    inner: _Inner
    items: list[_Inner]


def test_asdict_is_recursive_like_dataclasses() -> None:
    assert asdict(_Outer(_Inner(1), [_Inner(2)])) == {"inner": {"n": 1}, "items": [{"n": 2}]}
