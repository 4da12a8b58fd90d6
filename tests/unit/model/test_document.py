"""The Document API and the objects it holds: workflows, reusable components, inputs, pointers and lines."""

from __future__ import annotations

import pytest

from spola.errors import DocumentError, OperationNotFound, WorkflowNotFound
from spola.model import Document, load, load_text
from tests.unit.model.conftest import SHARED, Write

COMPONENTS = """
arazzo: 1.1.0
info: {title: Components, version: '1'}
sourceDescriptions:
  - {name: pets, url: https://pets.example/openapi.yaml, type: openapi}
workflows:
  - workflowId: first
    inputs:
      $ref: '#/components/inputs/query'
    parameters:
      - reference: $components.parameters.page
        value: 2
    successActions:
      - reference: $components.successActions.done
    steps:
      - stepId: list
        operationId: listPets
        parameters:
          - reference: $components.parameters.page
          - name: Accept
            in: header
            value: application/json
        onFailure:
          - reference: $components.failureActions.again
        outputs:
          total: $response.body#/total
          first:
            context: $response.body
            selector: $.items[0]
            type: jsonpath
      - stepId: next
        workflowId: second
        parameters:
          - name: page
            value: $steps.list.outputs.total
  - workflowId: second
    steps:
      - stepId: only
        operationId: listPets
components:
  inputs:
    query:
      type: object
      properties:
        tree: {$ref: '#/components/inputs/node'}
    node:
      type: object
      properties:
        children: {type: array, items: {$ref: '#/components/inputs/node'}}
  parameters:
    page: {name: page, in: query, value: 1}
  successActions:
    done: {name: done, type: end}
  failureActions:
    again:
      name: again
      type: retry
      stepId: list
      retryAfter: 1.5
      retryLimit: 3
      criteria:
        - condition: $statusCode == 503
"""


def _components() -> Document:
    return load_text(COMPONENTS, "components.arazzo.yaml", resolve_sources=False)


def test_reusable_objects_are_resolved_and_keep_their_reference() -> None:
    document = _components()
    first = document.workflow("first")
    (default,) = first.parameters
    assert (default.name, default.in_, default.raw_value, default.reference) == (
        "page",
        "query",
        2,
        "$components.parameters.page",
    )
    assert default.pointer == "/workflows/0/parameters/0"
    step = first.steps[0]
    assert step.parameters[0].raw_value == 1
    (again,) = step.on_failure
    assert (again.type, again.step_id, again.retry_after, again.retry_limit) == ("retry", "list", 1.5, 3)
    assert again.reference == "$components.failureActions.again"
    assert again.criteria[0].condition == "$statusCode == 503"
    assert first.success_actions[0].type == "end"
    assert set(document.components.parameters) == {"page"}
    assert document.components.failure_actions["again"].pointer == "/components/failureActions/again"


def test_input_refs_into_components_are_inlined_and_recursion_goes_to_defs() -> None:
    inputs = _components().workflow("first").inputs
    assert inputs is not None
    tree = inputs["properties"]["tree"]
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/components.inputs.node"}
    assert inputs["$defs"]["components.inputs.node"]["type"] == "object"
    assert _components().workflow("first").raw_inputs == {"$ref": "#/components/inputs/query"}


def test_input_schemas_resolve_for_jsonschema() -> None:
    import jsonschema

    inputs = _components().workflow("first").inputs
    jsonschema.validate({"tree": {"children": [{"children": []}]}}, inputs)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"tree": {"children": [{"children": 3}]}}, inputs)


def test_outputs_and_values_are_compiled() -> None:
    step = _components().workflow("first").steps[0]
    assert set(step.outputs) == {"total", "first"}
    assert step.parameters[1].value.is_literal
    assert not step.outputs["total"].is_literal


def test_workflow_lookup_and_the_default_workflow() -> None:
    document = _components()
    assert document.workflow("second").steps[0].step_id == "only"
    with pytest.raises(WorkflowNotFound, match="no workflow 'third'.*available: first, second"):
        document.workflow("third")
    with pytest.raises(WorkflowNotFound) as caught:
        document.default_workflow()
    assert caught.value.hint == "Pick one with --workflow."


def test_steps_know_their_kind_and_index() -> None:
    workflow = _components().workflow("first")
    assert [s.kind for s in workflow.steps] == ["operation", "workflow"]
    assert workflow.step_index("next") == 1
    assert workflow.step("nope") is None


def test_operation_for_without_resolved_sources_says_so() -> None:
    document = _components()
    assert document.operation_for(document.workflow("first").steps[1]) is None
    with pytest.raises(OperationNotFound, match="its sources were not loaded"):
        document.operation_for(document.workflow("first").steps[0])


