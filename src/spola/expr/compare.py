"""The loose comparisons of `simple` conditions (Arazzo 1.1, Criterion Object).

- `MISSING` behaves as ``null``; ``null`` equals only ``null``; an ordering with ``null`` is false.
- Strings compare case-insensitively (``==`` and ordering alike).
- A numeric string compared with a number is read as a number; two numeric strings are ordered
  as numbers (``'10' > '9'``) but are equal only as strings.
- ``true``/``false`` equal the strings ``'true'``/``'false'`` (any case), never numbers.
- Arrays and objects are equal when their members are (with these same rules); never ordered.
- ``!=`` is the negation of ``==``.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from spola.expr.scope import MISSING

_NUMERIC: Final = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*\Z")
_ORDER: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def is_number(value: Any) -> bool:
    """True for int, float and Decimal values (never for bool)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def as_number(text: str) -> int | float | None:
    """The number a numeric string spells (``' 42 '`` → 42, ``'1e3'`` → 1000.0), else None."""
    if not _NUMERIC.match(text):
        return None
    stripped = text.strip()
    if re.fullmatch(r"[-+]?\d+", stripped):
        return int(stripped)
    return float(stripped)


def _string_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    return {"true": True, "false": False}.get(lowered)


def _null(value: Any) -> Any:
    return None if value is MISSING else value


def loose_equal(left: Any, right: Any) -> bool:
    """``left == right`` under the simple-condition rules."""
    if type(left) is int and type(right) is int:  # `$statusCode == 200`, the commonest comparison
        return left == right
    left, right = _null(left), _null(right)
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left == right
        other, flag = (right, left) if isinstance(left, bool) else (left, right)
        return isinstance(other, str) and _string_bool(other) == flag
    if is_number(left) and is_number(right):
        return bool(left == right)
    if is_number(left) and isinstance(right, str):
        return bool(as_number(right) == left)
    if isinstance(left, str) and is_number(right):
        return bool(as_number(left) == right)
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(loose_equal(left[k], right[k]) for k in left)
    if _is_array(left) and _is_array(right):
        return len(left) == len(right) and all(loose_equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _is_array(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def loose_order(op: str, left: Any, right: Any) -> bool:
    """``left op right`` for ``<``, ``<=``, ``>``, ``>=`` under the simple-condition rules."""
    left, right = _null(left), _null(right)
    compare = _ORDER[op]
    if is_number(left) and is_number(right):
        return bool(compare(left, right))
    if is_number(left) and isinstance(right, str):
        number = as_number(right)
        return number is not None and bool(compare(left, number))
    if isinstance(left, str) and is_number(right):
        number = as_number(left)
        return number is not None and bool(compare(number, right))
    if isinstance(left, str) and isinstance(right, str):
        a, b = as_number(left), as_number(right)
        if a is not None and b is not None:
            return bool(compare(a, b))
        return bool(compare(left.casefold(), right.casefold()))
    return False


def loose_compare(op: str, left: Any, right: Any) -> bool:
    """Apply any comparison operator under the simple-condition rules."""
    if op == "==":
        return loose_equal(left, right)
    if op == "!=":
        return not loose_equal(left, right)
    return loose_order(op, left, right)


def loose_truthy(value: Any) -> bool:
    """Whether a value passes on its own: ``null``/`MISSING`, ``false``, ``0``, ``''``, ``'false'``
    and empty arrays/objects fail; everything else passes."""
    value = _null(value)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value.strip() != "" and _string_bool(value) is not False
    if isinstance(value, Mapping) or _is_array(value):
        return len(value) > 0
    return bool(value)
