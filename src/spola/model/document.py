"""The Arazzo document as frozen structs (`msgspec.Struct`): every object of the 1.0 / 1.1 specification.

Every object keeps ``pointer``, its JSON Pointer in the file it came from, so findings and reports
can say ``workflows[0].steps[2]`` and ``file:line``. Reusable Objects are already resolved: a
parameter or action that came from ``$components`` keeps the reference text in ``reference``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from msgspec import Struct, field

from spola.errors import Finding, Location, OperationNotFound, Unsupported, WorkflowNotFound
from spola.model.collector import nearest_position
from spola.model.refs_text import parse_workflow_ref
from spola.model.source_description import SourceDescription  # noqa: TC001 - re-exported, part of the model
from spola.structs import repr_without

if TYPE_CHECKING:
    from spola.criteria import CompiledCriterion, Value
    from spola.model.operation import Operation
    from spola.model.sources import Source


class Info(Struct, frozen=True):
    """Metadata about the document."""

    title: str
    version: str
    summary: str | None = None
    description: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = "/info"


class Criterion(Struct, frozen=True):
    """A Criterion Object; ``type`` is ``simple`` when omitted, ``version`` from an Expression Type Object."""

    condition: str
    compiled: CompiledCriterion
    type: str = "simple"
    version: str | None = None
    context: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""


class Parameter(Struct, frozen=True):
    """A Parameter Object; ``in_`` is None for workflow inputs. ``raw_value`` is the value as written."""

    name: str
    in_: str | None
    value: Value
    raw_value: Any = None
    reference: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""


class SuccessAction(Struct, frozen=True):
    """A Success Action Object: ``end`` or ``goto`` (a step of this workflow or another workflow)."""

    name: str
    type: str
    workflow_id: str | None = None
    step_id: str | None = None
    parameters: tuple[Parameter, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    reference: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""


class FailureAction(Struct, frozen=True):
    """A Failure Action Object: ``end``, ``retry`` or ``goto``; retry_after in seconds."""

    name: str
    type: str
    workflow_id: str | None = None
    step_id: str | None = None
    parameters: tuple[Parameter, ...] = ()
    retry_after: float | None = None
    retry_limit: int | None = None
    criteria: tuple[Criterion, ...] = ()
    reference: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""


class PayloadReplacement(Struct, frozen=True):
    """A Payload Replacement Object; the selector type is None when omitted (decided by content type)."""

    target: str
    value: Value
    target_selector_type: str | None = None
    target_selector_version: str | None = None
    raw_value: Any = None
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""


class RequestBody(Struct, frozen=True):
    """A Request Body Object; ``payload`` is compiled, ``raw_payload`` as written (None when absent)."""

    content_type: str | None
    payload: Value | None
    replacements: tuple[PayloadReplacement, ...] = ()
    raw_payload: Any = None
    has_payload: bool = False
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""


class Step(Struct, frozen=True, eq=False):
    """A Step Object. Exactly one of operation_id / operation_path / channel_path / workflow_id is set."""

    step_id: str
    description: str | None = None
    operation_id: str | None = None
    operation_path: str | None = None
    workflow_id: str | None = None
    channel_path: str | None = None
    action: str | None = None  # AsyncAPI: "send" | "receive"
    correlation_id: Value | None = None
    parameters: tuple[Parameter, ...] = ()
    request_body: RequestBody | None = None
    success_criteria: tuple[Criterion, ...] = ()
    on_success: tuple[SuccessAction, ...] = ()
    on_failure: tuple[FailureAction, ...] = ()
    outputs: dict[str, Value] = field(default_factory=dict)
    timeout: int | None = None  # milliseconds
    depends_on: tuple[str, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""

    @property
    def kind(self) -> str:
        """``workflow``, ``asyncapi`` (channelPath or action given) or ``operation``."""
        if self.workflow_id is not None:
            return "workflow"
        if self.channel_path is not None or self.action is not None:
            return "asyncapi"
        return "operation"


class Workflow(Struct, frozen=True, eq=False):
    """A Workflow Object. ``inputs`` is the JSON Schema with ``#/components/inputs`` references resolved."""

    workflow_id: str
    steps: tuple[Step, ...]
    summary: str | None = None
    description: str | None = None
    inputs: dict[str, Any] | None = None
    raw_inputs: Any = None
    depends_on: tuple[str, ...] = ()
    success_actions: tuple[SuccessAction, ...] = ()
    failure_actions: tuple[FailureAction, ...] = ()
    outputs: dict[str, Value] = field(default_factory=dict)
    parameters: tuple[Parameter, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = ""

    def step(self, step_id: str) -> Step | None:
        """The step with this id, or None."""
        return next((s for s in self.steps if s.step_id == step_id), None)

    def step_index(self, step_id: str) -> int:
        """The position of the step with this id; -1 when absent."""
        return next((i for i, s in enumerate(self.steps) if s.step_id == step_id), -1)


class Components(Struct, frozen=True):
    """The Components Object: raw input schemas and the resolved reusable objects."""

    inputs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    success_actions: dict[str, SuccessAction] = field(default_factory=dict)
    failure_actions: dict[str, FailureAction] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)
    pointer: str = "/components"


