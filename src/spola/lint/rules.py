"""Every rule ``spola validate`` knows: its id, default severity, what it finds and how to fix it.

The table is the single source for the SARIF ``rules`` list, the documentation and the exit status:
a finding's severity is its rule's unless the check that made it says otherwise.
"""

from __future__ import annotations

from typing import Final

from msgspec import Struct

ERROR: Final = "error"
WARNING: Final = "warning"
INFO: Final = "info"
SEVERITIES: Final = (ERROR, WARNING, INFO)


class Rule(Struct, frozen=True):
    """One rule: ``blocking`` rules stop ``spola run`` (their error findings are certain to break it)."""

    id: str
    severity: str
    summary: str
    fix: str
    blocking: bool = False


_TABLE: Final = (
    # --- what the document model finds while loading -------------------------------------------------
    Rule("unreadable", ERROR, "The file cannot be read or is not YAML/JSON.", "Fix the path or the syntax."),
    Rule(
        "structure",
        ERROR,
        "The document does not have the shape the Arazzo specification gives it.",
        "Follow the field list of the object named in the message.",
    ),
    Rule(
        "source-unreadable",
        ERROR,
        "A source description cannot be loaded or is not a usable description.",
        "Point its url at a readable OpenAPI 3.x or Arazzo file.",
    ),
    Rule(
        "operation-unresolved",
        ERROR,
        "A step's operationId or operationPath names no operation.",
        "Use an operationId the source defines, or $sourceDescriptions.<name>.<operationId>.",
    ),
    Rule(
        "expression-syntax",
        ERROR,
        "A runtime expression, condition or selector does not parse.",
        "Correct the expression at the offset given.",
    ),
    Rule(
        "duplicate-id",
        ERROR,
        "Two workflows, steps, sources, actions or parameters share an id or name.",
        "Give each one a unique id or name.",
    ),
    Rule(
        "dependency-cycle", ERROR, "Workflows depend on each other in a cycle.", "Break the dependsOn cycle."
    ),
    Rule(
        "ref-unresolved",
        ERROR,
        "A $ref, a $components reference or a Reusable Object points at nothing.",
        "Point it at something that exists.",
    ),
    # --- references between the parts of a document ------------------------------------------------
    Rule(
        "unknown-step",
        ERROR,
        "A stepId used by an action, an expression or dependsOn does not exist.",
        "Use the stepId of a step of the same workflow.",
    ),
    Rule(
        "unknown-workflow",
        ERROR,
        "A workflowId used by a step, an action, an expression or dependsOn does not exist.",
        "Use the workflowId of a workflow of this document or of an Arazzo source.",
    ),
    Rule(
        "unknown-output",
        ERROR,
        "An expression reads an output that the step or workflow does not declare.",
        "Declare the output, or read one that exists.",
    ),
    Rule(
        "unknown-input",
        WARNING,
        "An expression reads an input that the workflow's inputs schema does not declare.",
        "Add the input to the workflow's inputs, or fix the name.",
    ),
    # --- the OpenAPI operation a step calls ---------------------------------------------------------
    Rule(
        "missing-path-parameter",
        ERROR,
        "A path parameter of the operation gets no value: the request cannot be built.",
        "Add the parameter with `in: path`.",
        blocking=True,
    ),
    Rule(
        "missing-required-parameter",
        ERROR,
        "A query, header or cookie parameter the operation requires is not supplied.",
        "Add the parameter with the `in` the operation declares.",
    ),
    Rule(
        "missing-request-body",
        ERROR,
        "The operation requires a request body and the step sends none.",
        "Add a requestBody with a payload.",
    ),
    Rule(
        "unknown-parameter",
        WARNING,
        "A step parameter is not declared on the operation with that `in`.",
        "Check the name and `in` against the OpenAPI operation.",
    ),
    Rule(
        "undeclared-request-body",
        INFO,
        "The step sends a request body the operation does not declare.",
        "Check that the operation accepts a body; the description may be incomplete.",
    ),
    Rule(
        "server-mismatch",
        WARNING,
        "The operation exists only under a server other than the description's "
        "default, which is where spola sends the request.",
        "Run with --server <source>=<url>, or give the operation its own `servers`.",
    ),
    # --- control flow ---------------------------------------------------------------------------------
    Rule(
        "unreachable-step",
        WARNING,
        "No path of the workflow leads to the step.",
        "Remove the step or add a goto that reaches it.",
    ),
    Rule(
        "loop-no-exit",
        ERROR,
        "A goto cycle none of whose transitions leads out: the workflow can only leave it by failing.",
        "Add an end action, or a criteria-guarded goto out of the loop.",
    ),
    Rule(
        "poll-uncovered-states",
        WARNING,
        "A poll loop branches on a response field whose schema lists "
        "more values than the loop's criteria name; the others fall through.",
        "Name every state: loop on the non-terminal ones, end or move on for the terminal ones.",
    ),
    Rule(
        "end-on-error-state",
        WARNING,
        "An onSuccess `end` action is taken on a failure state of the remote work (its criteria match "
        "FAILED, ERROR, CANCELLED… or its name says so): the workflow then reports success.",
        "End from onFailure instead, or let CI check the outcome with spola run --expect.",
    ),
    Rule(
        "output-may-be-null",
        WARNING,
        "A workflow output reads a step that the workflow can finish without running.",
        "Move the output to a step every successful path runs, or accept null.",
    ),
    # --- forms spola runs but other tools may not ---------------------------------------------------
    Rule(
        "bare-expression",
        WARNING,
        "A runtime expression is written inside a string without braces.",
        "Write {$expr} inside strings, e.g. `Bearer {$inputs.token}`.",
    ),
    Rule(
        "jsonpath-dialect",
        WARNING,
        'A jsonpath criterion uses the `$.a == "X"` comparison dialect, not an RFC 9535 query.',
        'Write an RFC 9535 filter such as `$[?$.a == "X"]`.',
    ),
    Rule(
        "goto-self-loop",
        WARNING,
        "A step's goto targets the step itself: spola backs off between repeats, other runners may spin.",
        "Use a failure action `retry` with `retryAfter` and `retryLimit` for portability.",
    ),
    Rule(
        "id-pattern",
        WARNING,
        "A stepId, workflowId or source name does not match `[A-Za-z0-9_-]+` (a SHOULD of every Arazzo "
        "version): 1.0 expressions can still refer to it, 1.1 expressions and other tools cannot.",
        "Rename it to letters, digits, `_` and `-`, and the expressions that read it.",
    ),
    # --- other runners' habits ------------------------------------------------------------------------
    Rule(
        "steps-shorthand",
        WARNING,
        "A step output is read as `$steps.<id>.<name>`, arazzo-runner's shorthand, instead of "
        "`$steps.<id>.outputs.<name>`; spola reads it that way and says so once per run.",
        "Write `$steps.<id>.outputs.<name>` (the hint gives the rewritten value).",
    ),
    Rule(
        "ambiguous-habit",
        ERROR,
        "A form another runner accepts, whose meaning is not certain here (a shorthand naming no "
        "output of the step): spola refuses to guess.",
        "Write the standard form (the message says which).",
        blocking=True,
    ),
    Rule(
        "cancel-extension",
        ERROR,
        "A workflow's `x-spola-cancel` (how spola cancels the remote work) is malformed or names what "
        "does not exist.",
        "Give workflowId (a workflow in reach), inputs the cancel workflow declares, a positive timeout.",
    ),
)

RULES: Final[dict[str, Rule]] = {rule.id: rule for rule in _TABLE}
"""Every rule by id, in documentation order."""


def rule(rule_id: str) -> Rule:
    """The rule with this id.

    Raises:
        KeyError: no such rule.
    """
    return RULES[rule_id]
