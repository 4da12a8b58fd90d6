"""A parsed runtime expression: what it names, how to print it, how to evaluate it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct
from msgspec.structs import force_setattr

from spola.errors import Unsupported
from spola.expr.navigate import lookup_dotted, resolve_tokens, step
from spola.expr.scope import MISSING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from spola.expr.scope import RequestView, ResponseView, Scope

_PLAIN_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")


class Reference(Struct, frozen=True):
    """One thing an expression reads, for linters and dependency analysis.

    ``kind`` is the expression's first name: ``inputs``, ``outputs``, ``steps``, ``workflows``,
    ``sourceDescriptions``, ``components``, ``request``, ``response``, ``message``, ``url``,
    ``method``, ``statusCode`` or ``self``. ``id`` is the step id, workflow id, source name or
    component type; ``name`` the input, output, header, parameter or component name as written
    (a dotted name such as ``cfg.host`` stays whole; ``head`` is its first segment), None when the
    expression reads a whole map (``$steps.a.outputs``). ``step`` is the step id of
    ``$workflows.<id>.steps.<step>.outputs``, a step of another workflow.
    """

    kind: str
    id: str | None = None
    name: str | None = None
    step: str | None = None

    @property
    def head(self) -> str | None:
        """The first dot-separated segment of ``name``."""
        return None if self.name is None else self.name.split(".", 1)[0]


class Key(Struct, frozen=True):
    """Navigation to an object member: ``.name`` or ``['name']``."""

    key: str

    def __str__(self) -> str:
        if _PLAIN_KEY.match(self.key):
            return f".{self.key}"
        return "['" + self.key.replace("\\", "\\\\").replace("'", "\\'") + "']"


class Index(Struct, frozen=True):
    """Navigation to an array element: ``[0]`` (negative counts from the end)."""

    index: int

    def __str__(self) -> str:
        return f"[{self.index}]"


class Pointer(Struct, frozen=True):
    """A JSON Pointer suffix: ``#/a/0``, kept as written with its unescaped tokens."""

    text: str
    tokens: tuple[str, ...]

    def __str__(self) -> str:
        return f"#{self.text}"


Segment = Key | Index | Pointer

ROOTS: Final = (
    "url",
    "method",
    "statusCode",
    "self",
    "request",
    "response",
    "message",
    "inputs",
    "outputs",
    "steps",
    "workflows",
    "sourceDescriptions",
    "components",
)
"""The first names a runtime expression may start with."""

COMPONENT_TYPES: Final = ("parameters", "successActions", "failureActions")
SOURCE_PARTS: Final = ("header", "query", "path", "body", "payload")


def _unbound(scope: Scope) -> Any:  # pragma: no cover - replaced in Expression.__post_init__
    raise AssertionError("Expression._base is set by __post_init__")


