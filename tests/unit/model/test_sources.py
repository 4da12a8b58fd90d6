"""Source descriptions: files beside the document, file: URLs, remote refusal, $ref across files,
Swagger 2.0, AsyncAPI (loads, refused at run time) and Arazzo documents (children, cycles)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from spola.errors import DocumentError, Unsupported, WorkflowNotFound
from spola.model import Document, load
from spola.model import sources as sources_module
from tests.unit.model.conftest import PETSTORE, Write, arazzo


def _refused(path: Path, **kwargs: Any) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        load(path, **kwargs)
    return caught.value


def _source(name: str, url: str, kind: str | None = "openapi") -> str:
    return f"  - name: {name}\n    url: {url}\n" + (f"    type: {kind}\n" if kind else "")


SPLIT_API = """
openapi: 3.1.0
info: {title: Split, version: "1"}
paths:
  /things/{id}:
    $ref: './paths/things.yaml#/item'
"""

THINGS = """
item:
  parameters:
    - $ref: '../common.yaml#/components/parameters/id'
  put:
    operationId: putThing
    requestBody:
      $ref: '../common.yaml#/components/requestBodies/Thing'
    responses: {}
"""

COMMON = """
components:
  parameters:
    id: {name: id, in: path, required: true, schema: {$ref: '#/components/schemas/Id'}}
  requestBodies:
    Thing:
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Thing'}
  schemas:
    Id: {type: string, format: uuid}
    Thing: {type: object, properties: {id: {$ref: '#/components/schemas/Id'}}}
"""


def test_refs_are_resolved_across_files_relative_to_the_file_they_are_in(write: Write) -> None:
    write("api/split.yaml", SPLIT_API)
    write("api/paths/things.yaml", THINGS)
    write("api/common.yaml", COMMON)
    path = write(
        "flow.arazzo.yaml",
        arazzo("- stepId: a\n  operationId: putThing", sources=_source("s", "api/split.yaml")),
    )
    document = load(path)
    operation = document.operation_for(document.workflows[0].steps[0])
    assert operation is not None
    assert (operation.method, operation.path) == ("PUT", "/things/{id}")
    (param,) = operation.parameters
    assert param.schema == {"type": "string", "format": "uuid"}
    assert operation.request_body == {
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}}
            }
        }
    }


def test_a_ref_that_points_at_nothing_is_a_finding_at_the_step(write: Write) -> None:
    write("api/split.yaml", SPLIT_API)
    write("api/paths/things.yaml", THINGS.replace("requestBodies/Thing", "requestBodies/Nope"))
    write("api/common.yaml", COMMON)
    path = write(
        "flow.arazzo.yaml",
        arazzo("- stepId: a\n  operationId: putThing", sources=_source("s", "api/split.yaml")),
    )
    (finding,) = _refused(path).findings
    assert finding.location.pointer == "/workflows/0/steps/0/operationId"
    assert "'../common.yaml#/components/requestBodies/Nope' points at nothing" in finding.message


def test_a_circular_ref_chain_is_a_finding_not_a_hang(write: Write) -> None:
    write(
        "loop.yaml",
        """
        openapi: 3.0.0
        info: {title: Loop, version: "1"}
        paths:
          /a:
            get:
              operationId: getA
              parameters: [{$ref: '#/components/parameters/p'}]
        components:
          parameters:
            p: {$ref: '#/components/parameters/q'}
            q: {$ref: '#/components/parameters/p'}
        """,
    )
    path = write(
        "flow.arazzo.yaml", arazzo("- stepId: a\n  operationId: getA", sources=_source("s", "loop.yaml"))
    )
    assert "circular $ref" in str(_refused(path))


def test_a_file_url_is_read_like_a_path(write: Write) -> None:
    pets = write("elsewhere/pets.yaml", PETSTORE)
    path = write(
        "flow.arazzo.yaml",
        arazzo("- stepId: a\n  operationId: listPets", sources=_source("pets", pets.as_uri())),
    )
    assert load(path).sources["pets"].location == pets.resolve().as_uri()


def test_a_remote_source_needs_allow_remote(write: Write) -> None:
    sources = _source("pets", "https://pets.example/openapi.yaml")
    path = write("flow.arazzo.yaml", arazzo("- stepId: a\n  operationId: listPets", sources=sources))
    (finding,) = _refused(path).findings
    assert finding.rule == "source"
    assert finding.location.pointer == "/sourceDescriptions/0/url"
    assert "is remote and remote sources are not allowed" in finding.message
    assert finding.hint is not None and "--allow-remote" in finding.hint


def test_a_remote_source_is_fetched_when_allowed(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []

    def fake_open(request: Any, hosts: Any) -> io.BytesIO:
        fetched.append(request.full_url)
        return io.BytesIO(PETSTORE.encode())

    monkeypatch.setattr(sources_module, "_open", fake_open)
    sources = _source("pets", "https://pets.example/openapi.yaml")
    path = write("flow.arazzo.yaml", arazzo("- stepId: a\n  operationId: listPets", sources=sources))
    document = load(path, allow_remote=True)
    assert fetched == ["https://pets.example/openapi.yaml"]
    assert document.sources["pets"].file == "https://pets.example/openapi.yaml"


def test_swagger_2_is_refused_with_a_clear_message(write: Write) -> None:
    write("old.yaml", "swagger: '2.0'\ninfo: {title: Old, version: '1'}\npaths: {}\n")
    path = write(
        "flow.arazzo.yaml", arazzo("- stepId: a\n  operationId: x", sources=_source("old", "old.yaml"))
    )
    (finding,) = _refused(path).findings
    assert "Swagger 2.0 (OpenAPI 2.0), which spola does not support" in finding.message


def test_a_source_whose_content_contradicts_its_type_is_a_finding(write: Write) -> None:
    write("events.yaml", "asyncapi: 3.0.0\ninfo: {title: E, version: '1'}\n")
    path = write(
        "flow.arazzo.yaml", arazzo("- stepId: a\n  operationId: x", sources=_source("ev", "events.yaml"))
    )
    text = str(_refused(path))
    assert "declared as openapi but" in text
    assert "events.yaml is an asyncapi document" in text


def test_a_source_type_is_detected_when_omitted(write: Write) -> None:
    write("pets.yaml", PETSTORE)
    path = write(
        "flow.arazzo.yaml",
        arazzo("- stepId: a\n  operationId: listPets", sources=_source("p", "pets.yaml", None)),
    )
    assert load(path).sources["p"].type == "openapi"


ASYNC_STEPS = """
- stepId: send
  operationId: $sourceDescriptions.events.placeOrder
  action: send
