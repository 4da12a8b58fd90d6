"""A login step's token (a step output sent on as a credential) never reaches the store in clear, and
resume repeats the login (a fresh token) instead of replaying a redacted one; the job is triggered once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from tests.conftest import spola_cli, wait_for
from tests.stub_server import Recorded, Reply, StubServer

PASSWORD = "hunter2-pass-5f0c"

OPENAPI = dedent(
    """
    openapi: 3.1.0
    info: {title: Jobs, version: "1"}
    servers: [{url: "http://jobs.invalid"}]
    paths:
      /login:
        post:
          operationId: login
          requestBody: {content: {application/json: {schema: {type: object}}}}
          responses: {"200": {description: ok}}
      /jobs:
        post:
          operationId: runJob
          parameters: [{name: Authorization, in: header, schema: {type: string}}]
          responses: {"200": {description: ok}}
      /jobs/{id}/cancel:
        post:
          operationId: cancelJob
          parameters:
            - {name: id, in: path, required: true, schema: {type: integer}}
            - {name: Authorization, in: header, schema: {type: string}}
          responses: {"200": {description: ok}}
      /jobs/{id}:
        get:
          operationId: getJob
          parameters:
            - {name: id, in: path, required: true, schema: {type: integer}}
            - {name: Authorization, in: header, schema: {type: string}}
          responses: {"200": {description: ok}}
    """
)

FLOW = dedent(
    """
    arazzo: 1.0.1
    info: {title: login then poll, version: "1"}
    sourceDescriptions:
      - {name: jobs, url: ./jobs.openapi.yaml, type: openapi}
    workflows:
      - workflowId: loginAndWait
        inputs:
          type: object
          required: [user, password]
          properties:
            user: {type: string}
            password: {type: string, format: password}
        steps:
          - stepId: login
            operationId: login
            requestBody:
              contentType: application/json
              payload: {user: $inputs.user, password: $inputs.password}
            successCriteria: [{condition: $statusCode == 200}]
            outputs: {token: $response.body#/access_token}
          - stepId: trigger
            operationId: runJob
            parameters: [{name: Authorization, in: header, value: "Bearer {$steps.login.outputs.token}"}]
            successCriteria: [{condition: $statusCode == 200}]
            outputs: {id: $response.body#/id}
          - stepId: poll
            operationId: getJob
            parameters:
              - {name: id, in: path, value: $steps.trigger.outputs.id}
              - {name: Authorization, in: header, value: "Bearer {$steps.login.outputs.token}"}
            successCriteria: [{condition: $statusCode == 200}]
            onSuccess:
              - name: again
                type: goto
                stepId: poll
                criteria: [{condition: $response.body#/state == "RUNNING"}]
            outputs: {state: $response.body#/state}
        outputs:
          state: $steps.poll.outputs.state
    """
)


def token(n: int) -> str:
    return f"tok-{n}-9c4e1f7a2b6d4e0f8a3c"


class Api:
    """Logs in (a new token each time), starts job 7 once, answers polls; counts everything."""

    def __init__(
        self, stub: StubServer, polls: int, fail_polls: Callable[[int], bool] = lambda n: False
    ) -> None:
        self.stub = stub
        self.polls = polls
        self.fail_polls = fail_polls
        self.tokens: list[str] = []
        stub.add("POST", "/login", self.login)
        stub.add("POST", "/jobs", self.trigger)
        stub.add("GET", "/jobs/7", self.poll)

    def authorized(self, request: Recorded) -> bool:
        return bool(self.tokens) and request.headers.get("authorization") == f"Bearer {self.tokens[-1]}"

    def login(self, request: Recorded, n: int) -> Reply:
        if request.json != {"user": "ada", "password": PASSWORD}:
            return Reply(status=401, body={"error": "bad credentials"})
        self.tokens.append(token(n + 1))
        return Reply(body={"access_token": self.tokens[-1], "token_type": "bearer", "expires_in": 3600})

    def trigger(self, request: Recorded, _n: int) -> Reply:
        return Reply(body={"id": 7}) if self.authorized(request) else Reply(status=401)

    def poll(self, request: Recorded, n: int) -> Reply:
        if self.fail_polls(n):
            return Reply(drop=True)
        if not self.authorized(request):
            return Reply(status=401, body={"error": "stale token"})
        return Reply(body={"state": "RUNNING" if n + 1 < self.polls else "DONE"})


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    (tmp_path / "jobs.openapi.yaml").write_text(OPENAPI)
    path = tmp_path / "flow.arazzo.yaml"
    path.write_text(FLOW)
    return path


def run_args(flow: Path, stub: StubServer, store: Path, *extra: str) -> list[str]:
    return [
        "run", str(flow), "-i", "user=ada", "-i", f"password={PASSWORD}", "--server", f"jobs={stub.base_url}",
        "--poll-interval", "0.05", "--store", str(store), "--json", *extra,
    ]  # fmt: skip


def store_bytes(store: Path) -> bytes:
    """The store's database, WAL and shared-memory files, as they are on disk."""
    return b"".join(p.read_bytes() for p in sorted(store.parent.glob(store.name + "*")))


def resume(run_id: str, store: Path) -> subprocess.CompletedProcess[str]:
    return spola_cli("resume", run_id, "--store", str(store), "-i", f"password={PASSWORD}", "--json",
                     "--poll-interval", "0")  # fmt: skip


def check_resumed(
    api: Api, stub: StubServer, store: Path, run_id: str, resumed: subprocess.CompletedProcess[str]
) -> None:
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["status"] == "succeeded" and result["outputs"] == {"state": "DONE"}
    assert len(stub.received("POST", "/login")) == 2  # a second login on resume
    assert len(stub.received("POST", "/jobs")) == 1  # the trigger was replayed, not sent again
    after = stub.received("GET", "/jobs/7")[-3:]
    assert all(r.headers["authorization"] == f"Bearer {token(2)}" for r in after)  # the fresh token
    on_disk = store_bytes(store)
    for value in (token(1), token(2), PASSWORD):
        assert value.encode() not in on_disk
        assert value not in resumed.stdout and value not in resumed.stderr
    shown = spola_cli("runs", "show", run_id, "--exchanges", "--json", "--store", str(store))
    assert shown.returncode == 0, shown.stderr
    assert token(1) not in shown.stdout and token(2) not in shown.stdout
    record = json.loads(shown.stdout)
    (login,) = [e for e in record["exchanges"] if e["stepId"] == "login"]
    assert login["sends"] == 2  # the journal counts the re-login
    assert any(e["kind"] == "relived" for e in record["events"])


def kill_after_polls(
    flow: Path, stub: StubServer, store: Path, polls: int, *extra: str, settle: float = 0.0
) -> None:
    """Start ``spola run`` on the flow (with ``extra`` arguments), SIGKILL it once the server saw
    ``polls`` polls (and ``settle`` s more)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "spola", *run_args(flow, stub, store, *extra)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    wait_for(lambda: len(stub.received("GET", "/jobs/7")) >= polls)
    time.sleep(settle)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)


def test_a_killed_run_keeps_no_token_on_disk_and_resume_logs_in_again(
    flow: Path, stub: StubServer, tmp_path: Path
) -> None:
    api = Api(stub, polls=30)
    store = tmp_path / "runs.db"
    kill_after_polls(
        flow, stub, store, 4, settle=0.1
    )  # past the group commit: the polls' rows are on disk too
    on_disk = store_bytes(store)
    assert b"tok-" not in on_disk and token(1).encode() not in on_disk
    assert PASSWORD.encode() not in on_disk
    listed = json.loads(spola_cli("runs", "--json", "--store", str(store)).stdout)
    run_id = listed[0]["runId"]

    check_resumed(api, stub, store, run_id, resume(run_id, store))


def test_a_run_that_failed_on_an_outage_after_the_login_resumes_with_a_fresh_login(
    flow: Path, stub: StubServer, tmp_path: Path
) -> None:
    api = Api(stub, polls=6, fail_polls=lambda n: n == 2)
    store = tmp_path / "runs.db"
    failed = spola_cli(*run_args(flow, stub, store, "--retry-attempts", "0"))
    assert failed.returncode == 1, failed.stderr
    run_id = json.loads(failed.stdout)["runId"]
    assert token(1).encode() not in store_bytes(store)

    check_resumed(api, stub, store, run_id, resume(run_id, store))


def test_a_login_refused_on_resume_is_a_clear_refusal_and_sends_nothing_else(
    flow: Path, stub: StubServer, tmp_path: Path
) -> None:
    api = Api(stub, polls=1000)
    store = tmp_path / "runs.db"
    kill_after_polls(flow, stub, store, 2)
    run_id = json.loads(spola_cli("runs", "--json", "--store", str(store)).stdout)[0]["runId"]
    seen = len(stub.requests)
    refused = spola_cli(
        "resume", run_id, "--store", str(store), "-i", "password=wrong", "--poll-interval", "0"
    )
    assert refused.returncode == 2, refused.stderr
    assert "step login obtains a credential" in refused.stderr and "HTTP 401" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert [(r.method, r.path) for r in stub.requests[seen:]] == [("POST", "/login")]
    assert api.tokens == [token(1)]


CANCEL = """\
    x-spola-cancel:
      workflowId: cancelJob
      inputs: {id: $steps.trigger.outputs.id, token: $steps.login.outputs.token}
"""
CANCEL_WORKFLOW = """\
  - workflowId: cancelJob
    inputs:
      type: object
      properties:
        id: {type: integer}
        token: {type: string}
    steps:
      - stepId: cancel
        operationId: cancelJob
        parameters:
          - {name: id, in: path, value: $inputs.id}
          - {name: Authorization, in: header, value: "Bearer {$inputs.token}"}
        successCriteria: [{condition: $statusCode == 200}]
"""


def test_cancelling_a_dead_run_logs_in_again_for_its_cancel_workflow(
    flow: Path, stub: StubServer, tmp_path: Path
) -> None:
    head = "  - workflowId: loginAndWait\n"
    assert head in FLOW
    flow.write_text(FLOW.replace(head, head + CANCEL).rstrip("\n") + "\n" + CANCEL_WORKFLOW)
    api = Api(stub, polls=1000)
    stub.add(
        "POST", "/jobs/7/cancel", lambda r, n: Reply(body={}) if api.authorized(r) else Reply(status=401)
    )
    store = tmp_path / "runs.db"
    kill_after_polls(flow, stub, store, 2, "-w", "loginAndWait")
    run_id = json.loads(spola_cli("runs", "--json", "--store", str(store)).stdout)[0]["runId"]
    cancelled = spola_cli("cancel", run_id, "--store", str(store), "-i", f"password={PASSWORD}")
    assert cancelled.returncode == 0, cancelled.stderr
    assert "ran its cancel workflow here" in cancelled.stdout + cancelled.stderr
    (sent,) = stub.received("POST", "/jobs/7/cancel")
    assert sent.headers["authorization"] == f"Bearer {token(2)}"  # a fresh login, not "Bearer ***"
    assert len(stub.received("POST", "/login")) == 2 and len(stub.received("POST", "/jobs")) == 1
    on_disk = store_bytes(store)
    assert token(1).encode() not in on_disk and token(2).encode() not in on_disk
