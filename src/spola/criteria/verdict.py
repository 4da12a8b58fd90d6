"""The outcome of a criterion, and the shape every criterion type's checker has."""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, Final, Protocol

from msgspec import Struct

from spola.expr import MISSING

if TYPE_CHECKING:
    from spola.expr import Expression, Scope


class Verdict(Struct, frozen=True):
    """Whether a criterion passed and, when it did not, why (None when it was simply false)."""

    passed: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.passed


PASS = Verdict(True)


class Checker(Protocol):
    """Evaluates one compiled condition against its (already evaluated) context value."""

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """The runtime expressions inside the condition."""

    def check(self, context: Any, scope: Scope) -> Verdict:
        """The verdict for this context value (None for `simple`, which reads the scope)."""


_SMALL: Final = 10**15


def show(value: Any, limit: int = 60) -> str:
    """A short, readable rendering of a value for a verdict's reason."""
    kind = type(value)
    # what json.dumps answers for the plain scalars, without making an encoder for each call
    if kind is str:
        text = encode_basestring(value)
    elif (kind is int and -_SMALL < value < _SMALL) or (kind is float and math.isfinite(value)):
        text = repr(value)
    elif value is None or kind is bool:
        text = "null" if value is None else "true" if value else "false"
    else:
        return show_json(value, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_json(value: Any, limit: int = 60) -> str:
    """`show` through ``json.dumps`` for every value: what `show` answers, the long way."""
    if value is MISSING:
        return "missing"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
