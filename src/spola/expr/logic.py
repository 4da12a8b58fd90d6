"""The logic shared by `simple` conditions and the JSONPath comparison dialect.

Tokens → a tree of `Literal`, `Operand`, `Not`, `Compare` and `Logical` nodes; each prints
canonically, and `evaluate` walks the tree with a `Semantics` that says how operands are read,
how values compare and which values count as true. Precedence, loosest first:
``||``, ``&&``, comparisons (not chainable), ``!``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct

from spola.errors import ExpressionError, Location
from spola.expr.lexer import AND, COMPARISONS, EOF, LITERAL, LPAREN, NOT, OPERAND, OR, RPAREN, Token

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


class Semantics(Protocol):
    """How one language reads operands, compares values and decides truth."""

    def resolve(self, operand: Any, env: Any) -> Any:
        """The value of an operand in ``env``."""

    def compare(self, op: str, left: Any, right: Any) -> bool:
        """Apply a comparison operator (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``)."""

    def truthy(self, value: Any) -> bool:
        """Whether a value counts as true for ``!``, ``&&``, ``||`` and the whole condition."""


_PRECEDENCE = {OR: 1, AND: 2, "compare": 3, NOT: 4, "primary": 5}


def _quote(value: str, double: bool) -> str:
    if double:
        return json.dumps(value, ensure_ascii=False)
    return "'" + value.replace("'", "''") + "'"


class Literal(Struct, frozen=True):
    """A literal: string, number, boolean or null. ``double`` prints strings JSON-style."""

    value: Any
    double: bool = False

    def __str__(self) -> str:
        if isinstance(self.value, str):
            return _quote(self.value, self.double)
        return json.dumps(self.value)


class Operand(Struct, frozen=True):
    """An operand the language reads from its environment (a runtime expression, a query)."""

    value: Any

    def __str__(self) -> str:
        return str(self.value)


class Not(Struct, frozen=True):
    """``!operand``."""

    operand: Node

    def __str__(self) -> str:
        return "!" + _wrap(self.operand, _PRECEDENCE[NOT])


class Compare(Struct, frozen=True):
    """``left op right`` with op one of ``== != < <= > >=``."""

    op: str
    left: Node
    right: Node

    def __str__(self) -> str:
        level = _PRECEDENCE["compare"] + 1
        return f"{_wrap(self.left, level)} {self.op} {_wrap(self.right, level)}"


class Logical(Struct, frozen=True):
    """``a && b && ...`` or ``a || b || ...``."""

    op: str
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        level = _PRECEDENCE[self.op]
        return f" {self.op} ".join(_wrap(operand, level) for operand in self.operands)


Node = Literal | Operand | Not | Compare | Logical


def _level(node: Node) -> int:
    if isinstance(node, Logical):
        return _PRECEDENCE[node.op]
    if isinstance(node, Compare):
        return _PRECEDENCE["compare"]
    if isinstance(node, Not):
        return _PRECEDENCE[NOT]
    return _PRECEDENCE["primary"]


def _wrap(node: Node, level: int) -> str:
    return f"({node})" if _level(node) < level else str(node)


def operands(node: Node) -> Iterator[Any]:
    """Every operand value in the tree, left to right."""
    if isinstance(node, Operand):
        yield node.value
    elif isinstance(node, Not):
        yield from operands(node.operand)
    elif isinstance(node, Compare):
        yield from operands(node.left)
        yield from operands(node.right)
    elif isinstance(node, Logical):
        for child in node.operands:
            yield from operands(child)


def evaluate(node: Node, env: Any, semantics: Semantics) -> Any:
    """The value of a tree: a comparison or logical node gives a bool, an operand its value."""
    # exact type tests (the node classes are final), the commonest first
    if type(node) is Compare:
        left = evaluate(node.left, env, semantics)
        right = evaluate(node.right, env, semantics)
        return semantics.compare(node.op, left, right)
    if type(node) is Operand:
        return semantics.resolve(node.value, env)
    if type(node) is Literal:
        return node.value
    if type(node) is Not:
        return not semantics.truthy(evaluate(node.operand, env, semantics))
    assert type(node) is Logical
    if node.op == AND:
        return all(semantics.truthy(evaluate(child, env, semantics)) for child in node.operands)
    return any(semantics.truthy(evaluate(child, env, semantics)) for child in node.operands)


class _Parser:
    __slots__ = ("double", "pos", "tokens")

    def __init__(self, tokens: Sequence[Token], double: bool) -> None:
        self.tokens = tokens
        self.pos = 0
        self.double = double

    @property
    def current(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, message: str, token: Token | None = None) -> ExpressionError:
        token = token or self.current
        return ExpressionError(message, Location(offset=token.offset))

    def describe(self, token: Token) -> str:
        return "the end of the condition" if token.kind == EOF else f"{token.text!r}"

    def logical(self, op: str) -> Node:
        parse_next = self.comparison if op == AND else (lambda: self.logical(AND))
        children = [parse_next()]
        while self.current.kind == op:
            self.advance()
            if self.current.kind in (EOF, RPAREN, AND, OR):
                raise self.fail(f"expected an operand after '{op}', found {self.describe(self.current)}")
            children.append(parse_next())
        return children[0] if len(children) == 1 else Logical(op, tuple(children))

    def comparison(self) -> Node:
        left = self.unary()
        if self.current.kind not in COMPARISONS:
            return left
        op = self.advance().kind
        if self.current.kind in (EOF, RPAREN, AND, OR) or self.current.kind in COMPARISONS:
            raise self.fail(f"expected an operand after '{op}', found {self.describe(self.current)}")
        right = self.unary()
        if self.current.kind in COMPARISONS:
            raise self.fail("comparisons cannot be chained; join them with '&&'")
        return Compare(op, left, right)

    def unary(self) -> Node:
        if self.current.kind == NOT:
            self.advance()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == LPAREN:
            self.advance()
            if self.current.kind == RPAREN:
                raise self.fail("empty parentheses")
            inner = self.logical(OR)
            if self.current.kind != RPAREN:
                raise self.fail(
                    f"expected ')' to close the '(' at offset {token.offset}, "
                    f"found {self.describe(self.current)}"
                )
            self.advance()
            return inner
        if token.kind == LITERAL:
            self.advance()
            return Literal(token.value, self.double)
        if token.kind == OPERAND:
            self.advance()
            return Operand(token.value)
        if token.kind == EOF:
            raise self.fail("expected an operand, found the end of the condition")
        raise self.fail(f"expected an operand, found {self.describe(token)}")


def parse_tokens(tokens: Sequence[Token], *, double_quoted_strings: bool = False) -> Node:
    """Build the tree for a token list (ending in ``eof``).

    Raises:
        ExpressionError: at the offset of the first token that does not fit.
    """
    parser = _Parser(tokens, double_quoted_strings)
    if parser.current.kind == EOF:
        raise parser.fail("the condition is empty")
    node = parser.logical(OR)
    if parser.current.kind != EOF:
        token = parser.current
        if token.kind == RPAREN:
            raise parser.fail("unmatched ')'")
        raise parser.fail(f"unexpected {parser.describe(token)}; join conditions with '&&' or '||'")
    return node