- stepId: hear
  channelPath: '{$sourceDescriptions.events.url}#/channels/orders'
  action: receive
  correlationId: $inputs.id
"""


def test_asyncapi_sources_load_and_their_steps_are_refused_only_when_run(write: Write) -> None:
    write("events.yaml", "asyncapi: 3.0.0\ninfo: {title: Events, version: '1'}\n")
    path = write(
        "flow.arazzo.yaml",
        arazzo(ASYNC_STEPS, version="1.1.0", sources=_source("events", "events.yaml", "asyncapi")),
    )
    document = load(path)
    assert document.sources["events"].type == "asyncapi"
    for step in document.workflows[0].steps:
        with pytest.raises(Unsupported, match="AsyncAPI is not supported yet"):
            document.operation_for(step)


CHILD = """
arazzo: 1.0.1
info: {title: Child, version: '1'}
sourceDescriptions:
  - {name: pets, url: ./pets.yaml, type: openapi}
  - {name: parent, url: ../flow.arazzo.yaml, type: arazzo}
workflows:
  - workflowId: adopt
    steps:
      - stepId: find
        operationId: getPet
      - stepId: back
        workflowId: $sourceDescriptions.parent.main
"""


def _family(write: Write, steps: str) -> Path:
    write("child/pets.yaml", PETSTORE)
    write("child/child.arazzo.yaml", CHILD)
    write("pets.yaml", PETSTORE)
    sources = _source("pets", "./pets.yaml") + _source("child", "./child/child.arazzo.yaml", "arazzo")
    return write("flow.arazzo.yaml", arazzo(steps, sources=sources))


def test_an_arazzo_source_is_a_child_document_and_cycles_between_documents_are_fine(write: Write) -> None:
    path = _family(write, "- stepId: a\n  workflowId: $sourceDescriptions.child.adopt")
    document = load(path)
    step = document.workflows[0].steps[0]
    assert document.operation_for(step) is None
    child, workflow = document.resolve_workflow(step.workflow_id or "")
    assert (child.info.title, workflow.workflow_id) == ("Child", "adopt")
    operation = child.operation_for(workflow.steps[0])
    assert operation is not None and operation.operation_id == "getPet"
    back, main = child.resolve_workflow("$sourceDescriptions.parent.main")
    assert back is document and main is document.workflows[0]
    assert document.resolve_workflow("{$sourceDescriptions.child.adopt}")[1] is workflow


def test_an_unknown_workflow_of_an_arazzo_source_is_a_finding(write: Write) -> None:
    path = _family(write, "- stepId: a\n  workflowId: $sourceDescriptions.child.adpot")
    (finding,) = _refused(path).findings
    assert finding.message == "no workflow 'adpot' in Arazzo source 'child'"
    assert finding.hint == "did you mean 'adopt'?"


def test_resolve_workflow_raises_workflow_not_found(write: Write) -> None:
    document = load(_family(write, "- stepId: a\n  workflowId: $sourceDescriptions.child.adopt"))
    with pytest.raises(WorkflowNotFound, match="available: adopt"):
        document.resolve_workflow("$sourceDescriptions.child.nope")
    with pytest.raises(WorkflowNotFound, match="not a loaded Arazzo document"):
        document.resolve_workflow("$sourceDescriptions.pets.x")
    with pytest.raises(WorkflowNotFound, match="available: main"):
        document.resolve_workflow("nope")


def test_problems_in_a_child_document_are_reported_in_its_own_file(write: Write) -> None:
    path = _family(write, "- stepId: a\n  workflowId: $sourceDescriptions.child.adopt")
    write("child/child.arazzo.yaml", CHILD.replace("getPet", "getPets"))
    (finding,) = _refused(path).findings
    assert finding.location.file is not None and finding.location.file.endswith("child.arazzo.yaml")
    assert finding.message == "unknown operationId 'getPets' in pets"


def test_sources_are_read_once_per_load(write: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    original = Path.open

    def counting(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "r" in mode:
            reads.append(self)
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting)
    path = _family(
        write,
        "- stepId: a\n  workflowId: $sourceDescriptions.child.adopt\n- stepId: b\n  operationId: listPets",
    )
    load(path)
    assert len(reads) == len(set(reads)) == 4


def test_a_json_document_loads_with_positions(write: Write) -> None:
    write("pets.yaml", PETSTORE)
    path = write(
        "flow.json",
        """
        {
          "arazzo": "1.0.1",
          "info": {"title": "J", "version": "1"},
          "sourceDescriptions": [{"name": "pets", "url": "pets.yaml", "type": "openapi"}],
          "workflows": [{"workflowId": "w", "steps": [{"stepId": "s", "operationId": "listPets"}]}]
        }
        """,
    )
    document: Document = load(path)
    assert document.locate("/workflows/0/steps/0").line == 5


PARENT_11 = """
arazzo: 1.1.0
$self: https://flows.example/parent.arazzo.yaml
info: {title: Parent, version: '1'}
sourceDescriptions:
  - {name: ev, url: ./events.yaml, type: asyncapi}
  - {name: other, url: ./other.arazzo.yaml, type: arazzo}
