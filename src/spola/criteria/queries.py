"""JSONPath queries through python-jsonpath: strict RFC 9535, or lenient for the Goessner draft.

python-jsonpath's ``JSONPathEnvironment(strict=True)`` follows RFC 9535 (and passes its
compliance suite); the default environment accepts the looser forms of the 2007 Goessner article
that ``draft-goessner-dispatch-jsonpath-00`` describes.

python-jsonpath is imported when the first query is compiled, not with this module: importing it
compiles its lexer's patterns, a noticeable share of start-up for documents without JSONPath.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias

from spola.criteria.types import JSONPATH_GOESSNER, JSONPATH_RFC
from spola.errors import ExpressionError, Location
from spola.expr import MISSING

if TYPE_CHECKING:
    from jsonpath import CompoundJSONPath, JSONPath, JSONPathEnvironment

    Query: TypeAlias = JSONPath | CompoundJSONPath


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
    from jsonpath import JSONPathError

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
        return json.loads(value)
    return value


_NAME_PATHS: dict[int, tuple[Any, tuple[str, ...] | None]] = {}


def _name_path(query: Query) -> tuple[str, ...] | None:
    """The member names of a query made only of ``.name`` steps (``$.state.life_cycle_state``), else None.

    Such queries — every real-world poll condition — are answered by walking the value directly,
    an order of magnitude faster than the general evaluator, with the same result.
    """
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
    return next(iter(query.finditer(data)), MISSING) is not MISSING
