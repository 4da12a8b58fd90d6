"""JSONPath queries through python-jsonpath: strict RFC 9535, or lenient for the Goessner draft.

python-jsonpath's ``JSONPathEnvironment(strict=True)`` follows RFC 9535 (and passes its
compliance suite); the default environment accepts the looser forms of the 2007 Goessner article
that ``draft-goessner-dispatch-jsonpath-00`` describes.

python-jsonpath is imported when the first query is compiled, not with this module: importing it
compiles its lexer's patterns, a noticeable share of start-up. A query of ``.name`` steps only
(``$.state.life_cycle_state``: every real-world poll condition) is a `NamePath`, answered by walking
the value, and never imports it.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from spola import jsoncodec
from spola.criteria.types import JSONPATH_GOESSNER, JSONPATH_RFC
from spola.errors import ExpressionError, Location
from spola.expr import MISSING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jsonpath import CompoundJSONPath, JSONPath, JSONPathEnvironment, JSONPathMatch

    Query: TypeAlias = "JSONPath | CompoundJSONPath | NamePath"

# `$` and `.name` steps with ASCII identifier names: python-jsonpath reads each as a child segment
# with one name selector, in both versions (tests/unit/criteria/test_name_paths.py checks it).
NAME_PATH: Final = r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*)+"
_NAME_PATH: Final = re.compile(NAME_PATH)


class NamePath:
    """A query made only of ``.name`` steps, compiled without python-jsonpath.

    Selecting is a walk down the names; anything else a query is asked (``finditer``, for
    ``jsonpath`` payload replacements and the existence test) compiles the real query then.
    """

    __slots__ = ("_real", "names", "text", "version")

    def __init__(self, text: str, version: str) -> None:
        self.text = text
        self.version = version
        self.names = tuple(text[2:].split("."))
        self._real: JSONPath | CompoundJSONPath | None = None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"NamePath({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is NamePath and (other.text, other.version) == (self.text, self.version)

    def __hash__(self) -> int:
        return hash((self.text, self.version))

    def singular_query(self) -> bool:
        """Names only: at most one node (an RFC 9535 singular query)."""
        return True

    def finditer(self, data: Any) -> Iterable[JSONPathMatch]:
        """python-jsonpath's matches (with their paths and parents), from the real query."""
        if self._real is None:
            self._real = _compile_real(self.text, self.version, 0)
        return self._real.finditer(data)


@cache
def environments() -> dict[str, JSONPathEnvironment]:
    """The python-jsonpath environment of each version, made (and the library imported) on first use."""
    from jsonpath import JSONPathEnvironment

    return {
        JSONPATH_RFC: JSONPathEnvironment(strict=True),
        JSONPATH_GOESSNER: JSONPathEnvironment(),
    }


@lru_cache(maxsize=1024)
def compile_query(text: str, version: str = JSONPATH_RFC, *, offset: int = 0) -> Query:
    """Compile a JSONPath query for a version (compiled queries are immutable and cached).

    Raises:
        ExpressionError: with the offset (plus ``offset``) of the problem.
    """
    if _NAME_PATH.fullmatch(text):
        return NamePath(text, version)
    return _compile_real(text, version, offset)


def _compile_real(text: str, version: str, offset: int) -> JSONPath | CompoundJSONPath:
    from jsonpath import JSONPathError  # ~0.1 s to import: only for queries beyond `.name` steps

    try:
        return environments()[version].compile(text)
    except JSONPathError as exc:
        where = exc.token.index if exc.token is not None else 0
        if where < 0 or where > len(text):
            where = len(text)
        raise ExpressionError(f"invalid JSONPath: {exc.message}", Location(offset=offset + where)) from exc
    except RecursionError as exc:
        raise ExpressionError("invalid JSONPath: nested too deeply", Location(offset=offset)) from exc


def is_singular(query: Query) -> bool:
    """Whether the query names at most one node (RFC 9535 singular query: names and indexes only)."""
    if type(query) is NamePath:
        return True
    from jsonpath import JSONPath

    return isinstance(query, JSONPath) and query.singular_query()


def json_value(value: Any) -> Any:
    """A value a JSONPath can query: JSON text (str or bytes) parsed, anything else as it is.

    Raises:
        ValueError: for text that is not JSON.
    """
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8")
    if isinstance(value, str):
        return jsoncodec.loads(value)
    return value


_NAME_PATHS: dict[int, tuple[Any, tuple[str, ...] | None]] = {}


def _name_path(query: Query) -> tuple[str, ...] | None:
    """The member names of a query made only of ``.name`` steps (``$.state.life_cycle_state``), else None.

    Such queries — every real-world poll condition — are answered by walking the value directly,
    an order of magnitude faster than the general evaluator, with the same result.
    """
    if type(query) is NamePath:
        return query.names
    known = _NAME_PATHS.get(id(query))
    if known is not None and known[0] is query:
        return known[1]
    from jsonpath import JSONPath
    from jsonpath.segments import JSONPathChildSegment
    from jsonpath.selectors import NameSelector

    names: list[str] | None = [] if type(query) is JSONPath else None
    for segment in getattr(query, "segments", ()):
        if names is None:
            break
        selectors = segment.selectors
        if (
            type(segment) is not JSONPathChildSegment
            or len(selectors) != 1
            or type(selectors[0]) is not NameSelector
        ):
            names = None
            break
        names.append(selectors[0].name)
    if len(_NAME_PATHS) > 4096:
        _NAME_PATHS.clear()
    result = tuple(names) if names is not None else None
    _NAME_PATHS[id(query)] = (query, result)
    return result


def find_values(query: Query, data: Any) -> list[Any]:
    """The values of every node the query selects, in order."""
    names = _name_path(query)
    if names is not None:
        node = data
        for name in names:
            if type(node) is not dict or name not in node:
                return []
            node = node[name]
        return [node]
    return [match.obj for match in query.finditer(data)]


def any_match(query: Query, data: Any) -> bool:
    """Whether the query selects at least one node."""
    if type(query) is NamePath:
        return bool(find_values(query, data))
    return next(iter(query.finditer(data)), MISSING) is not MISSING