_DOCUMENT_UNSHOWN: Final = frozenset({"positions", "raw", "sources", "operations", "family"})


class Document(Struct, frozen=True, eq=False):
    """A loaded Arazzo document, its sources, and every step's operation resolved at load time.

    ``sources`` maps source names to what was loaded for them (absent when a source was not loaded:
    ``resolve_sources=False``). ``warnings`` are findings that did not make loading fail.
    """

    arazzo: str
    info: Info
    source_descriptions: tuple[SourceDescription, ...]
    workflows: tuple[Workflow, ...]
    components: Components = field(default_factory=Components)
    self_uri: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    uri: str | None = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    async_steps: frozenset[str] = frozenset()
    sources_resolved: bool = False
    warnings: tuple[Finding, ...] = ()
    family: dict[str, Document] = field(default_factory=dict)

    def __repr__(self) -> str:  # as the dataclass repr was: the maps below the document left out
        return repr_without(self, _DOCUMENT_UNSHOWN)

    @property
    def version(self) -> tuple[int, int]:
        """The (major, minor) of the Arazzo specification the document declares."""
        major, minor = self.arazzo.split(".")[:2]
        return int(major), int(minor)

    def locate(self, pointer: str) -> Location:
        """The file, line and column of a JSON Pointer in this document (nearest known ancestor)."""
        where = nearest_position(self.positions, pointer)
        line, column = where if where else (None, None)
        return Location(self.path, line, column, pointer)

    def workflow(self, workflow_id: str) -> Workflow:
        """The workflow with this id.

        Raises:
            WorkflowNotFound: no such workflow (the message lists the ones there are).
        """
        for workflow in self.workflows:
            if workflow.workflow_id == workflow_id:
                return workflow
        available = ", ".join(w.workflow_id for w in self.workflows)
        raise WorkflowNotFound(
            f"no workflow '{workflow_id}' in {self.path or 'the document'}; available: {available}"
        )

    def default_workflow(self) -> Workflow:
        """The only workflow of the document.

        Raises:
            WorkflowNotFound: there are several; the message lists them and says to pick one.
        """
        if len(self.workflows) == 1:
            return self.workflows[0]
        available = ", ".join(w.workflow_id for w in self.workflows)
        raise WorkflowNotFound(
            f"{self.path or 'the document'} has {len(self.workflows)} workflows: {available}",
            hint="Pick one with --workflow.",
        )

    def source(self, name: str) -> SourceDescription | None:
        """The source description with this name, or None."""
        return next((s for s in self.source_descriptions if s.name == name), None)

    def operation_for(self, step: Step) -> Operation | None:
        """The API operation a step calls (resolved at load time); None for a workflow step.

        Raises:
            Unsupported: the step targets an AsyncAPI source.
            OperationNotFound: the document was loaded without resolving its sources.
        """
        if step.workflow_id is not None:
            return None
        if step.pointer in self.async_steps:
            raise Unsupported(
                f"step '{step.step_id}': AsyncAPI is not supported yet", location=self.locate(step.pointer)
            )
        operation = self.operations.get(step.pointer)
        if operation is None:
            reason = "its sources were not loaded" if not self.sources_resolved else "it was not resolved"
            raise OperationNotFound(
                f"step '{step.step_id}' has no operation: {reason}", location=self.locate(step.pointer)
            )
        return operation

    def resolve_workflow(self, ref: str) -> tuple[Document, Workflow]:
        """The document and workflow a ``workflowId`` reference names.

        ``ref`` is a local workflow id or ``$sourceDescriptions.<name>.<workflowId>`` (braces allowed).

        Raises:
            WorkflowNotFound: no such source, source document or workflow.
        """
        parsed = parse_workflow_ref(ref)
        if parsed is None:
            raise WorkflowNotFound(f"'{ref}' is not a workflow reference")
        source_name, workflow_id = parsed
        if source_name is None:
            return self, self.workflow(workflow_id)
        loaded = self.sources.get(source_name)
        child = self.family.get(loaded.location) if loaded is not None else None
        if child is None:
            known = ", ".join(s.name for s in self.source_descriptions)
            raise WorkflowNotFound(
                f"'{ref}': source '{source_name}' is not a loaded Arazzo document (sources: {known})"
            )
        return child, child.workflow(workflow_id)
