"""The specification's own schema tests: every ``pass`` document loads, every ``fail`` one is refused.

All 35 ``pass`` documents must load; three write expressions outside the grammar that spola tolerates
(see ``OUTSIDE_THE_GRAMMAR``). They name sources at example.com (and local files that are not shipped), so
they are loaded with ``resolve_sources=False``: what is tested is the document itself, as the schema
tests do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spola.criteria.values import Value
from spola.errors import DocumentError
from spola.expr import ResponseView, Scope
from spola.model import Document, load
from tests.unit.model.conftest import SHARED

SUITE = SHARED / "spec" / "tests" / "schema"

# For each failing document: words the error must contain (naming the problem).
FAIL_KEYWORDS: dict[str, tuple[str, ...]] = {
    "async-both-operationId-and-channelPath": ("operationId", "channelPath", "mutually exclusive"),
    "async-channelPath-without-action": ("channelPath", "action"),
    "async-depends-on-duplicate-values": ("dependsOn", "sendEvent", "twice"),
    "async-depends-on-empty": ("dependsOn", "empty"),
    "async-depends-on-invalid-reference": ("dependsOn", "$steps.sendEvent", "not a step reference"),
    "channel-path-is-invalid-for-openapi": ("channelPath", "AsyncAPI"),
    "invalid-arazzo-version": ("arazzo", "version"),
    "invalid-async-correlation-id-non-receive-action": ("correlationId", "receive"),
    "invalid-async-parameter-without-in": ("correlationId", "needs 'in'"),
    "invalid-async": ("action", "'invalid'", "send"),
    "invalid-expression-type-object": ("rfc9535", "xpath", "expression"),
    "invalid-openapi-parameter-without-in": ("limit", "needs 'in'"),
    "invalid-openapi-success-criteria": ("successCriteria", "empty"),
    "invalid-querystring-without-value": ("value", "missing required"),
    "invalid-selector-object": ("Selector Object", "type", "expression"),
    "invalid-self-fragment": ("$self", "fragment"),
    "invalid-targetSelectorType": ("targetSelectorType", "jmespath"),
    "invalid-workflow-step-with-operationId": ("operationId", "workflowId", "mutually exclusive"),
    "invalid-workflow-success-criteria": ("successCriteria", "empty"),
    "not-an-object": ("object",),
    "openapi-both-operationId-and-operationPath": ("operationId", "operationPath", "mutually exclusive"),
    "openapi-duplicate-parameters": ("duplicate parameter", "limit"),
    "openapi-missing-operation-target": ("operationId", "none is given"),
    "workflow-duplicate-parameters": ("duplicate parameter", "userId"),
    "workflow-missing-workflowId": ("workflowId", "none is given"),
    "workflow-step-with-action": ("workflow step", "action"),
    "workflow-step-with-channelPath": ("channelPath", "workflowId"),
}


def _files(kind: str) -> list[Path]:
    return sorted((SUITE / kind).glob("*.yaml")) or [Path("missing-shared-tree")]


def _stem(path: Path) -> str:
    return path.name.removesuffix(".yaml").removesuffix(".arazzo")


PASS_COUNT = 35


@pytest.mark.parametrize("path", _files("pass"), ids=lambda p: p.name)
def test_every_passing_schema_test_document_loads(path: Path) -> None:
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    document = load(path, resolve_sources=False)
    assert document.workflows


def test_all_passing_schema_test_documents_load_with_none_left_out() -> None:
    if not SUITE.is_dir():
        pytest.skip("../shared is not beside the repository")
    paths = _files("pass")
    assert len(paths) == PASS_COUNT
    refused: dict[str, str] = {}
    for path in paths:
        try:
            load(path, resolve_sources=False)
        except DocumentError as exc:
            refused[path.name] = str(exc)
    assert refused == {}


# The schema cannot look inside expressions; spola compiles them all. These passing documents hold an
# expression outside the runtime-expression grammar (ABNF) that spola tolerates: each loads, the
# expression carries a note a linter can show, and it reads what its author meant.
# (document, JSON Pointer of the value, expression as printed, scope, value)
OUTSIDE_THE_GRAMMAR = [
    (
        "async-depends-on-cross-workflow.arazzo.yaml",
        "/workflows/1/steps/0/parameters/0",
        "$workflows.producerWorkflow.steps.waitForEvent.outputs.userId",
        Scope(workflows={"producerWorkflow": {"steps": {"waitForEvent": {"userId": "u-1"}}}}),
        "u-1",
    ),
    (
        "bnpl-example.yaml",
        "/workflows/0/steps/4/outputs/redirectUrl",
        "$response.header.Location",
        Scope().with_exchange(response=ResponseView(headers={"location": "https://bnpl.example/auth"})),
        "https://bnpl.example/auth",
    ),
    (
        "payload-replacement-using-selector.arazzo.yaml",
        "/workflows/0/steps/0/requestBody/replacements/0",
        "$steps.previous.outputs",
        Scope(steps={"previous": {"itemId": 42}}),
        42,
    ),
]


def _value_at(document: Document, pointer: str) -> Value:
    for workflow in document.workflows:
        for step in workflow.steps:
            for parameter in step.parameters:
                if parameter.pointer == pointer:
                    return parameter.value
            for name, value in step.outputs.items():
                if f"{step.pointer}/outputs/{name}" == pointer:
                    return value
            if step.request_body is not None:
                for replacement in step.request_body.replacements:
                    if replacement.pointer == pointer:
                        return replacement.value
    raise AssertionError(f"no value at {pointer}")


@pytest.mark.parametrize("case", OUTSIDE_THE_GRAMMAR, ids=lambda c: c[0])
def test_an_expression_outside_the_grammar_loads_with_a_note_and_reads_what_it_means(
    case: tuple[str, str, str, Scope, object],
) -> None:
    name, pointer, printed, scope, expected = case
    path = SUITE / "pass" / name
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    value = _value_at(load(path, resolve_sources=False), pointer)
    (expression,) = value.expressions
    assert str(expression) == printed
    assert expression.is_lenient
    assert value.evaluate(scope) == expected


@pytest.mark.parametrize("path", _files("fail"), ids=lambda p: p.name)
def test_every_failing_schema_test_document_is_refused_with_a_message_naming_the_problem(path: Path) -> None:
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    with pytest.raises(DocumentError) as caught:
        load(path, resolve_sources=False)
    text = str(caught.value)
    for keyword in FAIL_KEYWORDS[_stem(path)]:
        assert keyword in text, f"{keyword!r} not in:\n{text}"
    assert all(f.location.line is not None for f in caught.value.findings)


def test_every_failing_document_has_keywords() -> None:
    if not SUITE.is_dir():
        pytest.skip("../shared is not beside the repository")
    assert {_stem(p) for p in _files("fail")} == set(FAIL_KEYWORDS)


def test_a_passing_document_with_remote_sources_asks_for_allow_remote_when_sources_are_resolved() -> None:
    path = SUITE / "pass" / "minimal.arazzo.yaml"
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    with pytest.raises(DocumentError) as caught:
        load(path)
    assert [f.rule for f in caught.value.findings] == ["source"]
    assert "--allow-remote" in str(caught.value)
