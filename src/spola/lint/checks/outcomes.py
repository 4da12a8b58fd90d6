"""``end-on-error-state``: an ``onSuccess`` ``end`` taken when the remote work failed.

Real poll loops end the workflow from ``onSuccess`` on every terminal state, errors included: the
dbt seed's ``runFailed`` ends on ``$.data.status == 20 || $.data.status == 30`` (error, cancelled),
and the run is then reported *succeeded* — a CI job that ran it passes although the dbt job
failed. An ``end`` success action is flagged when its name says failure (``runFailed``,
``onError``, ``cancelled``…) or its criteria compare a field with a failure-like literal
(``'FAILED'``, ``'INTERNAL_ERROR'``, ``is_error == true``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from spola.lint.conditions import comparisons, path_text
from spola.lint.flow import effective_actions
from spola.model.pointers import join

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spola.errors import Finding
    from spola.lint.context import LintContext
    from spola.model import SuccessAction

_ERROR_WORD: Final = re.compile(
    r"fail|error|err\b|cancel|abort|timed?_?out|reject|crash|broken|killed", re.IGNORECASE
)
_ERROR_FIELD: Final = re.compile(r"error|fail|cancel", re.IGNORECASE)


def _words(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")


def _error_literals(action: SuccessAction) -> list[str]:
    found: list[str] = []
    for criterion in action.criteria:
        for comparison in comparisons(criterion):
            literal: Any = comparison.literal
            field = str(comparison.path[-1]) if comparison.path else ""
            if comparison.op not in ("==", "!="):
                continue
            if isinstance(literal, str) and _ERROR_WORD.search(literal) and comparison.op == "==":
                found.append(f"{path_text(comparison.path)} == {literal!r}")
            elif isinstance(literal, bool) and _ERROR_FIELD.search(field):
                failing = literal if comparison.op == "==" else not literal
                if failing:
                    found.append(f"{path_text(comparison.path)} == {str(literal).lower()}")
    return found


def end_on_error_states(ctx: LintContext) -> Iterator[Finding]:
    """One finding per success action that ends the workflow (as succeeded) on a failure state."""
    seen: set[str] = set()
    for workflow in ctx.document.workflows:
        for step in workflow.steps:
            for action in effective_actions(step.on_success, workflow.success_actions):
                pointer = getattr(action, "pointer", "") or join(step.pointer, "onSuccess")
                if action.type != "end" or pointer in seen:
                    continue
                literals = _error_literals(action)
                words = _words(action.name or "").lower().split()
                negated = bool(words) and words[0] in ("no", "not", "non", "without", "never")
                named = not negated and bool(_ERROR_WORD.search(" ".join(words)))
                if not literals and not named:
                    continue
                seen.add(pointer)
                why = f"its criteria match {', '.join(literals)}" if literals else "its name says it failed"
                yield ctx.finding(
                    "end-on-error-state",
                    pointer,
                    f"onSuccess action '{action.name}' of step '{step.step_id}' ends workflow "
                    f"'{workflow.workflow_id}' as succeeded, yet {why}: a run whose remote job failed "
                    "reports success",
                    hint="end it from onFailure instead (make the successCriteria exclude the failure "
                    "states), or have CI check the outcome: spola run --expect '$outputs.<status> == …'",
                )
