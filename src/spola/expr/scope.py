"""What a runtime expression may read: inputs, outputs, steps, workflows, and the current exchange."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, final

from msgspec import Struct, field
from msgspec.structs import force_setattr, replace


@final
class _Missing:
    """The type of `MISSING`: there is exactly one instance."""

    __slots__ = ()
    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: object) -> _Missing:
        return self


MISSING: Final = _Missing()
"""Refers to something that does not exist: an input not given, an absent header or pointer target."""


def is_missing(value: object) -> bool:
    """Whether ``value`` is the `MISSING` sentinel."""
    return value is MISSING


class Headers(Mapping[str, str]):
    """A read-only mapping of header names to values whose look-ups ignore case.

    Built from a mapping or from (name, value) pairs; a repeated name keeps its first value.
    """

    __slots__ = ("_items", "_pairs")

    def __init__(self, source: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = source.items() if isinstance(source, Mapping) else source
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            items.setdefault(str(name).lower(), (str(name), str(value)))
        self._items: dict[str, tuple[str, str]] | None = items
        self._pairs: Iterable[tuple[str, str]] = ()

    @classmethod
    def joined(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """From (name, value) pairs of a message, names lower-cased and the values of a repeated name
        joined with ``", "`` (RFC 9110 5.3). Built on first look-up: most exchanges read no header."""
        headers = cls.__new__(cls)
        headers._items = None
        headers._pairs = pairs
        return headers

    def _table(self) -> dict[str, tuple[str, str]]:
        items = self._items
        if items is None:
            items = {}
            for name, value in self._pairs:
                low = name.lower()
                known = items.get(low)
                items[low] = (low, value) if known is None else (low, f"{known[1]}, {value}")
            self._items, self._pairs = items, ()
        return items

    def __getitem__(self, name: str) -> str:
        return self._table()[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._table()

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._table().values())

    def __len__(self) -> int:
        return len(self._table())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return {key: value for key, (_, value) in self._table().items()} == {
                str(k).lower(): v for k, v in other.items()
            }
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._table())))

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def _headers(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
    return value if isinstance(value, Headers) else Headers(value)


class RequestView(Struct, frozen=True):
    """The request of the current exchange as `$request.*` sees it.

    ``headers`` may be a mapping or (name, value) pairs; it is stored as case-insensitive `Headers`.
    ``body`` is the body before encoding (parsed JSON, text or bytes), `MISSING` when there is none.
    """

    headers: Mapping[str, str] = field(default_factory=Headers)
    query: Mapping[str, Any] = field(default_factory=dict)
    path: Mapping[str, Any] = field(default_factory=dict)
    body: Any = MISSING

    def __post_init__(self) -> None:
        headers = self.headers
        if type(headers) is not Headers:  # the engine passes Headers: nothing to convert
            force_setattr(self, "headers", _headers(headers))


class ResponseView(Struct, frozen=True):
    """The response of the current exchange as `$response.*` sees it (same shape as `RequestView`)."""

    headers: Mapping[str, str] = field(default_factory=Headers)
    query: Mapping[str, Any] = field(default_factory=dict)
    path: Mapping[str, Any] = field(default_factory=dict)
    body: Any = MISSING

    def __post_init__(self) -> None:
        headers = self.headers
        if type(headers) is not Headers:  # the engine passes Headers: nothing to convert
            force_setattr(self, "headers", _headers(headers))


class Scope(Struct):
    """Everything a runtime expression may read; every field is optional.

    ``steps`` maps a step id to that step's outputs; ``workflows`` maps a workflow id to
    ``{"inputs": {...}, "outputs": {...}, "steps": {step id: outputs}}`` (``steps`` is optional:
    without it ``$workflows.<id>.steps.<step>.outputs.x`` is `MISSING`); ``source_descriptions``
    maps a name to the source's fields (url, type, name) and, as keys too, its operationIds /
    workflowIds.
    """

    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    steps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    workflows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source_descriptions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    components: Mapping[str, Any] = field(default_factory=dict)
    self_uri: str | None = None
    url: str | None = None
    method: str | None = None
    status_code: int | None = None
    request: RequestView | None = None
    response: ResponseView | None = None
    message: Any = None

    def with_exchange(
        self,
        *,
        url: str | None = None,
        method: str | None = None,
        status_code: int | None = None,
        request: RequestView | None = None,
        response: ResponseView | None = None,
    ) -> Scope:
        """A copy of this scope that sees the given exchange (fields left out keep their value)."""
        changes: dict[str, Any] = {}
        for name, value in (
            ("url", url),
            ("method", method),
            ("status_code", status_code),
            ("request", request),
            ("response", response),
        ):
            if value is not None:
                changes[name] = value
        return replace(self, **changes)
