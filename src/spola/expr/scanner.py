"""Text → `Expression`: the runtime expression ABNF of Arazzo 1.1 (which also covers 1.0).

One scanner serves four places, which differ only in where free text (a query parameter name,
a JSON Pointer) ends:

- ``WHOLE``: the expression is the entire text (`parse_expression`);
- ``BRACED``: inside ``{$...}``; free text ends at ``}``;
- ``BARE``: inside a string such as ``Bearer $inputs.token``; names take identifier characters,
  a trailing ``.`` or ``-`` is left out, a pointer ends at whitespace or punctuation;
- ``CONDITION``: an operand of a condition; free text ends at whitespace or an operator.

Beyond the ABNF, names may be followed by ``[0]``, ``['key']`` and, after those, ``.key``;
``$response.body.data.id`` reads the body like ``$inputs.cfg.host`` reads an input.

Three forms outside the ABNF that real documents (the specification's own examples among them)
write are read too, each with a ``note`` on the expression so that a linter can point them out:

- ``$request.headers.X`` / ``$response.headers.X`` / ``$message.headers.X``, read as ``header``;
- ``$steps.<id>.outputs`` with no output name: all outputs of the step;
- ``$workflows.<id>.steps.<step>.outputs.<name>`` (and with no name), the output of a step of
  another workflow, mirroring the ``dependsOn: $workflows.<id>.steps.<step>`` of Arazzo 1.1.
"""

from __future__ import annotations

import difflib
import enum
import re
from typing import Final

from msgspec.structs import replace

from spola.errors import ExpressionError, Location
from spola.expr.navigate import PointerSyntaxError, split_pointer
from spola.expr.nodes import (
    COMPONENT_TYPES,
    ROOTS,
    SOURCE_PARTS,
    Expression,
    Index,
    Key,
    Pointer,
    Segment,
)


class Mode(enum.Enum):
    """Where an expression sits, which decides where its free-text parts end."""

    WHOLE = "whole"
    BRACED = "braced"
    BARE = "bare"
    CONDITION = "condition"


_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT: Final = re.compile(r"[A-Za-z0-9_.\-]+")
_STRICT: Final = re.compile(r"[A-Za-z0-9_\-]+")
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SIMPLE_ROOTS: Final = frozenset({"url", "method", "statusCode", "self"})
_POINTER_STOP: Final = {
    Mode.WHOLE: re.compile(r"\Z"),
    Mode.BRACED: re.compile(r"}|\Z"),
    Mode.BARE: re.compile(r"[\s\"'`<>{}()\[\],;&|=?]|\Z"),
    Mode.CONDITION: re.compile(r"[\s=!<>&|()\[\]]|\Z"),
}
_BARE_TRAILING: Final = ".,:;!?"
_NAME_START: Final = re.compile(r"[A-Za-z0-9_]")
_LOOSE_ID: Final = {
    Mode.CONDITION: re.compile(r"[A-Za-z0-9_.\-]+(?: +[A-Za-z0-9_.\-]+)*"),
    Mode.BARE: re.compile(r"[A-Za-z0-9_\-]+(?: [A-Za-z0-9_\-]+)*"),
}
"""What a step or workflow id outside ``[A-Za-z0-9_-]+`` may hold in a condition and in a string."""
_STEP_ANCHORS: Final = ("outputs",)
_WORKFLOW_ANCHORS: Final = ("inputs", "outputs", "steps")
SHORTHAND: Final = "steps-shorthand"
"""The habit of a ``$steps.<id>.<name>`` expression (arazzo-runner's, without ``.outputs.``)."""
_BRACKET: Final = re.compile(r"(-?(?:0|[1-9][0-9]*))\]|'((?:[^'\\]|\\.)*)'\]|\"((?:[^\"\\]|\\.)*)\"\]")

BARE_START: Final = re.compile(
    r"\$(?:(?:url|method|statusCode|self)(?![A-Za-z0-9_])"
    r"|(?:request|response|message|inputs|outputs|steps|workflows|sourceDescriptions|components)\.)"
)
"""Where a bare expression may start inside a string: ``$`` and a known root."""


def _error(message: str, offset: int) -> ExpressionError:
    return ExpressionError(message, Location(offset=offset))