class Expression(Struct, frozen=True, eq=False):
    """A parsed runtime expression.

    ``root`` is ``url``, ``method``, ``statusCode``, ``self``, ``inputs``, ``outputs``, ``steps``,
    ``workflows``, ``sourceDescriptions``, ``components``, or ``request.X`` / ``response.X`` /
    ``message.X`` with X one of header, query, path, body, payload. ``id`` is the step id,
    workflow id, source name or component type; ``field`` is ``inputs``/``outputs``/``steps`` for
    ``$workflows``; ``step`` the step id of ``$workflows.<id>.steps.<step>.outputs``; ``name`` the
    named item (a dotted name stays whole and is looked up as an exact key first), None for
    ``$steps.<id>.outputs`` (all outputs); ``segments`` the navigation after it (``[0]``,
    ``.key``, ``#/pointer``).

    ``note`` says how a tolerated form outside the Arazzo grammar was read (``$response.headers.X``
    as ``$response.header.X``, ``$steps.a.outputs`` with no output name, ``$workflows.w.steps.s``
    ``.outputs.x``); it is None for a grammatical expression, and `is_lenient` tells the two apart.
    ``habit`` names another runner's spelling the expression was read from (``steps-shorthand``
    for arazzo-runner's ``$steps.<id>.<name>``): the linter offers the rewrite, `spola run` says
    it once per document. Expressions that differ only in their note or habit are equal: they
    print and evaluate alike.
    """

    root: str
    id: str | None = None
    field: str | None = None
    name: str | None = None
    segments: tuple[Segment, ...] = ()
    step: str | None = None
    note: str | None = None
    habit: str | None = None
    _base: Callable[[Scope], Any] = _unbound  # set by __post_init__, never passed
    _tokens: tuple[str, ...] | None = None  # set by __post_init__, never passed
    _read: Callable[[Scope], Any] = _unbound  # set by __post_init__, never passed
    _text: str | None = None  # `str` of it, kept once asked (explanations ask every exchange)

    # Equality and hash leave out ``note``, ``habit`` and the compiled look-ups (a dataclass's
    # ``compare=False``); `__repr__` below shows the expression only.
    def __post_init__(self) -> None:
        # compiled once: the root's look-up, and the pointer tokens when the navigation is one pointer
        force_setattr(self, "_base", _base_of(self))
        single = self.segments[0] if len(self.segments) == 1 else None
        force_setattr(self, "_tokens", single.tokens if isinstance(single, Pointer) else None)
        force_setattr(self, "_read", _read_of(self))
        force_setattr(self, "_text", None)  # a copy made by `replace` may name something else

    def _key(self) -> tuple[Any, ...]:
        return (self.root, self.id, self.field, self.name, self.segments, self.step)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Expression):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._spelled()
            force_setattr(self, "_text", text)
        return text

    def _spelled(self) -> str:
        text = "$" + self.root
        if self.root == "steps":
            text += f".{self.id}.outputs"
        elif self.root == "workflows" and self.field == "steps":
            text += f".{self.id}.steps.{self.step}.outputs"
        elif self.root == "workflows":
            text += f".{self.id}.{self.field}"
        elif self.root in ("components", "sourceDescriptions"):
            text += f".{self.id}"
        if self.name is not None:
            text += f".{self.name}"
        return text + "".join(str(segment) for segment in self.segments)

    def __repr__(self) -> str:
        return f"Expression({str(self)!r})"

    @property
    def kind(self) -> str:
        """The first name of the expression (``request`` for ``$request.body``)."""
        return self.root.split(".", 1)[0]

    @property
    def step_id(self) -> str | None:
        """The step id a ``$steps`` expression reads (a step of the same workflow), else None."""
        return self.id if self.root == "steps" else None

    @property
    def is_lenient(self) -> bool:
        """Whether this is a tolerated form outside the Arazzo grammar (``note`` says which)."""
        return self.note is not None

    @property
    def pointer(self) -> str | None:
        """The JSON Pointer suffix (without ``#``), if there is one."""
        for segment in self.segments:
            if isinstance(segment, Pointer):
                return segment.text
        return None

    def references(self) -> tuple[Reference, ...]:
        """What this expression reads (one `Reference`)."""
        return (Reference(self.kind, self.id, self.name, self.step),)

    def evaluate(self, scope: Scope) -> Any:
        """The value this expression names in ``scope``, type preserved; `MISSING` when absent.

        Raises:
            Unsupported: for ``$message`` and ``payload`` expressions (AsyncAPI).
        """
        return self._read(scope)

    @property
    def reader(self) -> Callable[[Scope], Any]:
        """`evaluate` as a plain function of the scope (one call less on a hot path)."""
        return self._read

    def evaluate_general(self, scope: Scope) -> Any:
        """`evaluate` through the root's look-up and the generic walk: what `_read_of`'s
        specialised readers answer like."""
        value = self._base(scope)
        if value is MISSING:
            return MISSING
        tokens = self._tokens
        if tokens is not None:  # the common shape: `$response.body#/a/b`
            return resolve_tokens(value, tokens)
        return _walk_segments(value, self.segments)


def segment_keys(segments: tuple[Segment, ...]) -> list[str]:
    """The keys a navigation goes through, as text: pointer tokens, member names, indexes."""
    keys: list[str] = []
    for segment in segments:
        if isinstance(segment, Pointer):
            keys.extend(segment.tokens)
        elif isinstance(segment, Key):
            keys.append(segment.key)
        elif isinstance(segment, Index):
            keys.append(str(segment.index))
    return keys


def _walk_segments(value: Any, segments: tuple[Segment, ...]) -> Any:
    """The navigation after an expression's base value (`MISSING` stays `MISSING`)."""
    if value is MISSING:
        return MISSING
    for segment in segments:
        if value is MISSING:
            return MISSING
        if isinstance(segment, Pointer):
            value = resolve_tokens(value, segment.tokens)
        elif isinstance(segment, Index):
            value = step(value, segment.index)
        else:
            value = step(value, segment.key)
    return value


