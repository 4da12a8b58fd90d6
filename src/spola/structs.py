"""Helpers for spola's `msgspec.Struct` classes, where dataclasses had a generated behaviour.

spola's plain-data classes are `msgspec.Struct`s: defining one costs ~0.04 ms instead of a
dataclass's ~1.3 ms (each of a dataclass's methods is compiled from source when the class is
created), which is most of what ~100 classes added to every start-up. Structs have no per-field
``repr=False`` / ``compare=False`` and their ``asdict`` is shallow; the helpers here give those
back where a class needs them, with the output the dataclass produced.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, ClassVar

from msgspec import Struct


def asdict(obj: Struct) -> dict[str, Any]:
    """``dataclasses.asdict`` for a Struct: nested Structs (and dataclasses) become dicts, lists,
    tuples and dicts are rebuilt, anything else is deep-copied; the same output the dataclass gave."""
    return {name: _inner(getattr(obj, name)) for name in obj.__struct_fields__}


def _inner(value: Any) -> Any:
    if isinstance(value, Struct):
        return asdict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple, as dataclasses does
        return type(value)(*[_inner(v) for v in value])
    if isinstance(value, list | tuple):
        return type(value)(_inner(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_inner(k), _inner(v)) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return copy.deepcopy(value)


def repr_without(obj: Struct, hidden: frozenset[str]) -> str:
    """``ClassName(field=value, ...)`` without the fields in ``hidden`` (a dataclass's ``repr=False``)."""
    shown = ", ".join(
        f"{name}={getattr(obj, name)!r}" for name in obj.__struct_fields__ if name not in hidden
    )
    return f"{type(obj).__qualname__}({shown})"


def compared(obj: object, names: tuple[str, ...]) -> tuple[Any, ...]:
    """The values of ``names``: what a class with ``compare=False`` fields compares and hashes."""
    return tuple(getattr(obj, name) for name in names)


def eq_on(obj: object, other: object, names: tuple[str, ...]) -> bool:
    """A dataclass's ``__eq__`` on the fields ``names`` only (the others had ``compare=False``)."""
    if other.__class__ is not obj.__class__ or not isinstance(other, Struct):
        return NotImplemented  # type: ignore[no-any-return]
    return bool(compared(obj, names) == compared(other, names))


def ne_on(obj: object, other: object, names: tuple[str, ...]) -> bool:
    """``not eq_on(...)``, as ``object.__ne__`` gives a dataclass (a Struct's own ``__ne__`` would not)."""
    equal = eq_on(obj, other, names)
    return equal if equal is NotImplemented else not equal


class ComparedOn:
    """A mixin for a Struct that compares and hashes on the fields named in ``_COMPARED`` only (the
    others, caches mostly, had ``compare=False`` as dataclass fields). List it before ``Struct``:
    ``class Check(ComparedOn, Struct, frozen=True, eq=False)``."""

    __slots__ = ()
    _COMPARED: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        return eq_on(self, other, self._COMPARED)

    def __ne__(self, other: object) -> bool:
        return ne_on(self, other, self._COMPARED)

    def __hash__(self) -> int:
        return hash(compared(self, self._COMPARED))
