"""`spola.idcache`: values made once per key object, checked by identity, bounded, a leaf module."""

from __future__ import annotations

import ast
from pathlib import Path

from spola.idcache import by_identity, by_identity_pair


class Key:
    """Equal to every other Key: only identity may tell two apart."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key)

    def __hash__(self) -> int:
        return 0


def test_a_value_is_made_once_per_key_object_and_equal_keys_are_not_confused() -> None:
    made: list[Key] = []

    def make(key: Key) -> list[Key]:
        made.append(key)
        return [key]

    cached = by_identity(make, limit=8)
    a, b = Key(), Key()
    assert cached(a) == [a] and cached(a)[0] is a
    assert cached(b)[0] is b  # equal to a, yet its own value
    assert cached(a)[0] is a and cached(b)[0] is b
    assert [id(k) for k in made] == [id(a), id(b)]


def test_the_cache_is_dropped_when_it_reaches_its_limit() -> None:
    calls: list[int] = []
    cached = by_identity(lambda key: calls.append(1) or key, limit=2)
    a, b, c = Key(), Key(), Key()
    cached(a), cached(b), cached(a)
    assert len(calls) == 2
    cached(c)  # two held: dropped, then c
    cached(c)
    assert len(calls) == 3
    cached(a)  # a was dropped with the rest
    assert len(calls) == 4


def test_a_pair_is_remembered_per_pair_of_objects() -> None:
    calls: list[tuple[int, int]] = []

    def make(first: Key, second: Key) -> tuple[Key, Key]:
        calls.append((id(first), id(second)))
        return first, second

    cached = by_identity_pair(make, limit=8)
    a, b = Key(), Key()
    assert cached(a, b) == (a, b) and cached(a, b)[0] is a
    assert cached(b, a)[0] is b and cached(a, a)[1] is a
    cached(a, b), cached(b, a)
    assert calls == [(id(a), id(b)), (id(b), id(a)), (id(a), id(a))]


def test_it_imports_nothing_from_spola() -> None:
    source = Path(__file__).resolve().parents[2] / "src" / "spola" / "idcache.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not {m for m in imported if m.startswith("spola")}
