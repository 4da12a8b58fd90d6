"""``--allow-host`` on Temporal: the activities (one request, or a poll burst) refuse what the run's
patterns do not allow, before connecting, exactly as the embedded driver does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from textwrap import dedent

from temporalio.client import Client

from spola.drivers.temporal.names import BURST_ACTIVITY, HTTP_ACTIVITY
from tests.conftest import spola_cli
from tests.integration.documents import write
from tests.stub_server import Recorded, Reply, StubServer

ONCE = dedent(
    """
    workflows:
      - workflowId: once
        steps:
          - stepId: look
            operationId: getRun
            parameters: [{name: run_id, in: query, value: 5}]
            successCriteria: [{condition: $statusCode == 200}]
            outputs: {state: $response.body#/state}
        outputs: {state: $steps.look.outputs.state}
    """
)

LOOP = dedent(
    """
    workflows:
      - workflowId: wait
        steps:
          - stepId: poll
            operationId: getRun
            parameters: [{name: run_id, in: query, value: 7}]
            successCriteria: [{condition: $statusCode == 200}]
            onSuccess:
              - {name: done, type: end, criteria: [{condition: $response.body#/state == "DONE"}]}
              - {name: again, type: goto, stepId: poll}
            outputs: {state: $response.body#/state}
        outputs: {state: $steps.poll.outputs.state}
    """
)


def on_temporal(doc: Path, stub: StubServer, address: str, queue: str, *extra: str) -> dict:
    proc = spola_cli(
        "run", str(doc), "--server", f"jobs={stub.base_url}/api", "--temporal", address,
        "--task-queue", queue, "--json", *extra, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    result: dict = json.loads(proc.stdout)
    assert proc.returncode == (0 if result["status"] == "succeeded" else 1), proc.stderr
    return result


def activity_types(address: str, run_id: str) -> set[str]:
    async def main() -> set[str]:
        client = await Client.connect(address)
        names: set[str] = set()
        async for execution in client.list_workflows(f"WorkflowId = '{run_id}'"):
            history = await client.get_workflow_handle(run_id, run_id=execution.run_id).fetch_history()
            for event in history.events:
                if event.HasField("activity_task_scheduled_event_attributes"):
                    names.add(event.activity_task_scheduled_event_attributes.activity_type.name)
        return names

    return asyncio.run(main())


def test_a_host_outside_allow_host_is_refused_by_the_activity_before_connecting(
    tmp_path: Path, stub: StubServer, temporal_address: str, shared_queue: str
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={"state": "DONE"}))
    doc = write(tmp_path, ONCE)
    refused = on_temporal(doc, stub, temporal_address, shared_queue, "--allow-host", "*.example.com")
    assert refused["status"] == "failed"
    assert "not allowed by --allow-host" in refused["error"]["message"]
    assert "refused before sending" in refused["error"]["message"]
    assert stub.requests == []
    assert HTTP_ACTIVITY in activity_types(temporal_address, refused["runId"])  # refused in the activity

    allowed = on_temporal(doc, stub, temporal_address, shared_queue, "--allow-host", "127.0.0.1")
    assert allowed["status"] == "succeeded" and allowed["outputs"] == {"state": "DONE"}
    wrong_port = on_temporal(doc, stub, temporal_address, shared_queue, "--allow-host", "127.0.0.1:1")
    assert wrong_port["status"] == "failed"
    assert len(stub.requests) == 1


def test_a_redirect_outside_allow_host_is_not_followed_by_the_activity(
    tmp_path: Path, stub: StubServer, temporal_address: str, shared_queue: str
) -> None:
    port = stub.base_url.rsplit(":", 1)[1]
    elsewhere = f"http://localhost:{port}/api/elsewhere"
    stub.add("GET", "/api/jobs/runs/get", Reply(status=302, headers={"Location": elsewhere}))
    stub.add("GET", "/api/elsewhere", Reply(body={"state": "DONE"}))
    result = on_temporal(
        write(tmp_path, ONCE), stub, temporal_address, shared_queue, "--allow-host", "127.0.0.1"
    )
    assert result["status"] == "failed"
    assert "not allowed by --allow-host" in result["error"]["message"]
    assert len(stub.received("GET", "/api/jobs/runs/get")) == 1
    assert stub.received("GET", "/api/elsewhere") == []


def test_a_poll_burst_applies_the_runs_allow_host_patterns(
    tmp_path: Path, stub: StubServer, temporal_address: str, shared_queue: str
) -> None:
    port = stub.base_url.rsplit(":", 1)[1]

    def poll(_: Recorded, n: int) -> Reply:
        if n < 40:
            return Reply(body={"state": "RUNNING"})
        return Reply(status=302, headers={"Location": f"http://localhost:{port}/api/elsewhere"})

    stub.add("GET", "/api/jobs/runs/get", poll)
    stub.add("GET", "/api/elsewhere", Reply(body={"state": "DONE"}))
    result = on_temporal(
        write(tmp_path, LOOP), stub, temporal_address, shared_queue,
        "--allow-host", "127.0.0.1", "--poll-interval", "0",
    )  # fmt: skip
    assert BURST_ACTIVITY in activity_types(temporal_address, result["runId"])  # the loop ran in a burst
    assert result["status"] == "failed"
    assert "not allowed by --allow-host" in result["error"]["message"]
    assert len(stub.received("GET", "/api/jobs/runs/get")) == 41
    assert stub.received("GET", "/api/elsewhere") == []
