"""What expressions and fields refer to must exist: steps, workflows, outputs, inputs, components, $refs."""

from __future__ import annotations

import copy
from pathlib import Path

from spola.lint import lint
from tests.lint.documents import OPENAPI, findings, rules, step, workflow, write_doc


def clean_steps() -> list[dict[str, object]]:
    return [step("read", outputs={"status": "$response.body#/state/status"})]


def test_a_small_correct_document_has_no_finding(tmp_path: Path) -> None:
    path = write_doc(tmp_path, [workflow(clean_steps(), outputs={"status": "$steps.read.outputs.status"})])
    report = lint(path)
    assert report.findings == ()
    assert report.exit_status() == 0


def test_an_output_reading_a_step_that_does_not_exist_is_an_unknown_step(tmp_path: Path) -> None:
    path = write_doc(tmp_path, [workflow(clean_steps(), outputs={"status": "$steps.reed.outputs.status"})])
    report = lint(path)
    (found,) = findings(report, "unknown-step")
    assert found.severity == "error"
    assert "'reed'" in found.message
    assert found.hint == "did you mean 'read'?"
    assert found.location.pointer == "/workflows/0/outputs/status"
    assert found.location.line is not None
    assert report.exit_status() == 1


def test_a_parameter_reading_an_undeclared_output_is_an_unknown_output(tmp_path: Path) -> None:
    steps = [
        *clean_steps(),
        step("again", parameters=[{"name": "runId", "in": "path", "value": "$steps.read.outputs.id"}]),
    ]
    assert "unknown-output" in rules(write_doc(tmp_path, [workflow(steps)]))
    steps[1]["parameters"] = [{"name": "runId", "in": "path", "value": "$steps.read.outputs.status"}]
    assert "unknown-output" not in rules(write_doc(tmp_path, [workflow(steps)]))


def test_an_expression_naming_a_missing_workflow_is_an_unknown_workflow(tmp_path: Path) -> None:
    bad = workflow(clean_steps(), outputs={"x": "$workflows.other.outputs.status"})
    assert "unknown-workflow" in rules(write_doc(tmp_path, [bad]))
    other = workflow(clean_steps(), "other", outputs={"status": "$steps.read.outputs.status"})
    assert "unknown-workflow" not in rules(write_doc(tmp_path, [bad, other]))


def test_a_goto_to_a_missing_step_is_an_unknown_step_from_the_model(tmp_path: Path) -> None:
    steps = clean_steps()
    steps[0]["onSuccess"] = [{"name": "jump", "type": "goto", "stepId": "nowhere"}]
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    assert [f.rule for f in report.findings] == ["unknown-step"]
    assert report.findings[0].location.pointer == "/workflows/0/steps/0/onSuccess/0/stepId"


def test_an_input_the_schema_does_not_declare_is_an_unknown_input(tmp_path: Path) -> None:
    steps = [step("read", parameters=[{"name": "runId", "in": "path", "value": "$inputs.runID"}])]
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    (found,) = findings(report, "unknown-input")
    assert found.severity == "warning"
    assert found.hint == "did you mean 'runId'?"
    assert report.exit_status() == 0
    assert report.exit_status(strict=True) == 1


def test_a_components_expression_naming_nothing_is_an_unresolved_reference(tmp_path: Path) -> None:
    steps = [
        step("read", parameters=[{"name": "runId", "in": "path", "value": "$components.parameters.nope"}])
    ]
    components = {"parameters": {"run": {"name": "runId", "in": "path", "value": 1}}}
    assert "ref-unresolved" in rules(write_doc(tmp_path, [workflow(steps)], components=components))
    steps[0]["parameters"][0]["value"] = "$components.parameters.run"
    assert "ref-unresolved" not in rules(write_doc(tmp_path, [workflow(steps)], components=components))


def test_a_reusable_object_naming_no_component_is_an_unresolved_reference(tmp_path: Path) -> None:
    steps = [step("read", parameters=[{"reference": "$components.parameters.missing"}])]
    components = {"parameters": {"run": dict(name="runId", **{"in": "path"}, value="$inputs.runId")}}
    assert "ref-unresolved" in rules(write_doc(tmp_path, [workflow(steps)], components=components))
    steps[0]["parameters"] = [{"reference": "$components.parameters.run"}]
    assert rules(write_doc(tmp_path, [workflow(steps)], components=components)) == set()


def test_a_broken_response_ref_in_the_openapi_is_an_unresolved_reference(tmp_path: Path) -> None:
    api = copy.deepcopy(OPENAPI)
    response = api["paths"]["/runs/{runId}"]["get"]["responses"]["200"]
    response["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Gone"}
    report = lint(write_doc(tmp_path, [workflow(clean_steps())], openapi=api))
    (found,) = findings(report, "ref-unresolved")
    assert found.severity == "warning"
    assert "Gone" in found.message


def test_a_duplicate_step_id_is_a_duplicate_id(tmp_path: Path) -> None:
    report = lint(write_doc(tmp_path, [workflow([*clean_steps(), *clean_steps()])]))
    assert [f.rule for f in report.findings if f.severity == "error"] == ["duplicate-id"]
    assert lint(write_doc(tmp_path, [workflow(clean_steps())])).findings == ()


def test_a_condition_that_does_not_parse_is_an_expression_syntax_error(tmp_path: Path) -> None:
    steps = [step("read", successCriteria=[{"condition": "$statusCode == == 200"}])]
    report = lint(write_doc(tmp_path, [workflow(steps)]))
    (found,) = findings(report, "expression-syntax")
    assert found.location.pointer == "/workflows/0/steps/0/successCriteria/0/condition"
    steps[0]["successCriteria"] = [{"condition": "$statusCode == 200"}]
    assert rules(write_doc(tmp_path, [workflow(steps)])) == set()


def test_an_unknown_operation_id_is_operation_unresolved(tmp_path: Path) -> None:
    report = lint(write_doc(tmp_path, [workflow([step("read", "getRunn")])]))
    (found,) = findings(report, "operation-unresolved")
    assert found.hint == "did you mean 'getRun'?"
    assert report.exit_status() == 1


def test_checks_still_run_when_the_sources_cannot_be_loaded(tmp_path: Path) -> None:
    path = write_doc(tmp_path, [workflow(clean_steps(), outputs={"x": "$steps.nope.outputs.a"})])
    (tmp_path / "api.yaml").unlink()
    report = lint(path)
    assert {"source-unreadable", "unknown-step"} <= {f.rule for f in report.findings}
    assert report.readable


def test_a_misspelt_field_is_a_structure_error(tmp_path: Path) -> None:
    steps = [step("read", sucessCriteria=[{"condition": "$statusCode == 200"}])]
    (found,) = lint(write_doc(tmp_path, [workflow(steps)])).findings
    assert found.rule == "structure"
    assert found.hint == "did you mean 'successCriteria'?"


def test_workflows_depending_on_each_other_are_a_dependency_cycle(tmp_path: Path) -> None:
    first = workflow(clean_steps(), "first", dependsOn=["second"])
    second = workflow(clean_steps(), "second", dependsOn=["first"])
    assert "dependency-cycle" in rules(write_doc(tmp_path, [first, second]))
    del second["dependsOn"]
    assert "dependency-cycle" not in rules(write_doc(tmp_path, [first, second]))


def test_a_file_that_is_not_yaml_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("arazzo: [1.0.1\n")
    report = lint(path)
    assert not report.readable
    assert [f.rule for f in report.findings] == ["unreadable"]
    assert report.exit_status() == 2
    missing = lint(tmp_path / "absent.yaml")
    assert not missing.readable and missing.exit_status() == 2