def test_locate_maps_a_pointer_to_file_line_and_column() -> None:
    document = _components()
    lines = COMPONENTS.splitlines()
    location = document.locate("/workflows/0/steps/0/onFailure/0")
    assert location.file == "components.arazzo.yaml"
    assert (
        location.line is not None
        and lines[location.line - 1].strip() == "- reference: $components.failureActions.again"
    )
    nested = document.locate("/workflows/0/steps/0/outputs/first/selector")
    assert nested.line is not None and lines[nested.line - 1].strip() == "selector: $.items[0]"
    beyond = document.locate("/workflows/0/steps/0/outputs/first/selector/deeper")
    assert beyond.line == nested.line and beyond.pointer.endswith("/deeper")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "- reference: $components.parameters.page\n        value: 2",
            "- reference: $components.parameters.pages",
            "no parameters component named 'pages'",
        ),
        (
            "- reference: $components.successActions.done",
            "- reference: $components.parameters.page",
            "'$components.parameters.page' names parameters, but successActions are expected here",
        ),
        (
            "- reference: $components.successActions.done",
            "- reference: components.done",
            "'components.done' is not a component reference",
        ),
        (
            "      stepId: list\n      retryAfter",
            "      stepId: lost\n      retryAfter",
            "retry target 'lost' (from $components.failureActions.again) is not a step of workflow 'first'",
        ),
        (
            "workflowId: second\n        parameters",
            "workflowId: third\n        parameters",
            "workflowId 'third' is not a workflow of this document",
        ),
    ],
)
def test_broken_references_are_findings(old: str, new: str, expected: str) -> None:
    assert old in COMPONENTS
    with pytest.raises(DocumentError) as caught:
        load_text(COMPONENTS.replace(old, new, 1), resolve_sources=False)
    assert expected in str(caught.value)


DEPENDS = """
arazzo: 1.1.0
info: {title: Depends, version: '1'}
sourceDescriptions:
  - {name: ev, url: https://ev.example/asyncapi.yaml, type: asyncapi}
workflows:
  - workflowId: a
    dependsOn: [b]
    steps:
      - stepId: one
        operationId: x
        action: send
      - stepId: two
        operationId: x
        action: receive
        dependsOn: [one, $workflows.b.steps.three]
  - workflowId: b
    dependsOn: [a]
    steps:
      - stepId: three
        operationId: x
        action: send
"""


def test_depends_on_references_and_cycles_are_checked() -> None:
    with pytest.raises(DocumentError) as caught:
        load_text(
            DEPENDS.replace("[one,", "[two,").replace("steps.three", "steps.four"), resolve_sources=False
        )
    messages = [f.message for f in caught.value.findings]
    assert "a step cannot depend on itself" in messages
    assert "dependsOn '$workflows.b.steps.four': no step 'four' in workflow 'b'" in messages
    assert "workflow dependsOn cycle: a → b → a" in messages


def test_the_seed_documents_point_at_the_right_lines() -> None:
    path = SHARED / "seeds" / "arazzo" / "databricks-run-job-and-wait-workflow.yml"
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    document = load(path)
    lines = path.read_text().splitlines()
    step = document.workflow("run-job-and-wait").steps[1]
    location = document.locate(step.on_success[2].pointer + "/stepId")
    assert location.line is not None and lines[location.line - 1].strip() == "stepId: getRunOutput"


def test_duplicate_workflow_ids_are_refused_when_loading_a_file(write: Write) -> None:
    path = write(
        "w.arazzo.yaml", COMPONENTS.replace("workflowId: second\n    steps", "workflowId: first\n    steps")
    )
    with pytest.raises(DocumentError, match="duplicate workflowId 'first'"):
        load(path, resolve_sources=False)


def test_an_invalid_input_schema_is_a_finding_at_the_bad_keyword() -> None:
    broken = COMPONENTS.replace("children: {type: array,", "children: {type: arrray,")
    with pytest.raises(DocumentError) as caught:
        load_text(broken, "c.yaml", resolve_sources=False)
    (finding,) = caught.value.findings
    assert finding.message.startswith("not a valid JSON Schema:")
    assert finding.location.pointer == "/components/inputs/node/properties/children/type"
    assert (
        finding.location.line
        == COMPONENTS.splitlines().index(
            "        children: {type: array, items: {$ref: '#/components/inputs/node'}}"
        )
        + 1
    )


def test_a_workflow_parameter_without_in_is_a_warning_when_steps_call_operations() -> None:
    text = COMPONENTS.replace(
        "      - reference: $components.parameters.page\n        value: 2", "      - {name: page, value: 2}"
    )
    document = load_text(text, "c.yaml", resolve_sources=False)
    assert [w.message for w in document.warnings] == [
        "workflow parameter 'page' has no 'in': operation steps of this workflow cannot tell where to send it"
    ]


def test_documents_workflows_and_steps_hash_by_identity() -> None:
    document = _components()
    step = document.workflow("first").steps[0]
    assert {document: 1, document.workflow("first"): 2, step: 3}[step] == 3
