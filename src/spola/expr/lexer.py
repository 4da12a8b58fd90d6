"""Condition text → tokens: literals, operators, parentheses and operands.

Operands (runtime expressions in `simple` conditions, JSONPath queries in the JSONPath
comparison dialect) are read by a callback, so one lexer serves both languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from msgspec import Struct

from spola.errors import ExpressionError, Location

LPAREN: Final = "("
RPAREN: Final = ")"
AND: Final = "&&"
OR: Final = "||"
NOT: Final = "!"
LITERAL: Final = "literal"
OPERAND: Final = "operand"
EOF: Final = "eof"
COMPARISONS: Final = frozenset({"==", "!=", "<", "<=", ">", ">="})

_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?(?![A-Za-z0-9_.])")
_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_OPERATORS: Final = ("&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")")
_KEYWORDS: Final = {"true": True, "false": False, "null": None}
_JSON_ESCAPES: Final = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\"}

ReadOperand = Callable[[str, int], tuple[Any, int]]
"""Reads the operand starting at ``text[pos]``; returns it and the index just after it."""


class Token(Struct, frozen=True):
    """One token: its kind (an operator's own text, ``literal``, ``operand`` or ``eof``)."""

    kind: str
    text: str
    offset: int
    value: Any = None


def _error(message: str, offset: int) -> ExpressionError:
    return ExpressionError(message, Location(offset=offset))


def _string(text: str, start: int, *, backslash: bool) -> tuple[str, int]:
    """Read a quoted string at ``text[start]``; a doubled quote stands for the quote itself."""
    quote = text[start]
    out: list[str] = []
    pos = start + 1
    size = len(text)
    while pos < size:
        char = text[pos]
        if char == quote:
            if text.startswith(quote, pos + 1):
                out.append(quote)
                pos += 2
                continue
            return "".join(out), pos + 1
        if char == "\\" and backslash:
            escape = text[pos + 1 : pos + 2]
            if escape == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[pos + 2 : pos + 6]):
                out.append(chr(int(text[pos + 2 : pos + 6], 16)))
                pos += 6
                continue
            if escape in (quote, "'", '"'):
                out.append(escape)
            elif escape in _JSON_ESCAPES:
                out.append(_JSON_ESCAPES[escape])
            else:
                raise _error(f"unknown escape '\\{escape}' in a string", pos)
            pos += 2
            continue
        out.append(char)
        pos += 1
    raise _error("unterminated string: a closing quote is missing", start)


def tokenize(
    text: str,
    read_operand: ReadOperand,
    *,
    operand_starts: str = "$",
    backslash_in_single_quotes: bool = False,
) -> list[Token]:
    """Split a condition into tokens.

    Strings may use single quotes (``''`` escapes a quote; backslash escapes only when
    ``backslash_in_single_quotes``) or double quotes (JSON backslash escapes).

    Raises:
        ExpressionError: at the offset of the first character that starts no token.
    """
    tokens: list[Token] = []
    pos = 0
    size = len(text)
    while True:
        while pos < size and text[pos].isspace():
            pos += 1
        if pos >= size:
            tokens.append(Token(EOF, "", size))
            return tokens
        char = text[pos]
        start = pos
        if char in operand_starts:
            value, pos = read_operand(text, pos)
            tokens.append(Token(OPERAND, text[start:pos], start, value))
            continue
        if char in "'\"":
            backslash = char == '"' or backslash_in_single_quotes
            string, pos = _string(text, pos, backslash=backslash)
            tokens.append(Token(LITERAL, text[start:pos], start, string))
            continue
        number = _NUMBER.match(text, pos)
        if number:
            literal = number.group()
            value = float(literal) if number.group(1) or number.group(2) else int(literal)
            tokens.append(Token(LITERAL, literal, start, value))
            pos = number.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
        if operator is not None:
            tokens.append(Token(operator, operator, start))
            pos += len(operator)
            continue
        word = _WORD.match(text, pos)
        if word and word.group() in _KEYWORDS:
            tokens.append(Token(LITERAL, word.group(), start, _KEYWORDS[word.group()]))
            pos = word.end()
            continue
        if word:
            name = word.group()
            if name.lower() in _KEYWORDS:
                raise _error(f"unknown word `{name}`; literals are lower-case: `{name.lower()}`", start)
            raise _error(f"unexpected word `{name}`; put text in quotes: '{name}'", start)
        if char == "=":
            raise _error("unexpected '='; compare with '=='", start)
        if char in "&|":
            raise _error(f"unexpected {char!r}; use '{char * 2}'", start)
        raise _error(f"unexpected {char!r}", start)