workflows:
  - workflowId: main
    dependsOn: [$sourceDescriptions.other.produce]
    steps:
      - stepId: wait
        operationId: $sourceDescriptions.ev.hear
        action: receive
        dependsOn: [$sourceDescriptions.other.produce.steps.emit]
"""

OTHER_11 = """
arazzo: 1.1.0
info: {title: Other, version: '1'}
sourceDescriptions:
  - {name: ev, url: ./events.yaml, type: asyncapi}
  - {name: parent, url: 'https://flows.example/parent.arazzo.yaml', type: arazzo}
workflows:
  - workflowId: produce
    steps:
      - stepId: emit
        operationId: $sourceDescriptions.ev.say
        action: send
      - stepId: again
        workflowId: $sourceDescriptions.parent.main
"""


def test_cross_document_depends_on_and_identity_by_self(write: Write) -> None:
    write("events.yaml", "asyncapi: 3.0.0\ninfo: {title: Events, version: '1'}\n")
    write("other.arazzo.yaml", OTHER_11)
    path = write("parent.arazzo.yaml", PARENT_11)
    document = load(path)
    other, produce = document.resolve_workflow("$sourceDescriptions.other.produce")
    assert produce.steps[0].step_id == "emit"
    assert other.resolve_workflow("$sourceDescriptions.parent.main")[0] is document
    write("parent.arazzo.yaml", PARENT_11.replace("steps.emit]", "steps.emitt]"))
    (finding,) = _refused(path).findings
    assert finding.message == "no step 'emitt' in workflow 'produce' of source 'other'"
    assert finding.hint == "did you mean 'emit'?"
