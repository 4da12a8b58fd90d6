"""The "remote state" of a step: which of its outputs its criteria read (what a poll loop waits on).

A Databricks poll step declares ``lifeCycleState: $response.body#/state/life_cycle_state`` and
loops while ``$response.body#/state/life_cycle_state != 'TERMINATED'``; a dbt one declares
``status: $response.body#/data/status`` and branches on ``$.data.status == 10`` (jsonpath over
``$response.body``). Both read the same place as an output, so the output's value is the remote
state (``lifeCycleState RUNNING``, ``status 3``) — for any document, with no vendor knowledge.

Pure static analysis of the document, done once per step and only when someone observes a run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from spola.criteria.jsonpath import JsonPathCheck
from spola.expr.nodes import segment_keys

if TYPE_CHECKING:
    from collections.abc import Iterable

    from spola.expr import Expression
    from spola.model import Criterion, Step, Workflow

Path = tuple[str, ...]

_QUERY_PART: Final = re.compile(r"\.([A-Za-z_][\w-]*)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\d+)\]")


def expression_path(expression: Expression) -> Path | None:
    """Where an expression reads, as a path: ``("response.body", "state", "life_cycle_state")``.

    ``$steps.<id>.outputs.<name>`` reads ``("steps", id, name)``; None for what is no remote state
    (``$statusCode``, ``$inputs``, ``$url`` …).
    """
    root = expression.root
    if root == "steps" and expression.id and expression.name:
        head: Path = ("steps", expression.id, *expression.name.split("."))
    elif root.startswith("response."):
        head = (root,) if expression.name is None else (root, expression.name.lower())
    else:
        return None
    return (*head, *segment_keys(expression.segments))


def query_path(text: str) -> Path:
    """The plain member/index names at the start of a JSONPath query (``$.a['b'][0]`` → a, b, 0)."""
    text = text.strip()
    if not text.startswith("$"):
        return ()
    out: list[str] = []
    pos = 1
    while pos < len(text):
        match = _QUERY_PART.match(text, pos)
        if match is None:
            break
        out.append(next(group for group in match.groups() if group is not None))
        pos = match.end()
    return tuple(out)


def criterion_paths(criterion: Criterion) -> set[Path]:
    """Every place a criterion reads (expressions, and jsonpath queries under their context)."""
    compiled = criterion.compiled
    paths: set[Path] = set()
    for expression in compiled.expressions:
        path = expression_path(expression)
        if path is not None:
            paths.add(path)
    checker = compiled.checker
    if isinstance(checker, JsonPathCheck) and compiled.context is not None and checker.fixed is not None:
        base = expression_path(compiled.context)
        comparison = checker.fixed.comparison
        if base is not None and comparison is not None:
            for query in comparison.queries:
                paths.add(base + query_path(query.text))
    return paths


def _criteria(step: Step, workflow: Workflow) -> Iterable[Criterion]:
    yield from step.success_criteria
    for action in (*step.on_success, *step.on_failure, *workflow.success_actions, *workflow.failure_actions):
        yield from getattr(action, "criteria", ()) or ()


def _related(output: Path, read: Path) -> bool:
    if output == read:
        return True
    if output[: len(read)] == read and len(read) >= 2:
        return True  # the criterion reads an object, the output a member of it
    # the output is an object the criterion reads into
    return read[: len(output)] == output and len(output) >= 2


def remote_outputs(step: Step, workflow: Workflow) -> tuple[str, ...]:
    """Names of the step's outputs its criteria (success criteria and actions') read, in order."""
    read: set[Path] = set()
    for criterion in _criteria(step, workflow):
        read |= criterion_paths(criterion)
    if not read:
        return ()
    names: list[str] = []
    for name, value in step.outputs.items():
        if ("steps", step.step_id, name) in read:
            names.append(name)
            continue
        expressions: tuple[Any, ...] = getattr(value, "expressions", ())
        if len(expressions) != 1:
            continue
        path = expression_path(expressions[0])
        if path is not None and any(_related(path, r) for r in read):
            names.append(name)
    return tuple(names)
