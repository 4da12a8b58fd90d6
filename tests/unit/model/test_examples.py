"""The specification's example documents: what loads, and what each one is told when it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from spola.errors import DocumentError
from spola.lint import lint
from spola.model import collect_findings, load
from tests.unit.model.conftest import shared


def _example(name: str) -> Path:
    return shared("spec", "examples", "1.0.0", name)


@pytest.mark.parametrize("name", ["pet-coupons.arazzo.yaml", "oauth.arazzo.yaml"])
def test_examples_with_local_sources_load_and_resolve(name: str) -> None:
    document = load(_example(name))
    for workflow in document.workflows:
        for step in workflow.steps:
            assert (document.operation_for(step) is None) == (step.workflow_id is not None)


@pytest.mark.parametrize("name", ["LoginAndRetrievePets.arazzo.yaml", "bnpl-arazzo.yaml"])
def test_examples_with_remote_sources_ask_for_allow_remote(name: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load(_example(name))
    sources = [f for f in caught.value.findings if f.rule == "source"]
    assert len(sources) == 1
    assert sources[0].hint is not None and "--allow-remote" in sources[0].hint
    assert sources[0].location.pointer == "/sourceDescriptions/0/url"


def test_every_1_0_example_loads_structurally() -> None:
    for name in (
        "LoginAndRetrievePets.arazzo.yaml",
        "FAPI-PAR.arazzo.yaml",
        "ExtendedParametersExample.arazzo.yaml",
        "oauth.arazzo.yaml",
        "pet-coupons.arazzo.yaml",
        "bnpl-arazzo.yaml",
    ):
        assert load(_example(name), resolve_sources=False).workflows


def test_the_bnpl_output_without_outputs_is_read_as_the_step_output_and_linted() -> None:
    # `$steps.retrieveFinalizedPaymentPlan.finalizedPaymentPlan`: arazzo-runner's shorthand, which the
    # spec's own example writes; the step declares that output, so its meaning is certain
    findings = collect_findings(_example("bnpl-arazzo.yaml"), resolve_sources=False)
    assert [f for f in findings if f.severity == "error"] == []
    document = load(_example("bnpl-arazzo.yaml"), resolve_sources=False)
    output = document.workflows[0].outputs["finalizedPaymentPlan"]
    (expression,) = output.expressions
    assert str(expression) == "$steps.retrieveFinalizedPaymentPlan.outputs.finalizedPaymentPlan"
    (shorthand,) = [f for f in lint(document).findings if f.rule == "steps-shorthand"]
    assert shorthand.location.pointer == "/workflows/0/outputs/finalizedPaymentPlan"
    assert shorthand.fix == "$steps.retrieveFinalizedPaymentPlan.outputs.finalizedPaymentPlan"


def test_the_fapi_example_names_an_operation_by_the_wrong_case_and_is_told_so() -> None:
    with pytest.raises(DocumentError) as caught:
        load(_example("FAPI-PAR.arazzo.yaml"))
    (finding,) = caught.value.findings
    assert finding.message == "unknown operationId 'PAR' in source 'auth-api'"
    assert finding.hint == "did you mean 'Par'?"


def test_an_example_whose_source_file_is_missing_says_which_file() -> None:
    with pytest.raises(DocumentError) as caught:
        load(_example("ExtendedParametersExample.arazzo.yaml"))
    (finding,) = caught.value.findings
    assert "cannot load source 'animals': file not found" in finding.message
    assert finding.message.endswith("animals.yaml")


def test_the_1_1_asyncapi_example_is_a_description_not_a_workflow_document() -> None:
    findings = collect_findings(shared("spec", "examples", "1.1.0", "pet-asyncapi.yaml"))
    assert findings[0].message == "this is an asyncapi description, not an Arazzo document"
