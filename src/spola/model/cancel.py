"""``x-spola-cancel``: how a workflow's remote work is cancelled when spola stops the run.

A workflow may carry the extension::

    x-spola-cancel:
      workflowId: cancel-run                 # a workflow of this document or $sourceDescriptions.<name>.<id>
      inputs:                                # the cancel workflow's inputs: values with runtime expressions
        run_id: $steps.runNow.outputs.runId  #   over the stopped run ($inputs, $steps, $outputs, $workflows)
      timeout: 60                            # seconds the cancel workflow may take (default 60)

When the run is stopped (Ctrl-C, SIGTERM, ``--timeout``, ``spola cancel``, an MCP client's cancel), spola
runs that workflow with those inputs. ``cancel_spec`` compiles and checks it for the workflow about to
run; ``cancel_findings`` reports every problem for ``spola validate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct, field

from spola.errors import DocumentError, Finding, SpolaError

if TYPE_CHECKING:
    from spola.criteria import Value
    from spola.model.document import Document, Workflow

CANCEL_EXTENSION: Final = "x-spola-cancel"
DEFAULT_CANCEL_TIMEOUT: Final = 60.0
_KEYS: Final = frozenset({"workflowId", "inputs", "timeout", "description"})
_READABLE: Final = frozenset({"inputs", "steps", "outputs", "workflows", "sourceDescriptions", "components"})


class CancelSpec(Struct, frozen=True):
    """A compiled ``x-spola-cancel``: the workflow to run, its inputs and how long it may take."""

    workflow_ref: str
    inputs: dict[str, Value] = field(default_factory=dict)
    timeout: float = DEFAULT_CANCEL_TIMEOUT
    required: tuple[str, ...] = ()
    pointer: str = ""


def _finding(document: Document, pointer: str, message: str, hint: str | None = None) -> Finding:
    return Finding(message, document.locate(pointer), hint, rule="cancel-extension", severity="error")


def _compile(document: Document, workflow: Workflow) -> tuple[CancelSpec | None, list[Finding]]:
    from spola.criteria import compile_value

    raw = workflow.extensions.get(CANCEL_EXTENSION)
    if raw is None:
        return None, []
    base = f"{workflow.pointer}/{CANCEL_EXTENSION}"
    where = f"workflow '{workflow.workflow_id}': {CANCEL_EXTENSION}"
    problems: list[Finding] = []
    if not isinstance(raw, dict):
        hint = "Write it as a mapping: {workflowId: ID, inputs: {NAME: VALUE}, timeout: SECONDS}."
        return None, [_finding(document, base, f"{where} must be a mapping, not {type(raw).__name__}", hint)]
    for key in sorted(set(raw) - _KEYS):
        if not str(key).startswith("x-"):
            problems.append(
                _finding(document, f"{base}/{key}", f"{where} has an unknown field '{key}'",
                         "Its fields are workflowId, inputs, timeout and description.")
            )  # fmt: skip
    ref = raw.get("workflowId")
    target: Workflow | None = None
    if not isinstance(ref, str) or not ref:
        problems.append(_finding(document, base, f"{where} needs a workflowId (the cancel workflow)"))
    else:
        try:
            _, target = document.resolve_workflow(ref)
        except SpolaError as exc:
            problems.append(_finding(document, f"{base}/workflowId", f"{where}: {exc.message}", exc.hint))
        if target is workflow:
            problems.append(
                _finding(document, f"{base}/workflowId", f"{where} names the workflow itself as its cancel")
            )
    timeout = raw.get("timeout", DEFAULT_CANCEL_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        problems.append(
            _finding(document, f"{base}/timeout", f"{where}: timeout must be a positive number of seconds")
        )
        timeout = DEFAULT_CANCEL_TIMEOUT
    inputs: dict[str, Value] = {}
    raw_inputs = raw.get("inputs", {})
    if not isinstance(raw_inputs, dict):
        problems.append(_finding(document, f"{base}/inputs", f"{where}: inputs must be a mapping"))
        raw_inputs = {}
    steps = {s.step_id for s in workflow.steps}
    for name, value in raw_inputs.items():
        pointer = f"{base}/inputs/{name}"
        try:
            compiled = compile_value(value)
        except SpolaError as exc:
            problems.append(_finding(document, pointer, f"{where}: input '{name}': {exc.message}"))
            continue
        for expression in compiled.expressions:
            if expression.root not in _READABLE:
                problems.append(
                    _finding(document, pointer,
                             f"{where}: input '{name}' reads `{expression}`, which is not known when a "
                             "run is stopped", "Read $inputs, $steps.<id>.outputs, $outputs or $workflows.")
                )  # fmt: skip
            elif expression.root == "steps" and expression.id not in steps:
                problems.append(
                    _finding(document, pointer,
                             f"{where}: input '{name}' reads step '{expression.id}', which is not a step of "
                             f"workflow '{workflow.workflow_id}'")
                )  # fmt: skip
        inputs[str(name)] = compiled
    required: tuple[str, ...] = ()
    if target is not None:
        schema = target.inputs if isinstance(target.inputs, dict) else {}
        properties = schema.get("properties")
        declared = set(properties) if isinstance(properties, dict) else None
        required = tuple(str(n) for n in schema.get("required", ()) if isinstance(n, str))
        for name in sorted(inputs):
            if declared is not None and name not in declared:
                problems.append(
                    _finding(document, f"{base}/inputs/{name}",
                             f"{where}: workflow '{target.workflow_id}' has no input '{name}'")
                )  # fmt: skip
        for name in required:
            if name not in inputs:
                problems.append(
                    _finding(document, f"{base}/inputs",
                             f"{where}: the required input '{name}' of workflow '{target.workflow_id}' is "
                             "not given", f"Add inputs: {{{name}: ...}}.")
                )  # fmt: skip
    if problems or not isinstance(ref, str):
        return None, problems
    return CancelSpec(ref, inputs, float(timeout), required, base), []


def cancel_findings(document: Document, workflow: Workflow) -> list[Finding]:
    """Every problem of the workflow's ``x-spola-cancel`` (empty when it has none or it is right)."""
    return _compile(document, workflow)[1]


def cancel_spec(document: Document, workflow: Workflow) -> CancelSpec | None:
    """The workflow's compiled ``x-spola-cancel``, None when it has none.

    Raises:
        DocumentError: the extension is wrong (each problem a finding with its line).
    """
    spec, problems = _compile(document, workflow)
    if problems:
        raise DocumentError(
            f"workflow '{workflow.workflow_id}' has an invalid {CANCEL_EXTENSION}; nothing was sent",
            findings=problems,
            location=problems[0].location,
            hint="spola validate lists every finding.",
        )
    return spec


def describe(spec: CancelSpec) -> dict[str, Any]:
    """The spec as plain data (for logs and the journal): workflow, input names, timeout."""
    return {"workflowId": spec.workflow_ref, "inputs": sorted(spec.inputs), "timeout": spec.timeout}
