"""The engine against a real local HTTP server: what the server received, and the result."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import msgspec.structs
import pytest

import spola
from spola.errors import InputError
from tests.integration.documents import write
from tests.stub_server import Reply, StubServer

POLL = """
workflows:
  - workflowId: runAndWait
    inputs:
      type: object
      required: [job_id]
      properties:
        job_id: {type: integer}
        notebook_params: {type: object}
        idempotency_token: {type: string}
        token: {type: string}
        cause: {type: string, default: Triggered by spola}
    steps:
      - stepId: trigger
        operationId: runJob
        parameters:
          - {name: Authorization, in: header, value: Bearer $inputs.token}
        requestBody:
          contentType: application/json
          payload:
            job_id: $inputs.job_id
            notebook_params: $inputs.notebook_params
            idempotency_token: $inputs.idempotency_token
            cause: $inputs.cause
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          runId: $response.body#/run_id
      - stepId: poll
        operationId: getRun
        parameters:
          - {name: run_id, in: query, value: $steps.trigger.outputs.runId}
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          state: $response.body#/state/life_cycle_state
          result: $response.body#/state/result_state
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria:
              - context: $response.body
                condition: $.state.life_cycle_state == "RUNNING" || $.state.life_cycle_state == "PENDING"
                type: jsonpath
          - name: done
            type: goto
            stepId: output
            criteria:
              - context: $response.body
                condition: $.state.life_cycle_state == "TERMINATED"
                type: jsonpath
      - stepId: output
        operationId: getOutput
        parameters:
          - {name: run_id, in: query, value: $steps.trigger.outputs.runId}
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          value: $response.body#/notebook_output/result
    outputs:
      runId: $steps.trigger.outputs.runId
      result: $steps.poll.outputs.result
      value: $steps.output.outputs.value
