"""Documents written for other runners, run against a local server: each version's own grammar
(step and workflow ids with spaces in Arazzo 1.0.x) and other runners' habits (arazzo-runner's
``$steps.<id>.<name>``), resolved with one warning when their meaning is certain, refused otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import spola
from spola.errors import DocumentError
from tests.conftest import spola_cli
from tests.integration.documents import HEADER, write
from tests.stub_server import Reply, StubServer

SPACED = """
workflows:
  - workflowId: Find Runs
    steps:
      - stepId: Start Run
        operationId: runJob
        requestBody: {payload: {job: $inputs.job}}
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {runId: $response.body#/run_id}
      - stepId: Get Run
        operationId: getRun
        parameters:
          - {name: run_id, in: query, value: $steps.Start Run.outputs.runId}
          - {name: X-Note, in: header, value: "run {$steps.Start Run.outputs.runId}"}
        successCriteria:
          - condition: $steps.Start Run.outputs.runId == 77 && $statusCode == 200
          - condition: "{$steps.Start Run.outputs.runId} == 77"
        outputs: {state: $response.body#/state}
    outputs:
      state: $steps.Get Run.outputs.state
      runId: $steps.Start Run.outputs.runId
  - workflowId: parent
    steps:
      - stepId: Call It
        workflowId: Find Runs
        parameters: [{name: job, value: 5}]
        outputs: {state: $outputs.state}
    outputs:
      st: $steps.Call It.outputs.state
"""


def _jobs(stub: StubServer) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 77}))
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "TERMINATED"}))


def _assert_run_sent(stub: StubServer, job: int) -> None:
    (start,) = stub.received("POST", "/api/jobs/run")
    assert start.json == {"job": job}
    (get,) = stub.received("GET", "/api/jobs/runs/get")
    assert get.query == {"run_id": ["77"]}
    assert get.headers["x-note"] == "run 77"


def test_a_1_0_1_document_with_spaced_ids_runs(stub: StubServer, tmp_path: Path) -> None:
    _jobs(stub)
    doc = write(tmp_path, SPACED)
    result = spola.run(doc, "Find Runs", {"job": 5}, servers={"jobs": stub.base_url + "/api"})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"state": "TERMINATED", "runId": 77}
    _assert_run_sent(stub, 5)


def test_a_spaced_workflow_id_runs_as_a_child_and_from_the_command_line(
    stub: StubServer, tmp_path: Path
) -> None:
    _jobs(stub)
    doc = write(tmp_path, SPACED)
    proc = spola_cli(
        "run", str(doc), "-w", "parent", "--no-store", "--json", "--server", f"jobs={stub.base_url}/api"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"] == {"st": "TERMINATED"}
    _assert_run_sent(stub, 5)
    # the ids break a SHOULD of the specification: validate says so, the run does not refuse
    proc = spola_cli("validate", "--format", "json", str(doc))
    assert proc.returncode == 0, proc.stdout
    rules = [item["rule"] for item in json.loads(proc.stdout)]
    assert rules.count("id-pattern") == 4


def test_a_1_1_0_document_with_the_same_ids_is_refused(stub: StubServer, tmp_path: Path) -> None:
    _jobs(stub)
    doc = write(tmp_path, SPACED, header=HEADER.replace("arazzo: 1.0.1", "arazzo: 1.1.0"))
    with pytest.raises(DocumentError) as caught:
        spola.run(doc, "Find Runs", {"job": 5}, servers={"jobs": stub.base_url + "/api"})
    text = str(caught.value) + "".join(str(f) for f in caught.value.findings)
    assert "step id 'Start Run' is not [A-Za-z0-9_-]+" in text
    assert "Arazzo 1.1's runtime expression grammar" in text
    proc = spola_cli(
        "run",
        str(doc),
        "-w",
        "Find Runs",
        "--no-store",
        "-i",
        "job=5",
        "--server",
        f"jobs={stub.base_url}/api",
    )
    assert proc.returncode == 2
    assert "nothing was sent" in proc.stderr and "'Start Run'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert stub.requests == []


SHORTHAND = """
workflows:
  - workflowId: login-and-get
    steps:
      - stepId: login
        operationId: runJob
        requestBody: {payload: {user: me}}
        outputs:
          name: $response.body#/name
          run: $response.body#/run
      - stepId: get
        operationId: getRun
        parameters:
          - {name: run_id, in: query, value: $steps.login.run.id}
          - {name: X-User, in: header, value: "user {$steps.login.name}"}
        successCriteria:
          - condition: $steps.login.name == 'ada'
        outputs: {state: $response.body#/state}
    outputs:
      name: $steps.login.name
      state: $steps.get.state
  - workflowId: broken
    steps:
      - stepId: login
        operationId: runJob
        outputs: {token: $response.body#/token}
      - stepId: get
        operationId: getRun
        parameters:
          - {name: run_id, in: query, value: $steps.login.runId}
"""


def _login(stub: StubServer) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"name": "ada", "run": {"id": 31}}))
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "DONE"}))


def _assert_login_sent(stub: StubServer) -> None:
    (get,) = stub.received("GET", "/api/jobs/runs/get")
    assert get.query == {"run_id": ["31"]}
    assert get.headers["x-user"] == "user ada"


def test_the_step_output_shorthand_resolves_with_one_warning(stub: StubServer, tmp_path: Path) -> None:
    _login(stub)
    doc = write(tmp_path, SHORTHAND)
    proc = spola_cli(
        "run",
        str(doc),
        "-w",
        "login-and-get",
        "--no-store",
        "--json",
        "--server",
        f"jobs={stub.base_url}/api",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outputs"] == {"name": "ada", "state": "DONE"}
    _assert_login_sent(stub)
    notices = [line for line in proc.stderr.splitlines() if "means `$steps." in line]
    assert len(notices) == 1, proc.stderr  # once per document, however many places
    assert "`$steps.login.run.id` means `$steps.login.outputs.run.id`" in notices[0]
    assert "flow.arazzo.yaml:21:39 " in notices[0] and "4 more like it" in notices[0]
    # the broken workflow elsewhere is a warning, not a refusal
    assert any("not reached by workflow 'login-and-get'" in line for line in proc.stderr.splitlines())


def test_the_python_api_runs_the_shorthand_too(stub: StubServer, tmp_path: Path) -> None:
    _login(stub)
    result = spola.run(write(tmp_path, SHORTHAND), "login-and-get", servers={"jobs": stub.base_url + "/api"})
    assert result.status == "succeeded", result.error
    assert result.outputs == {"name": "ada", "state": "DONE"}
    _assert_login_sent(stub)


def test_a_shorthand_naming_no_output_is_refused_naming_the_habit(stub: StubServer, tmp_path: Path) -> None:
    _login(stub)
    proc = spola_cli(
        "run",
        str(write(tmp_path, SHORTHAND)),
        "-w",
        "broken",
        "--no-store",
        "--server",
        f"jobs={stub.base_url}/api",
    )
    assert proc.returncode == 2
    assert "arazzo-runner's shorthand for `$steps.login.outputs.runId`" in proc.stderr
    assert "declares no output 'runId'" in proc.stderr and "nothing was sent" in proc.stderr
    assert stub.requests == []


def test_validate_offers_the_rewrite(tmp_path: Path) -> None:
    proc = spola_cli("validate", "--format", "json", str(write(tmp_path, SHORTHAND)))
    assert proc.returncode == 1  # the broken workflow's shorthand is an error
    findings = json.loads(proc.stdout)
    fixes = {f["path"]: f["fix"] for f in findings if f["rule"] == "steps-shorthand"}
    assert fixes == {
        "workflows[0].steps[1].parameters[0].value": "$steps.login.outputs.run.id",
        "workflows[0].steps[1].parameters[1].value": "user {$steps.login.outputs.name}",
        "workflows[0].steps[1].successCriteria[0].condition": "$steps.login.outputs.name == 'ada'",
        "workflows[0].outputs.name": "$steps.login.outputs.name",
        "workflows[0].outputs.state": "$steps.get.outputs.state",
    }
    (refused,) = [f for f in findings if f["rule"] == "ambiguous-habit"]
    assert refused["severity"] == "error" and refused["path"] == "workflows[1].steps[1].parameters[0].value"


def test_the_rewritten_document_runs_the_same_without_a_warning(stub: StubServer, tmp_path: Path) -> None:
    _login(stub)
    doc = write(tmp_path, SHORTHAND)
    proc = spola_cli("validate", "--format", "json", str(doc))
    text = doc.read_text()
    for finding in json.loads(proc.stdout):
        if finding["rule"] == "steps-shorthand":
            text = text.replace(_original(finding["fix"]), finding["fix"])
    fixed = tmp_path / "fixed.arazzo.yaml"
    fixed.write_text(text)
    proc = spola_cli(
        "run",
        str(fixed),
        "-w",
        "login-and-get",
        "--no-store",
        "--json",
        "--server",
        f"jobs={stub.base_url}/api",
    )
    assert proc.returncode == 0, proc.stderr
    assert "means `$steps." not in proc.stderr
    assert json.loads(proc.stdout)["outputs"] == {"name": "ada", "state": "DONE"}
    _assert_login_sent(stub)


def _original(fixed: str) -> str:
    return fixed.replace(".outputs.", ".")
