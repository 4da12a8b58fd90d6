"""The specification's example documents: what loads, and what each one is told when it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from spola.errors import DocumentError
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


def test_every_1_0_example_loads_structurally_except_the_bnpl_expression_without_outputs() -> None:
    for name in (
        "LoginAndRetrievePets.arazzo.yaml",
        "FAPI-PAR.arazzo.yaml",
        "ExtendedParametersExample.arazzo.yaml",
        "oauth.arazzo.yaml",
        "pet-coupons.arazzo.yaml",
    ):
        assert load(_example(name), resolve_sources=False).workflows
    findings = collect_findings(_example("bnpl-arazzo.yaml"), resolve_sources=False)
    (error,) = [f for f in findings if f.severity == "error"]
    assert error.rule == "expression"
    assert error.location.pointer == "/workflows/0/outputs/finalizedPaymentPlan"
    assert "`$steps.retrieveFinalizedPaymentPlan.finalizedPaymentPlan`" in error.message


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
