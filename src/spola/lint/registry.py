"""The checks ``spola validate`` runs on a loaded document, and the rules each one reports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from typing import TYPE_CHECKING, Final

from msgspec import Struct

if TYPE_CHECKING:
    from spola.errors import Finding
    from spola.lint.context import LintContext

CheckFn = Callable[["LintContext"], Iterable["Finding"]]


class Check(Struct, frozen=True):
    """A check function (``module.function`` in `spola.lint.checks`) and the rule ids its findings
    may carry; ``needs_sources`` when it reads the operations (skipped when the sources could not be
    loaded). The module is imported when the check first runs: ``spola run`` runs only the blocking
    checks, and imports only theirs (start-up)."""

    function: str
    rules: tuple[str, ...]
    needs_sources: bool = False

    def run(self, ctx: LintContext) -> Iterable[Finding]:
        """The check's findings on one document."""
        module, name = self.function.rsplit(".", 1)
        check: CheckFn = getattr(import_module(f"spola.lint.checks.{module}"), name)
        return check(ctx)


CHECKS: Final = (
    Check(
        "references.expression_references",
        ("unknown-step", "unknown-workflow", "unknown-output", "unknown-input", "ref-unresolved"),
    ),
    Check("parameters.missing_parameters", ("missing-path-parameter", "missing-required-parameter"), True),
    Check("parameters.unknown_parameters", ("unknown-parameter",), True),
    Check("parameters.request_bodies", ("missing-request-body", "undeclared-request-body"), True),
    Check("openapi_refs.response_refs", ("ref-unresolved",), True),
    Check("servers.server_mismatches", ("server-mismatch",), True),
    Check("control.unreachable_steps", ("unreachable-step",)),
    Check("control.loops_without_exit", ("loop-no-exit",)),
    Check("polling.uncovered_poll_states", ("poll-uncovered-states",), True),
    Check("outputs.outputs_may_be_null", ("output-may-be-null",)),
    Check("forms.bare_expressions", ("bare-expression",)),
    Check("forms.jsonpath_dialect", ("jsonpath-dialect",)),
    Check("control.self_gotos", ("goto-self-loop",)),
    Check("habits.steps_shorthand", ("steps-shorthand", "ambiguous-habit")),
    Check("cancel.cancel_extensions", ("cancel-extension",)),
    Check("outcomes.end_on_error_states", ("end-on-error-state",)),
)
"""Every check, in the order its findings are reported."""
