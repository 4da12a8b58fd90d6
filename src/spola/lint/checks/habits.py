"""Other runners' habits: forms a document written for another tool uses, which spola reads when their
meaning is certain (a warning with the rewrite) and refuses, naming the habit, when it is not.

- ``steps-shorthand``: ``$steps.<id>.<name>`` (Jentic's arazzo-runner skips ``outputs``) is
  ``$steps.<id>.outputs.<name>`` when step ``<id>`` of the workflow declares output ``<name>``;
  otherwise ``ambiguous-habit`` (an error that stops a run reaching it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from msgspec import Struct

from spola.errors import ExpressionError
from spola.expr import SHORTHAND, parse_template
from spola.model.fields import did_you_mean
from spola.model.walk import criteria_of, sites_of, strings_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from spola.errors import Finding
    from spola.expr import Expression
    from spola.lint.context import LintContext
    from spola.model import Document, Step, Workflow

_SHOWN: Final = 100


class Written(Struct, frozen=True):
    """One string of the document (a value, a condition or a context) and what it holds."""

    pointer: str
    text: str
    expressions: tuple[Expression, ...]


def _strings(workflow: Workflow) -> Iterator[Written]:
    for site in sites_of(workflow):
        for pointer, text in strings_in(site.raw, site.pointer):
            if "$steps." not in text:
                continue
            try:
                template = parse_template(text)
            except ExpressionError:
                continue
            yield Written(pointer, text, template.expressions)
    for criterion in criteria_of(workflow):
        compiled = criterion.compiled
        if compiled.context is not None and criterion.context is not None:
            yield Written(criterion.pointer + "/context", criterion.context, (compiled.context,))
        condition = tuple(e for e in compiled.expressions if e is not compiled.context)
        yield Written(criterion.pointer + "/condition", criterion.condition, condition)


def with_outputs(text: str, step_ids: Iterable[str]) -> str:
    """``text`` with ``.outputs`` put back after ``$steps.<id>`` wherever it is missing."""
    for step_id in sorted(set(step_ids), key=len, reverse=True):
        pattern = re.escape(f"$steps.{step_id}.") + r"(?!outputs(?![A-Za-z0-9_]))"
        text = re.sub(pattern, f"$steps.{step_id}.outputs.".replace("\\", "\\\\"), text)
    return text


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


class Shorthands(Struct, frozen=True):
    """The ``$steps.<id>.<name>`` expressions of one string, and those that read no declared output."""

    written: Written
    shorthands: tuple[Expression, ...]
    unclear: tuple[Expression, ...]


def shorthands_in(document: Document) -> Iterator[Shorthands]:
    """Every string of the document that reads a step output with arazzo-runner's shorthand."""
    seen: set[str] = set()
    for workflow in document.workflows:
        steps = {s.step_id: s for s in workflow.steps}
        for written in _strings(workflow):
            found = tuple(e for e in written.expressions if e.habit == SHORTHAND)
            if not found or written.pointer in seen:
                continue
            seen.add(written.pointer)
            yield Shorthands(written, found, tuple(e for e in found if not _resolves(e, steps)))


def steps_shorthand(ctx: LintContext) -> Iterator[Finding]:
    """``steps-shorthand`` (resolved) and ``ambiguous-habit`` (refused) for ``$steps.<id>.<name>``."""
    for workflow in ctx.document.workflows:
        steps = {s.step_id: s for s in workflow.steps}
        prefix = workflow.pointer + "/"
        for found in shorthands_in(ctx.document):
            written, shorthands, unclear = found.written, found.shorthands, found.unclear
            if not written.pointer.startswith(prefix):
                continue
            if unclear:
                expression = unclear[0]
                yield ctx.finding(
                    "ambiguous-habit",
                    written.pointer,
                    f"`{_written(expression)}` looks like arazzo-runner's shorthand for `{expression}`, but "
                    + _why_not(expression, steps, workflow.workflow_id),
                    hint=_unclear_hint(expression, steps),
                )
                continue
            fixed = with_outputs(written.text, (e.id or "" for e in shorthands))
            means = ", ".join(f"`{_written(e)}` means `{e}`" for e in shorthands)
            yield ctx.finding(
                "steps-shorthand",
                written.pointer,
                f"{means} (arazzo-runner's shorthand without `.outputs.`); spola reads it that way, the "
                "specification and other tools do not",
                hint=f"write `{_short(fixed)}`",
                fix=fixed,
            )


def _written(expression: Expression) -> str:
    """The expression as the shorthand spells it."""
    return str(expression).replace(f"$steps.{expression.id}.outputs.", f"$steps.{expression.id}.", 1)


def _resolves(expression: Expression, steps: dict[str, Step]) -> bool:
    step = steps.get(expression.id or "")
    return step is not None and (expression.name or "").split(".", 1)[0] in step.outputs


def _why_not(expression: Expression, steps: dict[str, Step], workflow_id: str) -> str:
    step = steps.get(expression.id or "")
    if step is None:
        return f"workflow '{workflow_id}' has no step '{expression.id}'; spola does not guess what it reads"
    head = (expression.name or "").split(".", 1)[0]
    return f"step '{expression.id}' declares no output '{head}'; spola does not guess what it reads"


def _unclear_hint(expression: Expression, steps: dict[str, Step]) -> str:
    step = steps.get(expression.id or "")
    if step is None:
        return did_you_mean(expression.id or "", steps) or "use the stepId of a step of this workflow"
    outputs = step.outputs
    head = (expression.name or "").split(".", 1)[0]
    known = ", ".join(sorted(outputs)) or "none"
    return (
        did_you_mean(head, outputs)
        or f"declare the output on step '{expression.id}' and read `{expression}` (its outputs: {known})"
    )


def notices(document: Document, covers: Callable[[str], bool]) -> list[str]:
    """What ``spola run`` says once per document about the habits it resolved, for the pointers
    ``covers`` accepts (what the run reaches): one line per habit, with the first place and a count."""
    resolved = [f for f in shorthands_in(document) if not f.unclear and covers(f.written.pointer)]
    if not resolved:
        return []
    located = sorted(
        ((document.locate(f.written.pointer), f) for f in resolved),
        key=lambda pair: (pair[0].line or 0, pair[0].column or 0),
    )
    where, first = located[0]
    expression = first.shorthands[0]
    more = sum(len(f.shorthands) for f in resolved) - 1
    tail = f"; {more} more like it (spola validate lists them)" if more else ""
    return [
        f"{where}: `{_written(expression)}` means `{expression}` (arazzo-runner's shorthand without "
        f"`.outputs.`){tail}"
    ]
