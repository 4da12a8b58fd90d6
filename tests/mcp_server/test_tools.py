"""Workflows as tool definitions: names, schemas without what the server holds, descriptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spola.errors import InputError, UsageError
from spola.mcp.tools import TOOL_NAME, build_tools, tool_name
from spola.model import load
from tests.conftest import SEEDS, shared_or_skip

DOC = """
arazzo: 1.0.1
info: {title: Two flows, version: 1.0.0}
sourceDescriptions:
- {name: api, url: ./api.yaml, type: openapi}
workflows:
- workflowId: "run job/and wait!"
  summary: Runs a job.
  inputs:
    type: object
    required: [job, password, apiToken]
    properties:
      job: {$ref: '#/components/inputs/job'}
      password: {type: string, format: password}
      apiToken: {type: string}
      hidden: {type: string, writeOnly: true}
      region: {type: string}
  steps:
  - stepId: one
    operationId: getThing
    parameters:
    # apiToken is secret by its role (sent as a credential), not by its name
    - {name: Authorization, in: header, value: "Bearer {$inputs.apiToken}"}
  outputs:
    state: $steps.one.outputs.state
- workflowId: run-job_and-wait
  steps:
  - stepId: one
    operationId: getThing
components:
  inputs:
    job:
      type: object
      properties:
        id: {type: integer}
      required: [id]
"""
API = """
openapi: 3.0.3
info: {title: api, version: '1'}
servers: [{url: 'http://127.0.0.1:9/api'}]
paths:
  /thing:
    get:
      operationId: getThing
      responses: {'200': {description: ok}}
"""


@pytest.fixture
def doc(tmp_path: Path) -> tuple[str, object]:
    (tmp_path / "api.yaml").write_text(API)
    path = tmp_path / "flows.arazzo.yaml"
    path.write_text(DOC)
    return str(path), load(path)


def test_names_are_sanitised_to_what_mcp_allows_and_made_unique() -> None:
    assert tool_name("run job/and wait!", []) == "run_job_and_wait"
    assert tool_name("run-job", ["run-job"]) == "run-job_2"
    assert tool_name("run-job", ["run-job", "run-job_2"]) == "run-job_3"
    assert tool_name("spola_run_status", []) == "spola_run_status_2"
    assert tool_name("é" * 300, []) == "workflow"
    assert TOOL_NAME.match(tool_name("x" * 300, []))


def test_schemas_resolve_refs_and_hide_bound_and_secret_inputs(doc) -> None:
    path, document = doc
    first, second = build_tools([(path, document)], {"region": "eu"})
    assert first.name == "run_job_and_wait" and second.name == "run-job_and-wait"
    schema = first.input_schema
    assert set(schema["properties"]) == {"job"}
    assert schema["properties"]["job"]["properties"]["id"] == {"type": "integer"}
    assert "$ref" not in json.dumps(schema)
    assert schema["required"] == ["job"]
    assert first.bound == {"region": "eu"}
    assert {"password", "apiToken", "hidden", "region"} <= first.held
    assert first.missing_secrets == ("apiToken", "password")
    assert "Not callable until the server is given: apiToken, password." in first.description
    assert first.description.startswith("Runs a job.")
    assert first.output_schema["type"] == "object" and set(first.output_schema["properties"]) == {"state"}
    assert second.input_schema == {"type": "object", "properties": {}}
    assert second.output_schema["properties"] == {}


def test_a_bound_secret_makes_the_tool_callable(doc) -> None:
    path, document = doc
    first = build_tools([(path, document)], {"password": "hunter2-long", "apiToken": "t0ken-value"})[0]
    assert first.missing_secrets == ()
    assert "hunter2-long" not in json.dumps(first.input_schema) + first.description
    assert first.secret_inputs >= {"password", "apiToken"}


def test_allow_workflow_and_input_must_name_something(doc) -> None:
    path, document = doc
    only = build_tools([(path, document)], {}, ["run-job_and-wait"])
    assert [t.workflow_id for t in only] == ["run-job_and-wait"]
    with pytest.raises(UsageError, match="nope"):
        build_tools([(path, document)], {}, ["nope"])
    with pytest.raises(UsageError, match="no served workflow declares an input named 'colour'"):
        build_tools([(path, document)], {"colour": "red"})


def test_the_agent_cannot_supply_an_input_the_server_holds(doc) -> None:
    from spola.mcp.runs import RunManager, Settings

    path, document = doc
    spec = build_tools([(path, document)], {"password": "hunter2-long", "apiToken": "t0ken-value"})[0]
    manager = RunManager(Settings(), None)
    with pytest.raises(InputError, match="set on the server side"):
        manager.prepare(spec, {"job": {"id": 1}, "password": "mine"})
    missing = build_tools([(path, document)], {})[0]
    with pytest.raises(InputError, match="only the server may hold"):
        manager.prepare(missing, {"job": {"id": 1}})


def test_the_five_seeds_become_tools_that_ask_the_agent_for_no_credential() -> None:
    shared_or_skip()
    docs = [(str(p), load(p)) for p in sorted(SEEDS.glob("*.yml"))]
    tools = build_tools(docs, {})
    by_id = {t.workflow_id: t for t in tools}
    assert set(by_id) == {
        "cancel-active-run",
        "submit-one-time-run",
        "run-job-and-wait",
        "run-scenario-and-poll",
        "trigger-run-and-poll",
    }
    assert set(by_id["trigger-run-and-poll"].input_schema["properties"]) == {"accountId", "jobId", "cause"}
    assert "apiKey" not in by_id["run-scenario-and-poll"].input_schema["properties"]
    assert by_id["run-job-and-wait"].input_schema["required"] == ["job_id"]
    for tool in tools:
        assert TOOL_NAME.match(tool.name)
        assert "token" not in tool.input_schema["properties"]
