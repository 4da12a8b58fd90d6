"""Operation look-up at load time: operationId (plain, qualified), operationPath, what an Operation holds."""

from __future__ import annotations

import pytest

from spola.errors import DocumentError
from spola.model import Document, Operation, load
from tests.unit.model.conftest import PETSTORE, Write, arazzo


def _load(write: Write, steps: str, **kwargs: str) -> Document:
    write("pets.yaml", PETSTORE)
    return load(write("flow.arazzo.yaml", arazzo(steps, **kwargs)))


def _only_operation(document: Document) -> Operation:
    (step,) = document.workflows[0].steps
    operation = document.operation_for(step)
    assert operation is not None
    return operation


def _refused(write: Write, steps: str, **kwargs: str) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        _load(write, steps, **kwargs)
    return caught.value


def test_an_operation_carries_method_path_servers_parameters_and_security(write: Write) -> None:
    operation = _only_operation(_load(write, "- stepId: a\n  operationId: listPets"))
    assert (operation.source, operation.operation_id, operation.method, operation.path) == (
        "pets",
        "listPets",
        "GET",
        "/pets",
    )
    assert operation.pointer == "/paths/~1pets/get"
    assert operation.file.endswith("pets.yaml")
    assert operation.openapi_version == "3.0.3"
    (server,) = operation.servers
    assert server.url == "https://{env}.pets.example/v1"
    assert server.variables["env"].default == "api"
    assert server.variables["env"].enum == ("api", "sandbox")
    (limit,) = operation.parameters
    assert (limit.name, limit.in_, limit.required, limit.style, limit.explode) == (
        "limit",
        "query",
        False,
        "form",
        True,
    )
    assert limit.schema == {"type": "integer", "maximum": 100}
    assert operation.security == ({"apiKey": []},)
    assert operation.security_schemes == {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}
    assert operation.request_body is None
    assert str(operation) == "pets.listPets"


def test_operation_security_wins_even_when_empty_and_the_body_is_resolved(write: Write) -> None:
    operation = _only_operation(_load(write, "- stepId: a\n  operationId: createPet"))
    assert operation.security == ()
    assert operation.request_body is not None
    schema = operation.request_body["content"]["application/json"]["schema"]
    assert schema["properties"]["name"] == {"type": "string"}
    assert schema["properties"]["children"]["items"]["$ref"].endswith("pets.yaml#/components/schemas/Pet")


def test_path_level_servers_and_parameters_merge_with_the_operation_winning(write: Write) -> None:
    operation = _only_operation(_load(write, "- stepId: a\n  operationId: getPet"))
    assert [s.url for s in operation.servers] == ["https://pets-by-id.example"]
    params = {(p.name, p.in_): p for p in operation.parameters}
    assert params[("petId", "path")].required is True
    assert params[("petId", "path")].style == "simple"
    assert params[("X-Trace", "header")].schema == {"type": "integer"}
    assert params[("X-Trace", "header")].required is True
    assert operation.parameter("x-trace", "header") is params[("X-Trace", "header")]
    assert operation.parameter("petId", "query") is None


@pytest.mark.parametrize(
    "reference",
    [
        "'{$sourceDescriptions.pets.url}#/paths/~1pets~1{petId}/get'",
        "'$sourceDescriptions.pets.url#/paths/~1pets~1{petId}/get'",
        "'$sourceDescriptions.pets#/paths/~1pets~1{petId}/get'",
        "'{$sourceDescriptions.pets.url}#/paths/~1pets~1%7BpetId%7D/get'",
        "'./pets.yaml#/paths/~1pets~1{petId}/get'",
    ],
)
def test_operation_path_forms_all_reach_the_operation(write: Write, reference: str) -> None:
    operation = _only_operation(_load(write, f"- stepId: a\n  operationPath: {reference}"))
    assert (operation.method, operation.path, operation.operation_id) == ("GET", "/pets/{petId}", "getPet")


@pytest.mark.parametrize(
    "reference", ["$sourceDescriptions.pets.getPet", "'{$sourceDescriptions.pets.getPet}'"]
)
def test_a_qualified_operation_id_names_its_source(write: Write, reference: str) -> None:
    assert _only_operation(_load(write, f"- stepId: a\n  operationId: {reference}")).path == "/pets/{petId}"


def test_an_operation_path_to_a_path_item_says_to_add_the_method(write: Write) -> None:
    error = _refused(write, "- stepId: a\n  operationPath: '{$sourceDescriptions.pets.url}#/paths/~1pets'")
    assert "is a path item, not an operation: add the method, e.g. /paths/~1pets/get" in str(error)


def test_an_operation_path_with_a_missing_method_or_path_is_a_finding(write: Write) -> None:
    error = _refused(
        write, "- stepId: a\n  operationPath: '{$sourceDescriptions.pets.url}#/paths/~1pets/delete'"
    )
    assert "path '/pets' has no 'delete' operation" in str(error)
    error = _refused(
        write, "- stepId: a\n  operationPath: '{$sourceDescriptions.pets.url}#/paths/~1cats/get'"
    )
    assert "no path '/cats'" in str(error)


def test_a_malformed_operation_path_shows_the_expected_form(write: Write) -> None:
    error = _refused(write, "- stepId: a\n  operationPath: not-a-reference")
    assert "'not-a-reference' is not an operationPath; write {$sourceDescriptions.<name>.url}#/paths/" in str(
        error
    )


def test_an_unknown_source_name_is_a_finding_with_a_suggestion(write: Write) -> None:
    error = _refused(write, "- stepId: a\n  operationId: $sourceDescriptions.pet.listPets")
    (finding,) = error.findings
    assert finding.message == "no source description named 'pet'"
    assert finding.hint == "did you mean 'pets'?"


def test_an_operation_id_in_several_sources_is_ambiguous_unless_qualified(write: Write) -> None:
    write("more.yaml", PETSTORE)
    sources = (
        "  - name: pets\n    url: ./pets.yaml\n    type: openapi\n"
        "  - name: more\n    url: ./more.yaml\n    type: openapi\n"
    )
    error = _refused(write, "- stepId: a\n  operationId: listPets", sources=sources)
    (finding,) = error.findings
    assert "operationId 'listPets' is ambiguous" in finding.message
    assert "$sourceDescriptions.more.listPets, $sourceDescriptions.pets.listPets" in finding.message
    document = _load(write, "- stepId: a\n  operationId: $sourceDescriptions.more.listPets", sources=sources)
    assert _only_operation(document).source == "more"


def test_an_action_on_an_openapi_step_is_a_warning(write: Write) -> None:
    document = _load(write, "- stepId: a\n  operationId: listPets\n  action: send", version="1.1.0")
    assert _only_operation(document).operation_id == "listPets"
    assert [w.message for w in document.warnings] == ["ignored: 'action' applies to AsyncAPI operations only"]
