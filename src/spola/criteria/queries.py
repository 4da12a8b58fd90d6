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


def find_values(query: Query, data: Any) -> list[Any]:
    """The values of every node the query selects, in order."""
    return [match.obj for match in query.finditer(data)]


def any_match(query: Query, data: Any) -> bool:
    """Whether the query selects at least one node."""
    return next(iter(query.finditer(data)), MISSING) is not MISSING
