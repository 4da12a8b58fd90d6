"""``x-spola-cancel`` is checked: `spola validate` reports each problem with its line, `spola run` of that
workflow refuses before sending anything, and a broken extension elsewhere never stops another workflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spola.errors import DocumentError
from spola.lint import lint
from spola.model import load
from spola.model.cancel import cancel_spec
from tests.cancel.conftest import spola_run
from tests.integration.documents import write
from tests.stub_server import Reply, StubServer

FLOW = """
workflows:
  - workflowId: main
    inputs:
      type: object
      properties:
        job: {type: integer}
    x-spola-cancel: CANCEL
    steps:
      - stepId: start
        operationId: runJob
        requestBody: {payload: {job: $inputs.job}}
        outputs:
          runId: $response.body#/run_id
  - workflowId: stop
    inputs:
      type: object
      required: [run_id]
      properties:
        run_id: {type: integer}
    steps:
      - stepId: ask
        operationId: getRun
        parameters:
          - {name: run_id, in: query, value: $inputs.run_id}
  - workflowId: other
    steps:
      - stepId: look
        operationId: getRun
        parameters:
          - {name: run_id, in: query, value: 1}
"""


def flow(tmp_path: Path, cancel: str) -> Path:
    return write(tmp_path, FLOW.replace("CANCEL", cancel))


def messages(path: Path) -> list[str]:
    report = lint(str(path))
    return [f.message for f in report.findings if f.rule == "cancel-extension"]


def test_a_good_extension_compiles(tmp_path: Path) -> None:
    path = flow(tmp_path, "{workflowId: stop, inputs: {run_id: $steps.start.outputs.runId}, timeout: 5}")
    assert messages(path) == []
    document = load(path)
    spec = cancel_spec(document, document.workflow("main"))
    assert spec is not None
    assert spec.workflow_ref == "stop" and spec.timeout == 5 and spec.required == ("run_id",)
    assert cancel_spec(document, document.workflow("other")) is None


@pytest.mark.parametrize(
    ("cancel", "expected"),
    [
        ("stop", "must be a mapping"),
        ("{inputs: {run_id: 1}}", "needs a workflowId"),
        ("{workflowId: nope, inputs: {run_id: 1}}", "no workflow 'nope'"),
        ("{workflowId: main}", "names the workflow itself"),
        ("{workflowId: stop}", "the required input 'run_id' of workflow 'stop' is not given"),
        ("{workflowId: stop, inputs: {run_id: 1, job: 2}}", "workflow 'stop' has no input 'job'"),
        ("{workflowId: stop, inputs: {run_id: $steps.nope.outputs.runId}}", "reads step 'nope'"),
        ("{workflowId: stop, inputs: {run_id: $response.body#/run_id}}", "not known when a run is stopped"),
        ("{workflowId: stop, inputs: {run_id: 1}, timeout: 0}", "timeout must be a positive number"),
        ("{workflowId: stop, inputs: {run_id: 1}, after: 3}", "unknown field 'after'"),
        ("{workflowId: stop, inputs: {run_id: '$steps.'}}", "input 'run_id'"),
    ],
)
def test_validate_reports_each_problem(tmp_path: Path, cancel: str, expected: str) -> None:
    path = flow(tmp_path, cancel)
    found = messages(path)
    assert any(expected in m for m in found), found
    proc = spola_run("validate", str(path), "--format", "json", store=tmp_path / "runs.db")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    text = json.dumps(data)
    assert "cancel-extension" in text
    document = load(path)
    with pytest.raises(DocumentError) as raised:
        cancel_spec(document, document.workflow("main"))
    assert raised.value.findings[0].location.line is not None


def test_run_refuses_the_workflow_and_sends_nothing(tmp_path: Path, stub: StubServer) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 5}))
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"ok": True}))
    path = flow(tmp_path, "{workflowId: stop}")
    args = ["--server", f"jobs={stub.base_url}/api", "--auth", "jobs=t0ken"]
    proc = spola_run("run", str(path), "-w", "main", *args, store=tmp_path / "runs.db")
    assert proc.returncode == 2, proc.stderr
    assert "x-spola-cancel" in proc.stderr and "flow.arazzo.yaml:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert stub.requests == []
    other = spola_run("run", str(path), "-w", "other", *args, store=tmp_path / "runs.db")
    assert other.returncode == 0, other.stderr
    assert len(stub.received("GET", "/api/jobs/runs/get")) == 1


def test_the_examples_are_valid() -> None:
    root = Path(__file__).resolve().parents[2] / "examples"
    for path in sorted(root.glob("*/*.arazzo.yaml")):
        assert messages(path) == [], path
