"""Retries, throttling, transport failures, ends, nested workflows and limits — against a real server."""

from __future__ import annotations

import time
from pathlib import Path

import spola
from tests.integration.documents import HEADER, write
from tests.stub_server import Reply, StubServer

GET_RUN = """
      - stepId: get
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
"""


async def test_retry_honours_retry_after_over_retry_after_field(stub: StubServer, tmp_path: Path) -> None:
    stub.add(
        "GET", "/api/jobs/runs/get", Reply(status=500, headers={"Retry-After": "0.3"}), Reply(body={"ok": 1})
    )
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: get
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria: [{condition: $statusCode == 200}]
                onFailure:
                  - {name: again, type: retry, retryAfter: 5, retryLimit: 2}
        """,
    )
    started = time.monotonic()
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert 0.25 <= time.monotonic() - started < 4
    assert len(stub.requests) == 2


async def test_retry_limit_is_exhausted_before_the_next_failure_action(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=500))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: get
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria: [{condition: $statusCode == 200}]
                onFailure:
                  - {name: again, type: retry, retryAfter: 0, retryLimit: 2}
                  - {name: stop, type: end}
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.status == "failed"
    assert len(stub.requests) == 3
    assert "stop" in result.error.message


async def test_default_retry_limit_is_one(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=500))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: get
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria: [{condition: $statusCode == 200}]
                onFailure: [{name: again, type: retry, retryAfter: 0}]
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.status == "failed"
    assert len(stub.requests) == 2


async def test_a_429_storm_is_absorbed_with_retry_after(stub: StubServer, tmp_path: Path) -> None:
    throttled = Reply(status=429, headers={"Retry-After": "0"}, body={"error_code": "RATE_LIMIT"})
    stub.add("POST", "/api/jobs/run", throttled, throttled, throttled, Reply(body={"run_id": 3}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: go
                operationId: runJob
                requestBody: {payload: {job_id: 1}}
                successCriteria: [{condition: $statusCode == 200}]
                outputs: {id: $response.body#/run_id}
            outputs: {id: $steps.go.outputs.id}
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert result.outputs == {"id": 3}
    assert len(stub.requests) == 4
    assert result.steps[0].executions == 4  # transparent re-sends count as executions


async def test_a_refused_connection_is_a_step_failure_with_null_status(tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: go
                operationId: runJob
                requestBody: {payload: {job_id: 1}}
                successCriteria: [{condition: $statusCode == 200}]
                onFailure:
                  - name: unreachable
                    type: goto
                    stepId: fallback
                    criteria: [{condition: $statusCode == null}]
              - stepId: fallback
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
        """,
    )
    result = await spola.arun(
        doc, servers={"jobs": "http://127.0.0.1:9/api"}, http_timeout=2, retry_attempts=0
    )
    steps = {s.step_id: s for s in result.steps}
    assert steps["go"].status == "failed"
    assert steps["go"].last_status_code is None
    assert steps["fallback"].executions == 1
    assert result.status == "failed"
    assert "cannot connect" in result.error.message


