"""The outcome of a criterion, and the shape every criterion type's checker has."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

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


def show(value: Any, limit: int = 60) -> str:
    """A short, readable rendering of a value for a verdict's reason."""
    if value is MISSING:
        return "missing"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
