"""``spola run`` as a user runs it: exit statuses, one JSON object, one-paragraph errors, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS, shared_or_skip
from tests.integration.documents import write
from tests.stub_server import Reply, StubServer

SPOLA = [sys.executable, "-m", "spola"]


def spola(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        **(env or {}),
        "NO_COLOR": "1",
        "SPOLA_STORE": os.environ.get("SPOLA_STORE", ""),
    }
    if not full_env["SPOLA_STORE"]:
        full_env.pop("SPOLA_STORE")
    return subprocess.run(
        [*SPOLA, *args], capture_output=True, text=True, input=stdin, env=full_env, timeout=60
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], status: int) -> None:
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.strip(), "an error must say something on stderr"


def databricks(stub: StubServer) -> None:
    stub.add("POST", "/api/2.1/jobs/run-now", Reply(body={"run_id": 5, "number_in_job": 1}))
    stub.add(
        "GET",
        "/api/2.1/jobs/runs/get",
        Reply(body={"state": {"life_cycle_state": "RUNNING"}}),
        Reply(body={"state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}}),
    )
    stub.add("GET", "/api/2.1/jobs/runs/get-output", Reply(body={"notebook_output": {"result": "ok"}}))


def test_run_json_prints_exactly_one_object(stub: StubServer) -> None:
    shared_or_skip()
    databricks(stub)
    proc = spola(
        "run",
        str(SEEDS / "databricks-run-job-and-wait-workflow.yml"),
        "-i",
        "job_id=123",
        "--server",
        f"databricksApi={stub.base_url}/api",
        "--auth",
        "databricksApi=env:DBX_TOKEN",
        "--json",
        "--poll-interval",
        "0",
        env={"DBX_TOKEN": "dapi-from-env"},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"runId", "workflowId", "status", "outputs", "steps", "error"}
    assert data["status"] == "succeeded"
    assert data["outputs"] == {"runId": 5, "resultState": "SUCCESS", "notebookResult": "ok"}
    assert [s["stepId"] for s in data["steps"]] == ["runJobNow", "pollRun", "getRunOutput"]
    assert data["steps"][1]["executions"] == 2
    assert {"stepId", "status", "executions", "lastStatusCode", "durationMs"} <= set(data["steps"][0])
    assert stub.received("POST", "/api/2.1/jobs/run-now")[0].json == {"job_id": 123}
    assert stub.received("POST")[0].headers["authorization"] == "Bearer dapi-from-env"
    assert "dapi-from-env" not in proc.stdout + proc.stderr


def test_run_without_json_shows_progress_and_outputs(stub: StubServer) -> None:
    shared_or_skip()
    databricks(stub)
    proc = spola(
        "run",
        str(SEEDS / "databricks-run-job-and-wait-workflow.yml"),
        "-i",
        "job_id=123",
        "--server",
        f"databricksApi={stub.base_url}/api",
        "--poll-interval",
        "0",
    )
    assert proc.returncode == 0, proc.stderr
    assert "pollRun" in proc.stderr and "runs/get" in proc.stderr
    assert "notebookResult" in proc.stdout and "succeeded" in proc.stdout


def test_a_failed_workflow_exits_1(stub: StubServer) -> None:
    shared_or_skip()
    stub.add(
        "POST",
        "/api/2.1/jobs/run-now",
        Reply(status=400, body={"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 9 does not exist."}),
    )
    proc = spola(
        "run",
        str(SEEDS / "databricks-run-job-and-wait-workflow.yml"),
        "-i",
        "job_id=9",
        "--server",
        f"databricksApi={stub.base_url}/api",
        "--json",
    )
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["status"] == "failed"
    assert data["error"]["stepId"] == "runJobNow"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-i", "job_id=abc"], "job_id"),
        ([], "job_id"),
        (["-w", "nope", "-i", "job_id=1"], "nope"),
        (["-i", "job_id=1", "--server", "unknownSource=http://127.0.0.1:1"], "unknownSource"),
        (["-i", "job_id=1", "--auth", "databricksApi=env:SPOLA_TEST_UNSET_VAR"], "SPOLA_TEST_UNSET_VAR"),
        (["-i", "job_id"], "NAME=VALUE"),
        (["-i", "job_id=1", "--no-such-option"], "--no-such-option"),
        (["-i", "job_id=1", "--max-steps", "many"], "max-steps"),
    ],
)
def test_invalid_invocations_exit_2_and_send_nothing(stub: StubServer, args: list[str], needle: str) -> None:
    shared_or_skip()
    proc = (
        spola(
            "run",
            str(SEEDS / "databricks-run-job-and-wait-workflow.yml"),
            "--server",
            f"databricksApi={stub.base_url}/api",
            *args,
        )
        if "--server" not in args
        else spola("run", str(SEEDS / "databricks-run-job-and-wait-workflow.yml"), *args)
    )
    assert_clean_error(proc, 2)
    assert needle in proc.stderr
    assert stub.requests == []


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.arazzo.yaml"
    bad.write_text("arazzo: 1.0.1\ninfo: {title: x, version: '1'\nworkflows: []\n")
    proc = spola("run", str(bad))
    assert_clean_error(proc, 2)
    assert "bad.arazzo.yaml" in proc.stderr and ":3" in proc.stderr or ":2" in proc.stderr


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    proc = spola("run", str(tmp_path / "nope.yaml"))
    assert_clean_error(proc, 2)
    assert "nope.yaml" in proc.stderr


def test_unknown_operation_is_reported_before_running(tmp_path: Path, stub: StubServer) -> None:
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - {stepId: s, operationId: getRunn}
        """,
    )
    proc = spola("run", str(doc), "--server", f"jobs={stub.base_url}")
    assert_clean_error(proc, 2)
    assert "getRunn" in proc.stderr and "getRun" in proc.stderr
    assert stub.requests == []


