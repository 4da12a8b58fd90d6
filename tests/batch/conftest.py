"""A poll workflow against a local server that knows each job's script and counts requests in flight."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

import pytest
from aiohttp import web

from tests.stub_server import Recorded, Reply, StubServer

OPENAPI = dedent(
    """
    openapi: 3.1.0
    info: {title: Jobs, version: "1"}
    servers: [{url: "http://jobs.invalid"}]
    paths:
      /jobs/run:
        post:
          operationId: runJob
          requestBody:
            content: {application/json: {schema: {type: object}}}
          responses: {"200": {description: ok}}
      /jobs/get:
        get:
          operationId: getRun
          parameters: [{name: run_id, in: query, required: true, schema: {type: integer}}]
          responses: {"200": {description: ok}}
    """
)

FLOW = dedent(
    """
    arazzo: 1.0.1
    info: {title: batch, version: "1"}
    sourceDescriptions:
      - {name: jobs, url: ./jobs.openapi.yaml, type: openapi}
    workflows:
      - workflowId: runAndWait
        inputs:
          type: object
          required: [job_id]
          properties:
            job_id: {type: integer}
            polls: {type: integer, default: 1}
            delay: {type: number, default: 0}
        steps:
          - stepId: trigger
            operationId: runJob
            requestBody:
              contentType: application/json
              payload: {job_id: $inputs.job_id, polls: $inputs.polls, delay: $inputs.delay}
            successCriteria: [{condition: $statusCode == 200}]
            outputs: {runId: $response.body#/run_id}
          - stepId: poll
            operationId: getRun
            parameters: [{name: run_id, in: query, value: $steps.trigger.outputs.runId}]
            successCriteria: [{condition: $statusCode == 200}]
            outputs: {state: $response.body#/state}
            onSuccess:
              - name: again
                type: goto
                stepId: poll
                criteria: [{condition: $response.body#/state == "RUNNING"}]
        outputs:
          jobId: $inputs.job_id
          state: $steps.poll.outputs.state
    """
)


@dataclass
class JobsServer:
    """Jobs whose trigger body says how many polls they take and how slow each reply is.

    A job id of 13 is refused (HTTP 400). ``peak`` is the most requests ever in flight at once.
    """

    stub: StubServer
    polls: dict[int, int] = field(default_factory=dict)
    delays: dict[int, float] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.stub.base_url

    @property
    def peak(self) -> int:
        assert isinstance(self.stub, CountingStub)
        return self.stub.peak

    def trigger(self, request: Recorded, _n: int) -> Reply:
        body = request.json
        job = int(body["job_id"])
        if job == 13:
            return Reply(status=400, body={"error": "job 13 does not exist"})
        self.polls[job] = int(body.get("polls") or 1)
        self.delays[job] = float(body.get("delay") or 0)
        return Reply(body={"run_id": job}, delay=self.delays[job])

    def get(self, request: Recorded, _n: int) -> Reply:
        job = int(request.query["run_id"][0])
        self.polls[job] -= 1
        state = "RUNNING" if self.polls[job] > 0 else "TERMINATED"
        return Reply(body={"state": state}, delay=self.delays[job])


class CountingStub(StubServer):
    """The stub server, also counting requests in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.peak = 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await super()._handle(request)
        finally:
            self.in_flight -= 1


@pytest.fixture(scope="module")
def _counting() -> Iterator[CountingStub]:
    server = CountingStub().start()
    yield server
    server.stop()


@pytest.fixture
def jobs(_counting: CountingStub) -> Iterator[JobsServer]:
    """A fresh jobs server (routes, counters and peak reset)."""
    _counting.reset()
    _counting.peak = 0
    server = JobsServer(_counting)
    _counting.add("POST", "/jobs/run", server.trigger)
    _counting.add("GET", "/jobs/get", server.get)
    yield server
    _counting.reset()


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    """The poll workflow and its OpenAPI description, written into a temp dir."""
    (tmp_path / "jobs.openapi.yaml").write_text(OPENAPI)
    path = tmp_path / "flow.arazzo.yaml"
    path.write_text(FLOW)
    return path
