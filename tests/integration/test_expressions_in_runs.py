"""Expressions, criteria types and sources as a run sees them, against a real server."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import spola
from tests.integration.documents import HEADER, write
from tests.stub_server import Reply, StubServer

V11 = HEADER.replace("arazzo: 1.0.1", "arazzo: 1.1.0")


async def test_request_url_method_and_headers_are_readable(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"ok": True}, headers={"X-Rate-Remaining": "41"}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: s
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 12}]
                successCriteria:
                  - condition: $request.query.run_id == 12 && $method == 'get'
                  - context: $statusCode
                    condition: '^2\\d\\d$'
                    type: regex
                outputs:
                  url: $url
                  remaining: $response.header.x-rate-remaining
            outputs:
              url: $steps.s.outputs.url
              remaining: $steps.s.outputs.remaining
        """,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert result.outputs == {"url": stub.base_url + "/api/jobs/runs/get?run_id=12", "remaining": "41"}


async def test_rfc9535_and_xpath_criteria(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"tasks": [{"state": "DONE"}, {"state": "RUNNING"}]}))
    stub.add(
        "GET",
        "/api/jobs/runs/output",
        Reply(raw=b"<run><state>DONE</state><n>3</n></run>", headers={"Content-Type": "application/xml"}),
    )
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            steps:
              - stepId: json
                operationId: getRun
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria:
                  - {context: $response.body, condition: "$.tasks[?@.state == 'RUNNING']", type: jsonpath}
              - stepId: xml
                operationId: getOutput
                parameters: [{name: run_id, in: query, value: 1}]
                successCriteria:
                  - {context: $response.body, condition: "/run/state = 'DONE' and /run/n > 2", type: xpath}
                  - context: $response.body
                    condition: count(/run/*) = 2
                    type: {type: xpath, version: xpath-10}
        """,
        header=V11,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error


async def test_querystring_parameter_replaces_the_query(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    doc = write(
        tmp_path,
        """
        workflows:
          - workflowId: w
            inputs: {type: object, properties: {state: {type: string, default: active}}}
            steps:
              - stepId: s
                operationId: getRun
                parameters:
                  - {name: q, in: querystring, value: "run_id=5&filter={$inputs.state}"}
        """,
        header=V11,
    )
    result = await spola.arun(doc, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert stub.requests[0].query == {"run_id": ["5"], "filter": ["active"]}


async def test_a_workflow_from_another_arazzo_document(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", lambda rec, n: Reply(body={"echo": rec.query["run_id"][0]}))
    write(
        tmp_path,
        """
        workflows:
          - workflowId: shared
            inputs: {type: object, properties: {rid: {type: integer}}}
            steps:
              - {stepId: g, operationId: getRun, parameters: [{name: run_id, in: query, value: $inputs.rid}],
                 outputs: {echo: $response.body#/echo}}
            outputs: {echo: $steps.g.outputs.echo}
        """,
        name="library.arazzo.yaml",
    )
    main = tmp_path / "main.arazzo.yaml"
    main.write_text(
        dedent("""
        arazzo: 1.0.1
        info: {title: main, version: "1"}
        sourceDescriptions:
          - {name: library, url: ./library.arazzo.yaml, type: arazzo}
          - {name: jobs, url: ./jobs.openapi.yaml, type: openapi}
        workflows:
          - workflowId: main
            steps:
              - stepId: call
                workflowId: $sourceDescriptions.library.shared
                parameters: [{name: rid, value: 8}]
                outputs: {echo: $outputs.echo}
            outputs: {echo: $steps.call.outputs.echo}
        """)
    )
    result = await spola.arun(main, servers={"jobs": stub.base_url + "/api"})
    assert result.succeeded, result.error
    assert result.outputs == {"echo": "8"}