def test_unreachable_server_fails_the_run_with_exit_1(tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - {stepId: s, operationId: runJob, successCriteria: [{condition: $statusCode == 200}]}
        """,
    )
    proc = spola("run", str(doc), "--server", "jobs=http://127.0.0.1:9", "--json", "--retry-wait", "0")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert "cannot connect" in data["error"]["message"]
    assert "Traceback" not in proc.stderr


def test_inputs_from_stdin_and_coercion(stub: StubServer) -> None:
    shared_or_skip()
    databricks(stub)
    proc = spola(
        "run",
        str(SEEDS / "databricks-run-job-and-wait-workflow.yml"),
        "--inputs",
        "-",
        "-i",
        'notebook_params={"a": "b"}',
        "--server",
        f"databricksApi={stub.base_url}/api",
        "--json",
        "--poll-interval",
        "0",
        stdin="job_id: 77\nidempotency_token: tok-1\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert stub.received("POST")[0].json == {
        "job_id": 77,
        "notebook_params": {"a": "b"},
        "idempotency_token": "tok-1",
    }


def test_workflows_lists_inputs_and_outputs() -> None:
    shared_or_skip()
    proc = spola("workflows", str(SEEDS / "dbt-trigger-run-and-poll-workflow.yml"), "--json")
    assert proc.returncode == 0, proc.stderr
    (wf,) = json.loads(proc.stdout)
    assert wf["workflowId"] == "trigger-run-and-poll"
    cause = next(i for i in wf["inputs"] if i["name"] == "cause")
    assert cause["default"] == "Triggered via Arazzo workflow" and not cause["required"]
    assert wf["outputs"] == ["runId", "finalStatus", "artifacts"]


def test_a_document_the_linter_knows_will_break_is_refused_before_sending(
    tmp_path: Path, stub: StubServer
) -> None:
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - {stepId: first, operationId: getRun, parameters: [{name: run_id, in: query, value: 1}]}
              - {stepId: s, operationId: getItem}
        """,
    )
    proc = spola("run", str(doc), "--server", f"jobs={stub.base_url}")
    assert_clean_error(proc, 2)
    assert "itemId" in proc.stderr and "nothing was sent" in proc.stderr
    assert stub.requests == []