"""


def states(*names: str) -> list[Reply]:
    replies = []
    for name in names:
        state = {"life_cycle_state": name}
        if name == "TERMINATED":
            state["result_state"] = "SUCCESS"
        replies.append(Reply(body={"run_id": 7, "state": state}))
    return replies


def poll_server(stub: StubServer) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 7, "number_in_job": 1}))
    stub.add("GET", "/api/jobs/runs/get", *states("PENDING", "RUNNING", "RUNNING", "TERMINATED"))
    stub.add("GET", "/api/jobs/runs/output", Reply(body={"notebook_output": {"result": "42"}}))


async def test_a_poll_loop_in_the_jsonpath_dialect_runs_until_terminal(
    stub: StubServer, tmp_path: Path
) -> None:
    poll_server(stub)
    doc = write(tmp_path, POLL)
    result = await spola.arun(
        doc,
        inputs={"job_id": 5, "token": "s3cr3t-token"},
        servers={"jobs": stub.base_url + "/api"},
        poll_interval=0,
    )
    assert result.status == "succeeded", result.error
    assert result.outputs == {"runId": 7, "result": "SUCCESS", "value": "42"}
    polls = stub.received("GET", "/api/jobs/runs/get")
    assert len(polls) == 4
    assert all(p.query == {"run_id": ["7"]} for p in polls)
    steps = {s.step_id: s for s in result.steps}
    assert steps["poll"].executions == 4
    assert steps["output"].last_status_code == 200


async def test_optional_inputs_not_given_are_left_out_and_defaults_applied(
    stub: StubServer, tmp_path: Path
) -> None:
    poll_server(stub)
    doc = write(tmp_path, POLL)
    await spola.arun(
        doc,
        inputs={"job_id": 5, "token": "t0k3n-value"},
        servers={"jobs": stub.base_url + "/api"},
        poll_interval=0,
    )
    (trigger,) = stub.received("POST", "/api/jobs/run")
    assert trigger.json == {"job_id": 5, "cause": "Triggered by spola"}
    assert trigger.headers["authorization"] == "Bearer t0k3n-value"
    assert trigger.headers["content-type"] == "application/json"


async def test_given_optional_inputs_are_sent_with_their_types(stub: StubServer, tmp_path: Path) -> None:
    poll_server(stub)
    doc = write(tmp_path, POLL)
    await spola.arun(
        doc,
        inputs={"job_id": 5, "notebook_params": {"a": "1"}, "idempotency_token": "abc"},
        servers={"jobs": stub.base_url + "/api"},
        poll_interval=0,
    )
    (trigger,) = stub.received("POST", "/api/jobs/run")
    assert trigger.json["notebook_params"] == {"a": "1"}
    assert trigger.json["idempotency_token"] == "abc"


async def test_invalid_inputs_fail_before_anything_is_sent(stub: StubServer, tmp_path: Path) -> None:
    poll_server(stub)
    doc = write(tmp_path, POLL)
    with pytest.raises(InputError, match="job_id"):
        await spola.arun(doc, inputs={"job_id": "five"}, servers={"jobs": stub.base_url + "/api"})
    with pytest.raises(InputError, match="required"):
        await spola.arun(doc, inputs={}, servers={"jobs": stub.base_url + "/api"})
    assert stub.requests == []


async def test_a_poll_loop_without_delay_still_waits(stub: StubServer, tmp_path: Path) -> None:
    poll_server(stub)
    doc = write(tmp_path, POLL)
    options = spola.make_options(servers={"jobs": stub.base_url + "/api"}, seed=1)
    options = msgspec.structs.replace(
        options, poll=spola.PollPolicy(initial=0.2, factor=1.5, cap=1, jitter=0)
    )
    started = time.monotonic()
    result = await spola.arun(doc, inputs={"job_id": 1}, options=options)
    elapsed = time.monotonic() - started
    assert result.succeeded
    # three re-runs of the poll step: 0.2 + 0.3 + 0.45 seconds of back-off
    assert elapsed >= 0.9
    times = stub.received("GET", "/api/jobs/runs/get")
    assert len(times) == 4


async def test_unmatched_poll_state_falls_through_to_the_next_step(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 7}))
    stub.add("GET", "/api/jobs/runs/get", *states("QUEUED"))
    stub.add("GET", "/api/jobs/runs/output", Reply(body={"notebook_output": {}}))
    doc = write(tmp_path, POLL)
    result = await spola.arun(
        doc, inputs={"job_id": 1}, servers={"jobs": stub.base_url + "/api"}, poll_interval=0
    )
    assert result.succeeded
    assert len(stub.received("GET", "/api/jobs/runs/get")) == 1
    assert result.outputs["result"] is None


async def test_a_failed_criterion_fails_the_run_and_says_why(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(status=400, body={"error_code": "INVALID_PARAMETER_VALUE"}))
    doc = write(tmp_path, POLL)
    result = await spola.arun(doc, inputs={"job_id": 1}, servers={"jobs": stub.base_url + "/api"})
    assert result.status == "failed"
    assert result.error is not None and result.error.step_id == "trigger"
    assert "$statusCode == 200" in result.error.message
    assert result.outputs == {"runId": None, "result": None, "value": None}
    assert [s.status for s in result.steps] == ["failed", "skipped", "skipped"]


async def test_secrets_never_reach_the_result(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": "tok-abcdef-123"}))
    stub.add("GET", "/api/jobs/runs/get", *states("TERMINATED"))
    stub.add("GET", "/api/jobs/runs/output", Reply(body={}))
    doc = write(tmp_path, POLL)
    result = await spola.arun(
        doc,
        inputs={"job_id": 1, "token": "tok-abcdef-123"},
        servers={"jobs": stub.base_url + "/api"},
        poll_interval=0,
    )
    assert "tok-abcdef-123" not in repr(result.to_dict())


async def test_server_variables_and_security_from_credentials(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/secure/basic", Reply(body={}))
    stub.add("GET", "/api/secure/key", Reply(body={}))
    stub.add("GET", "/api/secure/qkey", Reply(body={}))
    stub.add("GET", "/api/secure/ckey", Reply(body={}))
    stub.add("GET", "/api/public", Reply(body={}))
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: sec
            steps:
              - {stepId: b, operationId: basicOp}
              - {stepId: k, operationId: keyOp}
              - {stepId: q, operationId: qkeyOp}
              - {stepId: c, operationId: ckeyOp}
              - {stepId: p, operationId: publicOp}
              - stepId: r
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
        """,
    )
    host = stub.base_url.removeprefix("http://")
    options = spola.make_options(
        server_vars={"jobs.host": host},
        auth={
            "jobs.basic": "ann:pw",
            "jobs.key": "K1",
            "jobs.qkey": "Q1",
            "jobs.ckey": "C1",
            "jobs.bearer": "B1",
        },
    )
    doc_text = doc.read_text().replace("https://", "http://")
    (tmp_path / "jobs.openapi.yaml").write_text(
        (tmp_path / "jobs.openapi.yaml").read_text().replace("https://{host}", "http://{host}")
    )
    doc.write_text(doc_text)
    result = await spola.arun(doc, options=options)
    assert result.succeeded, result.error
    by_path = {r.path: r for r in stub.requests}
    assert (
        by_path["/api/secure/basic"].headers["authorization"]
        == "Basic " + base64.b64encode(b"ann:pw").decode()
    )
    assert by_path["/api/secure/key"].headers["x-api-key"] == "K1"
    assert by_path["/api/secure/qkey"].query == {"api_key": ["Q1"]}
    assert "session_key=C1" in by_path["/api/secure/ckey"].headers["cookie"]
    assert "authorization" not in by_path["/api/public"].headers
    assert by_path["/api/jobs/runs/get"].headers["authorization"] == "Bearer B1"


