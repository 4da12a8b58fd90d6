"""The specification's own schema tests: every ``pass`` document loads, every ``fail`` one is refused.

The ``pass`` documents name sources at example.com (and local files that are not shipped), so they are
loaded with ``resolve_sources=False``: what is tested is the document itself, as the schema tests do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spola.errors import DocumentError
from spola.model import load
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


# The schema cannot look inside expressions; spola compiles them all. These passing documents hold an
# expression outside the runtime-expression grammar (ABNF), so spola refuses them with exactly that finding.
OUTSIDE_THE_GRAMMAR = {
    "async-depends-on-cross-workflow": "$workflows.producerWorkflow.steps.waitForEvent.outputs.userId",
    "bnpl-example": "$response.headers.Location",
    "payload-replacement-using-selector": "$steps.previous.outputs",
}


@pytest.mark.parametrize("path", _files("pass"), ids=lambda p: p.name)
def test_every_passing_schema_test_document_loads(path: Path) -> None:
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    try:
        document = load(path, resolve_sources=False)
    except DocumentError as exc:
        expression = OUTSIDE_THE_GRAMMAR.get(_stem(path))
        if expression is None:
            raise
        assert [f.rule for f in exc.findings] == ["expression"]
        assert f"`{expression}`" in exc.findings[0].message
        assert exc.findings[0].location.offset is not None
        return
    assert document.workflows


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
