"""What a broken document is told: every finding at once, each with file:line and the path in the document."""

from __future__ import annotations

from pathlib import Path

import pytest

from spola.errors import DocumentError, Finding
from spola.model import collect_findings, load, load_text
from tests.unit.model.conftest import PETSTORE, Write, arazzo


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _findings(text: str, *, resolve_sources: bool = False, path: str = "doc.arazzo.yaml") -> list[Finding]:
    with pytest.raises(DocumentError) as caught:
        load_text(text, path, resolve_sources=resolve_sources)
    return caught.value.findings


def test_bad_yaml_is_a_document_error_with_line_and_column() -> None:
    findings = _findings("arazzo: 1.0.1\ninfo:\n  title: [unclosed\n  version: 1\n")
    assert len(findings) == 1
    assert findings[0].location.file == "doc.arazzo.yaml"
    assert findings[0].location.line == 4
    assert findings[0].location.column is not None
    assert "invalid YAML" in findings[0].message


def test_a_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        load(tmp_path / "nope.yaml")
    assert "file not found" in str(caught.value)


def test_an_empty_document_is_refused() -> None:
    assert "empty" in _findings("")[0].message


def test_an_unknown_field_is_an_error_with_a_suggestion_but_extensions_are_not() -> None:
    text = arazzo(
        """
        - stepId: a
          operationID: listPets
          x-note: fine
        """
    )
    findings = _findings(text)
    unknown = next(f for f in findings if "unknown field" in f.message)
    assert "'operationID'" in unknown.message
    assert unknown.hint == "did you mean 'operationId'?"
    assert unknown.location.pointer == "/workflows/0/steps/0/operationID"
    line = _line(text, "operationID")
    assert str(unknown.location) == f"doc.arazzo.yaml:{line}:9 workflows[0].steps[0].operationID"
    assert not any("x-note" in f.message for f in findings)


def test_a_missing_required_field_names_it() -> None:
    text = "arazzo: 1.0.1\ninfo:\n  version: '1'\nsourceDescriptions: []\nworkflows: []\n"
    messages = [f.message for f in _findings(text)]
    assert "missing required field 'title' in a Info Object" in messages
    assert messages.count("must not be empty") == 2


def test_a_wrong_type_says_what_was_found() -> None:
    text = arazzo("- stepId: a\n  operationId: listPets\n  timeout: soon", version="1.1.0")
    finding = next(f for f in _findings(text) if f.location.pointer.endswith("/timeout"))
    assert finding.message == "must be an integer, not a string"


def test_a_bad_expression_is_located_with_its_offset() -> None:
    text = arazzo(
        """
        - stepId: a
          operationId: listPets
          successCriteria:
            - condition: $statusCode == 200 &&
        """
    )
    (finding,) = _findings(text)
    assert finding.rule == "expression"
    assert finding.location.pointer == "/workflows/0/steps/0/successCriteria/0/condition"
    assert finding.location.line == _line(text, "- condition:")
    assert finding.location.offset is not None
    assert "`$statusCode == 200 &&`" in finding.message


def test_a_bad_context_is_reported_on_the_context() -> None:
    text = arazzo(
        """
        - stepId: a
          operationId: listPets
          successCriteria:
            - context: response.body
              condition: $.ok
              type: jsonpath
        """
    )
    (finding,) = _findings(text)
    assert finding.location.pointer.endswith("/successCriteria/0/context")
    assert finding.location.offset == 0


def test_an_unknown_operation_id_suggests_close_matches(write: Write) -> None:
    write("pets.yaml", PETSTORE)
    path = write("flow.arazzo.yaml", arazzo("- stepId: a\n  operationId: listPet"))
    with pytest.raises(DocumentError) as caught:
        load(path)
    (finding,) = caught.value.findings
    assert finding.rule == "operation"
    assert finding.message == "unknown operationId 'listPet' in pets"
    assert finding.hint == "did you mean 'listPets'?"
    assert "did you mean 'listPets'?" in str(caught.value)


def test_several_problems_make_several_findings_in_one_error() -> None:
    text = arazzo(
        """
        - stepId: a
          operationId: listPets
          onSuccess:
            - name: next
              type: goto
              stepId: b
        - stepId: a
          operationId: listPets
          parameters:
            - name: limit
              value: 3
        """,
        extra="  - workflowId: main\n    steps: []\n",
    )
    with pytest.raises(DocumentError) as caught:
        load_text(text, "doc.arazzo.yaml", resolve_sources=False)
    messages = [f.message for f in caught.value.findings]
    assert "duplicate stepId 'a'" in messages
    assert "duplicate workflowId 'main'" in messages
    assert any("needs 'in'" in m for m in messages)
    assert any("goto target 'b'" in m for m in messages)
    assert "must not be empty" in messages
    assert "(5 problems)" in caught.value.message
    assert str(caught.value).count("\n  - ") == 5


def test_findings_render_one_line_each_with_file_line_and_path() -> None:
    text = arazzo(
        "- stepId: a\n  operationId: listPets\n  onFailure:\n    - name: x\n      type: retry\n"
        "      retryAfter: -1"
    )
    (finding,) = _findings(text)
    line = _line(text, "retryAfter")
    assert str(finding) == (
        f"doc.arazzo.yaml:{line}:13 workflows[0].steps[0].onFailure[0].retryAfter: must be at least 0, not -1"
    )


def test_an_unsupported_version_is_refused() -> None:
    text = arazzo("- stepId: a\n  operationId: listPets", version="2.0.0")
    assert "unsupported Arazzo version '2.0.0'" in _findings(text)[0].message


def test_arazzo_1_1_fields_are_refused_in_a_1_0_document() -> None:
    text = arazzo("- stepId: a\n  operationId: listPets\n  timeout: 1000")
    (finding,) = _findings(text)
    assert "'timeout' is an Arazzo 1.1 field" in finding.message
    assert finding.hint == "declare `arazzo: 1.1.0` to use it"


def test_an_openapi_file_given_as_the_workflow_file_is_recognised() -> None:
    assert "this is an openapi description" in _findings(PETSTORE)[0].message


def test_collect_findings_never_raises_and_returns_warnings_too(write: Write) -> None:
    path = write("flow.arazzo.yaml", arazzo("- stepId: a.b\n  operationId: listPets"))
    findings = collect_findings(path, resolve_sources=False)
    assert [(f.severity, f.location.pointer) for f in findings] == [
        ("warning", "/workflows/0/steps/0/stepId")
    ]
    broken = write("broken.yaml", "a: [")
    assert collect_findings(broken)[0].rule == "syntax"
    assert "file not found" in collect_findings(Path(broken).with_name("missing.yaml"))[0].message


def test_an_output_without_an_expression_is_a_warning() -> None:
    text = arazzo("- stepId: a\n  operationId: listPets\n  outputs:\n    id: response.body#/id")
    document = load_text(text, "doc.arazzo.yaml", resolve_sources=False)
    (warning,) = document.warnings
    assert warning.location.pointer == "/workflows/0/steps/0/outputs/id"
    assert "no runtime expression" in warning.message
