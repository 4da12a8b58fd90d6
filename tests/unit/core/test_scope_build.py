"""`build_scope` passes Scope's fields by position: each must land in the field of its name."""

from __future__ import annotations

from pathlib import Path

from spola.core.frame import Frame
from spola.core.scope import build_scope
from spola.exchange import HttpRequest, HttpResponse
from spola.expr import Scope
from spola.model import load


def test_every_field_of_a_built_scope_is_the_one_named() -> None:
    document = load(Path(__file__).parents[3] / "bench" / "workflows" / "spola.arazzo.yaml")
    workflow = document.default_workflow()
    frame = Frame(1, document, workflow, {"i": 1}, 0, None, "root", "w")
    frame.outputs = {"o": 2}
    frame.step_outputs["s"] = {"x": 3}
    frame.request = HttpRequest("GET", "https://example.test/x?q=1", (("A", "b"),), query_params={"q": 1})
    workflows = {"other": {"outputs": {}}}
    response = HttpResponse(201, (("Content-Type", "application/json"),), b'{"k": 4}')
    scope = build_scope(frame, workflows, response=response, body={"k": 4})
    assert Scope.__struct_fields__[:12] == (
        "inputs", "outputs", "steps", "workflows", "source_descriptions", "components", "self_uri",
        "url", "method", "status_code", "request", "response",
    )  # fmt: skip
    assert scope.inputs == {"i": 1} and scope.outputs == {"o": 2} and scope.steps == {"s": {"x": 3}}
    assert scope.workflows is workflows
    assert scope.source_descriptions["databricksApi"]["type"] == "openapi"
    assert scope.components == {}
    assert scope.url == "https://example.test/x?q=1" and scope.method == "GET" and scope.status_code == 201
    assert scope.request is not None and scope.request.query == {"q": 1} and scope.request.headers["a"] == "b"
    assert scope.response is not None and scope.response.body == {"k": 4}
    child = build_scope(frame, workflows, child_outputs={"c": 5})
    assert child.outputs == {"c": 5} and child.status_code is None and child.response is None