async def test_end_on_success_stops_and_unrun_outputs_are_null(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "FAILED"}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: get
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
                outputs: {state: $response.body#/state}
                onSuccess:
                  - name: failed
                    type: end
                    criteria: [{condition: $response.body.state == 'failed'}]
              - stepId: never
                operationId: getOutput
                parameters: [{name: run_id, in: query, value: 1}]
                outputs: {value: $response.body#/x}
            outputs:
              state: $steps.get.outputs.state
              value: $steps.never.outputs.value
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded
    assert result.outputs == {"state": "FAILED", "value": None}
    assert len(stub.requests) == 1


async def test_workflow_steps_pass_inputs_and_read_child_outputs(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", lambda rec, n: Reply(body={"id": int(rec.query["run_id"][0]) * 10}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: child
            inputs: {type: object, required: [rid], properties: {rid: {type: integer}}}
            steps:
              - stepId: get
                operationId: getRun
                parameters: [{name: run_id, in: query, value: $inputs.rid}]
                outputs: {id: $response.body#/id}
            outputs: {tenfold: $steps.get.outputs.id}
          - workflowId: parent
            steps:
              - stepId: call
                workflowId: child
                parameters: [{name: rid, value: 4}]
                outputs: {got: $outputs.tenfold}
            outputs:
              got: $steps.call.outputs.got
              viaWorkflows: $workflows.child.outputs.tenfold
        """,
    )
    result = await spola.arun(doc, "parent", servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert result.outputs == {"got": 40, "viaWorkflows": 40}
    assert stub.requests[0].query == {"run_id": ["4"]}


async def test_depends_on_runs_dependencies_first(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", lambda rec, n: Reply(body={"n": n}))
    stub.add("GET", "/api/jobs/runs/output", Reply(body={}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: a
            steps:
              - {stepId: s, operationId: getRun, parameters: [{name: run_id, in: query, value: 1}],
                 outputs: {n: $response.body#/n}}
            outputs: {n: $steps.s.outputs.n}
          - workflowId: b
            steps:
              - {stepId: s, operationId: getRun, parameters: [{name: run_id, in: query, value: 2}]}
          - workflowId: main
            dependsOn: [a, b]
            steps:
              - {stepId: s, operationId: getOutput,
                 parameters: [{name: run_id, in: query, value: $workflows.a.outputs.n}]}
        """,
    )
    result = await spola.arun(doc, "main", servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert [r.path for r in stub.requests][-1] == "/api/jobs/runs/output"
    assert len(stub.requests) == 3


async def test_goto_another_workflow_ends_with_its_result(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(status=404))
    stub.add("GET", "/api/jobs/runs/output", Reply(body={}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: main
            steps:
              - stepId: s
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria: [{condition: $statusCode == 200}]
                onFailure:
                  - {name: recover, type: goto, workflowId: cleanup, parameters: [{name: why, value: $statusCode}]}
          - workflowId: cleanup
            inputs: {type: object, properties: {why: {type: integer}}}
            steps:
              - {stepId: c, operationId: getOutput, parameters: [{name: run_id, in: query, value: $inputs.why}]}
        """,
        header=HEADER.replace("arazzo: 1.0.1", "arazzo: 1.1.0"),
    )
    result = await spola.arun(doc, "main", servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert stub.requests[-1].query == {"run_id": ["404"]}


ENDLESS_LOOP = """
workflows:
  - workflowId: w
    steps:
      - stepId: s
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        onSuccess: [{name: loop, type: goto, stepId: s}]
"""


async def test_max_steps_stops_an_endless_loop(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    doc = write(tmp_path, ENDLESS_LOOP)
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"}, poll_interval=0, max_steps=5)
    assert result.status == "failed"
    assert "--max-steps" in result.error.message
    assert len(stub.requests) == 5


async def test_timeout_stops_a_long_poll(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    doc = write(tmp_path, ENDLESS_LOOP)
    started = time.monotonic()
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"}, poll_interval=0.1, timeout=0.5)
    assert result.status == "failed"
    assert "--timeout" in result.error.message
    assert time.monotonic() - started < 2


async def test_step_timeout_fails_a_slow_request(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}, delay=1.0))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: s
                operationId: getRun
                timeout: 200
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria: [{condition: $statusCode == 200}]
        """,
        header=HEADER.replace("arazzo: 1.0.1", "arazzo: 1.1.0"),
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"}, retry_attempts=0)
    assert result.status == "failed"
    assert "no response within 0.2 s" in result.error.message


async def test_a_malformed_json_body_fails_the_step_and_says_so(stub: StubServer, tmp_path: Path) -> None:
    stub.add(
        "GET",
        "/api/jobs/runs/get",
        Reply(raw=b'{"state": "RUN', headers={"Content-Type": "application/json"}),
    )
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: s
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria: [{condition: $statusCode == 200}]
                outputs: {state: $response.body#/state}
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.status == "failed"
    assert result.error.step_id == "s"
    assert "not valid JSON" in result.error.message


async def test_step_depends_on_is_respected(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - {stepId: a, operationId: getRun, parameters: [{name: run_id, in: query, value: 1}]}
              - {stepId: b, operationId: getRun, dependsOn: [a], parameters: [{name: run_id, in: query, value: 2}]}
              - {stepId: c, operationId: getRun, dependsOn: [d], parameters: [{name: run_id, in: query, value: 3}]}
              - {stepId: d, operationId: getRun, parameters: [{name: run_id, in: query, value: 4}]}
        """,
        header=HEADER.replace("arazzo: 1.0.1", "arazzo: 1.1.0"),
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.status == "failed"
    assert result.error.step_id == "c" and "depends on step d" in result.error.message
    assert [r.query["run_id"] for r in stub.requests] == [["1"], ["2"]]
