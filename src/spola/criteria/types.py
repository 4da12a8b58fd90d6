"""Expression types and versions: the `type` / `version` pairs of Criterion and Selector Objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from spola.errors import ExpressionError

JSONPATH_RFC: Final = "rfc9535"
JSONPATH_GOESSNER: Final = "draft-goessner-dispatch-jsonpath-00"
VERSIONS: Final[dict[str, tuple[str, ...]]] = {
    "jsonpath": (JSONPATH_RFC, JSONPATH_GOESSNER),
    "xpath": ("xpath-31", "xpath-30", "xpath-20", "xpath-10"),
    "jsonpointer": ("rfc6901",),
}
"""Allowed versions per selector type, the default first."""

CRITERION_TYPES: Final = ("simple", "regex", "jsonpath", "xpath")
SELECTOR_TYPES: Final = ("jsonpath", "xpath", "jsonpointer")


def expression_type(
    raw: str | Mapping[str, Any] | None,
    version: str | None = None,
    *,
    allowed: tuple[str, ...] = SELECTOR_TYPES,
    default: str | None = None,
) -> tuple[str, str | None]:
    """Normalise a ``type`` field (a string or an Expression Type Object) and a version.

    Returns:
        ``(type, version)``; the version is the type's default when none is given, and None for
        types without versions (``simple``, ``regex``).

    Raises:
        ExpressionError: for an unknown type or a version the type does not have.
    """
    if isinstance(raw, Mapping):
        version = raw.get("version", version)
        raw = raw.get("type")
    if raw is None:
        if default is None:
            raise ExpressionError("a type is required")
        raw = default
    if not isinstance(raw, str) or raw not in allowed:
        choices = ", ".join(f"`{a}`" for a in allowed)
        raise ExpressionError(f"unknown type {raw!r}; expected one of {choices}")
    known = VERSIONS.get(raw)
    if known is None:
        if version is not None:
            raise ExpressionError(f"type `{raw}` takes no version, got {version!r}")
        return raw, None
    if version is None:
        return raw, known[0]
    if version not in known:
        choices = ", ".join(f"`{v}`" for v in known)
        raise ExpressionError(f"unknown {raw} version {version!r}; expected one of {choices}")
    return raw, version