async def test_parameter_styles_and_path_templating(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/items/a b", Reply(body={"ok": True}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: styles
            steps:
              - stepId: get
                operationId: getItem
                parameters:
                  - {name: itemId, in: path, value: a b}
                  - {name: tags, in: query, value: [x, y]}
                  - {name: ids, in: query, value: [1, 2]}
                  - {name: filter, in: query, value: {color: red}}
                  - {name: X-Trace, in: header, value: "id-{$inputs.n}"}
                  - {name: pref, in: cookie, value: dark}
                successCriteria: [{condition: $response.body.ok == true}]
            inputs: {type: object, properties: {n: {type: integer, default: 9}}}
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    (req,) = stub.requests
    assert req.path == "/api/items/a%20b" or req.path == "/api/items/a b"
    assert req.query["tags"] == ["x,y"]
    assert req.query["ids"] == ["1", "2"]
    assert req.query["filter[color]"] == ["red"]
    assert req.headers["x-trace"] == "id-9"
    assert req.headers["cookie"] == "pref=dark"


async def test_body_encodings(stub: StubServer, tmp_path: Path) -> None:
    for path in ("/api/form", "/api/upload", "/api/xml", "/api/text"):
        stub.add("POST", path, Reply(body={}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: bodies
            inputs: {type: object, properties: {id: {type: string, default: "A-1"}}}
            steps:
              - stepId: form
                operationId: postForm
                requestBody:
                  payload: {a: 1, b: $inputs.id}
              - stepId: multi
                operationId: upload
                requestBody:
                  payload: {name: $inputs.id, meta: {x: 1}}
              - stepId: xml
                operationId: postXml
                requestBody:
                  payload: "<order><id>old</id><qty>1</qty></order>"
                  replacements:
                    - {target: /order/id, value: $inputs.id}
              - stepId: text
                operationId: postText
                requestBody:
                  payload: "hello {$inputs.id}"
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    form, multi, xml, text = stub.requests
    assert form.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert form.body == b"a=1&b=A-1"
    assert multi.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="name"' in multi.body and b"A-1" in multi.body
    assert xml.headers["content-type"] == "application/xml"
    assert b"<id>A-1</id>" in xml.body and b"<qty>1</qty>" in xml.body
    assert text.body == b"hello A-1"


async def test_json_pointer_replacements_in_a_json_payload(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 1}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: repl
            steps:
              - stepId: go
                operationId: runJob
                requestBody:
                  payload: {job: {id: 0, tags: [a]}}
                  replacements:
                    - {target: /job/id, value: 10}
                    - {target: /job/tags/-, value: b}
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert stub.requests[0].json == {"job": {"id": 10, "tags": ["a", "b"]}}


async def test_oauth2_client_credentials_token_is_fetched_once_and_used(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("POST", "/oauth/token", Reply(body={"access_token": "at-123456", "expires_in": 3600}))
    stub.add("GET", "/api/secure/oauth", Reply(body={}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: o
            steps:
              - {stepId: a, operationId: oauthOp}
              - {stepId: b, operationId: oauthOp}
        """,
    )
    result = await spola.arun(
        doc, servers={"jobs": stub.base_url + "/api"}, auth={"jobs.oauth": "client-1:client-secret-9"}
    )
    assert result.succeeded, result.error
    (token,) = stub.received("POST", "/oauth/token")
    assert token.headers["authorization"] == "Basic " + base64.b64encode(b"client-1:client-secret-9").decode()
    assert token.body == b"grant_type=client_credentials&scope=jobs.read"
    calls = stub.received("GET", "/api/secure/oauth")
    assert [c.headers["authorization"] for c in calls] == ["Bearer at-123456"] * 2


async def test_a_refused_oauth2_token_fails_the_step_with_a_reason(stub: StubServer, tmp_path: Path) -> None:
    stub.add("POST", "/oauth/token", Reply(status=401, body={"error": "invalid_client"}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: o
            steps:
              - {stepId: a, operationId: oauthOp, successCriteria: [{condition: $statusCode == 200}]}
        """,
    )
    result = await spola.arun(
        doc,
        servers={"jobs": stub.base_url + "/api"},
        auth={"jobs.oauth": "client-2:wrong-secret"},
        retry_attempts=0,
    )
    assert result.status == "failed"
    assert "access_token" in result.error.message
    assert "wrong-secret" not in result.error.message