def _read_of(expression: Expression) -> Callable[[Scope], Any]:
    """The whole evaluation of an expression, chosen once for its shape (`Expression.evaluate_general`
    answers the same)."""
    base = expression._base
    segments = expression.segments
    if not segments:  # evaluate_general: the base's value (MISSING stays MISSING), no walk
        return _named_reader(expression) or base
    tokens = expression._tokens
    if tokens is None:

        def walk(scope: Scope) -> Any:
            return _walk_segments(base(scope), segments)

        return walk
    if expression.root == "response.body" and expression.name is None:
        # `$response.body#/a/b`: _from_view's body, then resolve_tokens' walk while it meets dicts
        # (anything else walks again from the body with resolve_tokens itself)

        if len(tokens) == 2:  # `#/state/life_cycle_state`, the commonest: the loop below, unrolled
            first, second = tokens

            def body_pointer_two(scope: Scope) -> Any:
                view = scope.response
                if view is None:
                    return MISSING
                body = view.body
                if type(body) is dict:
                    node = body.get(first, MISSING)
                    if type(node) is dict:
                        return node.get(second, MISSING)
                    if node is MISSING:
                        return MISSING
                if body is None or body is MISSING:
                    return MISSING
                return resolve_tokens(body, tokens)

            return body_pointer_two

        def body_pointer(scope: Scope) -> Any:
            view = scope.response
            if view is None:
                return MISSING
            body = view.body
            if body is None or body is MISSING:
                return MISSING
            current = body
            for token in tokens:
                if type(current) is not dict:
                    return resolve_tokens(body, tokens)
                current = current.get(token, MISSING)
                if current is MISSING:
                    return MISSING
            return current

        return body_pointer

    def pointer(scope: Scope) -> Any:
        value = base(scope)
        return MISSING if value is MISSING else resolve_tokens(value, tokens)

    return pointer


def _named_reader(expression: Expression) -> Callable[[Scope], Any] | None:
    """``$inputs.x`` and ``$steps.a.outputs.x`` with `_get` and `_named`'s dict steps in place (their
    own calls for anything else), or None for other roots."""
    root, key, name = expression.root, expression.id, expression.name
    if name is None:
        return None
    dotted = "." in name
    if root == "inputs":

        def named_input(scope: Scope) -> Any:
            inputs = scope.inputs
            if type(inputs) is dict:
                found = inputs.get(name, MISSING)
                if found is not MISSING or not dotted:
                    return found
            return _named(inputs, name)

        return named_input
    if root == "steps" and key is not None:

        def step_output(scope: Scope) -> Any:
            steps = scope.steps
            if type(steps) is dict:
                outputs = steps.get(key, MISSING)
                if type(outputs) is dict:
                    found = outputs.get(name, MISSING)
                    if found is not MISSING or not dotted:
                        return found
                return _named(outputs, name)
            return _named(_get(steps, key), name)

        return step_output
    return None


def _base_of(expression: Expression) -> Callable[[Scope], Any]:
    """The look-up of an expression's root and name, chosen once (the expression's hot path)."""
    root, key, name = expression.root, expression.id, expression.name
    if root in ("url", "method", "statusCode", "self"):
        attribute = {"url": "url", "method": "method", "statusCode": "status_code", "self": "self_uri"}[root]

        def simple(scope: Scope) -> Any:
            found = getattr(scope, attribute)
            return MISSING if found is None else found

        return simple
    if root == "inputs":
        return lambda scope: _named(scope.inputs, name)
    if root == "outputs":
        return lambda scope: _named(scope.outputs, name)
    if root == "steps":
        return lambda scope: _named(_get(scope.steps, key), name)
    if root == "workflows":
        field, step_id = expression.field, expression.step
        if field == "steps":  # {"steps": {step id: outputs}}, if the engine keeps them
            return lambda scope: _named(_get(_get(_get(scope.workflows, key), "steps"), step_id), name)
        return lambda scope: _named(_get(_get(scope.workflows, key), field), name)
    if root == "sourceDescriptions":
        return lambda scope: _get(_get(scope.source_descriptions, key), name)
    if root == "components":
        return lambda scope: _named(_get(scope.components, key), name)
    kind, _, part = root.partition(".")
    if kind == "message" or part == "payload":
        text = str(expression)

        def unsupported(scope: Scope) -> Any:
            raise Unsupported(f"`{text}` reads an AsyncAPI message, which spola does not run yet")

        return unsupported
    if kind == "request":
        return lambda scope: _from_view(scope.request, part, name)
    return lambda scope: _from_view(scope.response, part, name)


def _get(container: Any, key: str | None) -> Any:
    if type(container) is dict and key is not None:
        return container.get(key, MISSING)
    if key is None or container is MISSING or container is None:
        return MISSING
    try:
        return container.get(key, MISSING)
    except AttributeError:
        return MISSING


def _named(container: Mapping[str, Any] | Any, name: str | None) -> Any:
    if type(container) is dict and name is not None:
        found = container.get(name, MISSING)
        if found is not MISSING or "." not in name:  # what lookup_dotted answers, in one step
            return found
    if container is MISSING or container is None or name is None:
        return MISSING if name is not None else container
    return lookup_dotted(container, name)


def _from_view(view: RequestView | ResponseView | None, part: str, name: str | None) -> Any:
    if view is None:
        return MISSING
    if part == "header":
        return view.headers.get(name or "", MISSING)
    if part == "query":
        return view.query.get(name or "", MISSING)
    if part == "path":
        return view.path.get(name or "", MISSING)
    if view.body is None or view.body is MISSING:
        return MISSING
    return view.body if name is None else lookup_dotted(view.body, name)