def _suggest(word: str, choices: tuple[str, ...], prefix: str = "") -> str:
    lowered = {choice.lower(): choice for choice in choices}
    if word.lower() in lowered:
        return f"; did you mean `{prefix}{lowered[word.lower()]}`?"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean `{prefix}{close[0]}`?" if close else ""


class _Scanner:
    __slots__ = ("end", "mode", "pos", "text")

    def __init__(self, text: str, pos: int, mode: Mode) -> None:
        self.text = text
        self.pos = pos
        self.mode = mode
        self.end = len(text)

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def expect(self, literal: str, what: str) -> None:
        if not self.text.startswith(literal, self.pos):
            found = self.peek() or "the end"
            raise _error(f"expected {what}, found {found!r}", self.pos)
        self.pos += len(literal)

    def match(self, pattern: re.Pattern[str]) -> str:
        m = pattern.match(self.text, self.pos)
        if not m:
            return ""
        self.pos = m.end()
        return m.group()

    def word(self, choices: tuple[str, ...], after: str) -> str:
        start = self.pos
        word = self.match(_WORD)
        if word not in choices:
            listed = ", ".join(f"`{c}`" for c in choices)
            if not word:
                raise _error(f"expected one of {listed} after `{after}`", start)
            raise _error(f"unknown `{word}` after `{after}`{_suggest(word, choices)}", start)
        return word

    def identifier(self, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
        start = self.pos
        name = self.match(pattern)
        if self.mode is Mode.BARE:
            stripped = name.rstrip(".-")
            self.pos -= len(name) - len(stripped)
            name = stripped
        if not name:
            raise _error(f"expected {what}", start)
        if name.endswith(".") or ".." in name or name.startswith("."):
            raise _error(f"{what} `{name}` has an empty segment", start)
        return name

    def free_text(self, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
        """A part the ABNF lets hold any character: to the end, to ``}``, or identifier characters."""
        start = self.pos
        if self.mode is Mode.WHOLE:
            self.pos = self.end
            name = self.text[start:]
        elif self.mode is Mode.BRACED:
            close = self.text.find("}", start)
            self.pos = self.end if close == -1 else close
            name = self.text[start : self.pos]
        else:
            return self.identifier(what, pattern)
        if not name:
            raise _error(f"expected {what}", start)
        return name

    def header_name(self) -> str:
        if self.mode in (Mode.WHOLE, Mode.BRACED):
            return self.identifier("a header name", _TOKEN)
        return self.identifier("a header name")

    def pointer(self) -> Pointer:
        start = self.pos
        stop = _POINTER_STOP[self.mode].search(self.text, start)
        assert stop is not None
        text = self.text[start : stop.start()]
        if self.mode is Mode.BARE:
            text = text.rstrip(_BARE_TRAILING)
        try:
            tokens = split_pointer(text)
        except PointerSyntaxError as exc:
            raise _error(str(exc), start + exc.offset) from exc
        self.pos = start + len(text)
        return Pointer(text, tokens)

    def bracket(self) -> Segment:
        start = self.pos
        self.pos += 1
        m = _BRACKET.match(self.text, self.pos)
        if not m:
            raise _error("expected an index such as [0] or a quoted key such as ['name']", start)
        self.pos = m.end()
        if m.group(1) is not None:
            return Index(int(m.group(1)))
        raw = m.group(2) if m.group(2) is not None else m.group(3)
        return Key(re.sub(r"\\(.)", r"\1", raw))

    def tail(self) -> tuple[Segment, ...]:
        segments: list[Segment] = []
        pointer_seen = False
        while self.pos < self.end:
            char = self.text[self.pos]
            if char == "[":
                segments.append(self.bracket())
            elif char == "." and segments and _STRICT.match(self.text, self.pos + 1):
                self.pos += 1
                segments.append(Key(self.identifier("a property name", _STRICT)))
            elif char == "#" and not pointer_seen and not segments:
                self.pos += 1
                segments.append(self.pointer())
                pointer_seen = True
            else:
                break
        return tuple(segments)

    def outputs_name(self, where: str) -> str | None:
        """An output name after ``.outputs``, or None when there is none (the whole outputs map).

        In a string (``Done: $steps.a.outputs.``) a ``.`` not followed by a name is punctuation; elsewhere
        a ``.`` must be followed by a name.
        """
        if self.peek() != ".":
            return None
        if self.mode is Mode.BARE and not _NAME_START.match(self.text, self.pos + 1):
            return None
        self.pos += 1
        return self.identifier(f"an output name after `{where}.`")

    def body_name(self) -> str | None:
        if self.peek() == "." and _IDENT.match(self.text, self.pos + 1):
            self.pos += 1
            return self.identifier("a property name")
        return None

    def expression(self) -> Expression:
        start = self.pos
        if self.peek() != "$":
            raise _error("a runtime expression starts with '$'", start)
        self.pos += 1
        root = self.match(_WORD)
        if root not in ROOTS:
            if not root:
                raise _error("expected a name after '$', such as `$inputs.name`", start)
            hint = _suggest(root, ROOTS, "$")
            raise _error(f"unknown runtime expression `${root}`{hint}", start)
        if root in _SIMPLE_ROOTS:
            return Expression(root)
        self.expect(".", f"'.' after `${root}`")
        if root in ("request", "response", "message"):
            if self.text.startswith("headers.", self.pos):
                self.pos += len("headers")
                self.expect(".", "'.' and a header name")
                note = f"`${root}.headers.` is not Arazzo (it is `header`); read as `${root}.header.`"
                return Expression(f"{root}.header", name=self.header_name(), note=note)
            part = self.word(SOURCE_PARTS, f"${root}.")
            if part == "header":
                self.expect(".", "'.' and a header name")
                return Expression(f"{root}.{part}", name=self.header_name())
            if part in ("query", "path"):
                self.expect(".", f"'.' and a {part} parameter name")
                return Expression(f"{root}.{part}", name=self.free_text(f"a {part} parameter name"))
            name = self.body_name()
            return Expression(f"{root}.{part}", name=name, segments=self.tail())
        if root in ("inputs", "outputs"):
            name = self.identifier(f"an {root[:-1]} name after `${root}.`")
            return Expression(root, name=name, segments=self.tail())
        if root == "steps":
            step_id = self.node_id("a step id after `$steps.`", _STEP_ANCHORS)
            self.expect(".", f"'.outputs.' after `$steps.{step_id}`")
            if not self.anchor_at(self.pos - 1, _STEP_ANCHORS):
                return self.shorthand(step_id)
            self.word(("outputs",), f"$steps.{step_id}.")
            return self.step_outputs(Expression(root, id=step_id), f"$steps.{step_id}.outputs")
        if root == "workflows":
            workflow_id = self.node_id("a workflow id after `$workflows.`", _WORKFLOW_ANCHORS)
            self.expect(".", f"'.inputs.' or '.outputs.' after `$workflows.{workflow_id}`")
            field = self.word(("inputs", "outputs", "steps"), f"$workflows.{workflow_id}.")
            if field == "steps":
                self.expect(".", f"'.' and a step id after `$workflows.{workflow_id}.steps`")
                step_id = self.node_id("a step id", _STEP_ANCHORS)
                where = f"$workflows.{workflow_id}.steps.{step_id}"
                self.expect(".", f"'.outputs' after `{where}`")
                self.word(("outputs",), f"{where}.")
                base = Expression(root, id=workflow_id, field=field, step=step_id)
                return self.step_outputs(base, f"{where}.outputs")
            self.expect(".", f"'.' and an {field[:-1]} name")
            name = self.identifier(f"an {field[:-1]} name")
            return Expression(root, id=workflow_id, field=field, name=name, segments=self.tail())
        if root == "sourceDescriptions":
            source = self.identifier("a source description name", _STRICT)
            self.expect(".", f"'.' and a reference after `$sourceDescriptions.{source}`")
            return Expression(root, id=source, name=self.free_text("an operationId, workflowId or field"))
        kind = self.word(COMPONENT_TYPES, "$components.")
        self.expect(".", f"'.' and a name after `$components.{kind}`")
        name = self.identifier("a component name")
        return Expression(root, id=kind, name=name, segments=self.tail())

    def anchor_at(self, pos: int, anchors: tuple[str, ...]) -> bool:
        """Whether ``text[pos:]`` is ``.`` and one of ``anchors`` as a whole word."""
        if not self.text.startswith(".", pos):
            return False
        for anchor in anchors:
            end = pos + 1 + len(anchor)
            if self.text.startswith(anchor, pos + 1) and not _NAME_START.match(self.text, end):
                return True
        return False

    def node_id(self, what: str, anchors: tuple[str, ...]) -> str:
        """A step or workflow id: ``[A-Za-z0-9_-]+``, or (Arazzo 1.0.x, whose ABNF allows any
        character in a name) the text up to the first ``.outputs`` (for a workflow: ``.inputs``,
        ``.outputs`` or ``.steps``). In a whole value and inside ``{...}`` that text may hold any
        character but braces; in a condition, letters, digits, ``_ - .`` and spaces; inside a
        string without braces, words of ``[A-Za-z0-9_-]`` separated by single spaces.
        """
        start = self.pos
        strict = _STRICT.match(self.text, start)
        if strict is not None and self.anchor_at(strict.end(), anchors):
            self.pos = strict.end()
            return strict.group()
        loose = self.loose_id(start, anchors)
        if loose is not None:
            self.pos = start + len(loose)
            return loose
        return self.identifier(what, _STRICT)

    def loose_id(self, start: int, anchors: tuple[str, ...]) -> str | None:
        if self.mode is Mode.WHOLE:
            limit = self.end
        elif self.mode is Mode.BRACED:
            close = self.text.find("}", start)
            limit = self.end if close == -1 else close
        else:
            region = _LOOSE_ID[self.mode].match(self.text, start)
            if region is None:
                return None
            limit = region.end()
        dot = self.text.find(".", start + 1, limit + 1)
        while dot != -1:
            if self.anchor_at(dot, anchors):
                candidate = self.text[start:dot]
                if candidate != candidate.strip() or "{" in candidate:
                    return None
                return candidate
            dot = self.text.find(".", dot + 1, limit + 1)
        return None

    def shorthand(self, step_id: str) -> Expression:
        """``$steps.<id>.<name>``: arazzo-runner's spelling of ``$steps.<id>.outputs.<name>``
        (a step exposes nothing but outputs). ``output``/``Outputs`` is a typo, not a shorthand."""
        word = _WORD.match(self.text, self.pos)
        if word is None or word.group().lower() in ("output", "outputs"):
            self.word(("outputs",), f"$steps.{step_id}.")  # raises, with a did-you-mean
        written = f"$steps.{step_id}."
        name = self.identifier(f"an output name after `{written}`")
        base = Expression("steps", id=step_id, name=name)
        segments = self.tail()
        canonical = replace(base, segments=segments)
        note = f"`{written}{name}` is arazzo-runner's shorthand; read as `{canonical}`"
        return replace(canonical, note=note, habit=SHORTHAND)

    def step_outputs(self, base: Expression, where: str) -> Expression:
        """The rest of ``$steps.<id>.outputs`` or ``$workflows.<id>.steps.<step>.outputs``."""
        name = self.outputs_name(where)
        notes = []
        if base.root == "workflows":
            notes.append(
                "`$workflows.<id>.steps.<step>` is Arazzo only in dependsOn; "
                f"read as the outputs of step '{base.step}' of workflow '{base.id}'"
            )
        if name is None:
            notes.append(f"`{where}` has no output name; read as all outputs")
        note = "; ".join(notes) or None
        return replace(base, name=name, segments=self.tail(), note=note)


def scan_expression(text: str, pos: int, mode: Mode) -> tuple[Expression, int]:
    """Read one runtime expression starting at ``text[pos]`` (a ``$``).

    Returns:
        The expression and the index just after it.

    Raises:
        ExpressionError: with the offset (into ``text``) of the problem.
    """
    scanner = _Scanner(text, pos, mode)
    expression = scanner.expression()
    return expression, scanner.pos


def parse_expression(text: str) -> Expression:
    """Parse a whole string as one runtime expression, such as ``$response.body#/data/id``.

    Raises:
        ExpressionError: when the text is not exactly one runtime expression.
    """
    if not text.startswith("$"):
        stripped = text.lstrip()
        offset = len(text) - len(stripped)
        if stripped.startswith("$"):
            raise _error("a runtime expression must not start with whitespace", 0)
        raise _error(f"a runtime expression starts with '$', found {text[:1]!r}", offset)
    expression, end = scan_expression(text, 0, Mode.WHOLE)
    if end != len(text):
        raise _error(f"unexpected {text[end]!r} after `{expression}`", end)
    return expression
