"""A poll loop far longer than one Temporal history may hold: continue-as-new carries the run's state
(``spola.core.snapshot``) so the loop reaches the right result and no history passes 10,240 events."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from textwrap import dedent

from spola.api import aserve_worker, make_options, new_run_id
from spola.drivers.temporal import client as tc
from tests.integration.documents import write
from tests.stub_server import Recorded, Reply, StubServer

POLLS = int(os.environ.get("SPOLA_LONG_POLLS", "20000"))

LOOP = dedent(
    """
    workflows:
      - workflowId: wait
        steps:
          - stepId: start
            operationId: runJob
            successCriteria: [{condition: $statusCode == 200}]
            outputs: {runId: $response.body#/run_id}
          - stepId: poll
            operationId: getRun
            parameters: [{name: run_id, in: query, value: $steps.start.outputs.runId}]
            successCriteria: [{condition: $statusCode == 200}]
            onSuccess:
              - {name: done, type: end, criteria: [{condition: $response.body#/state == "DONE"}]}
              - {name: again, type: goto, stepId: poll}
            outputs: {polls: $response.body#/n, state: $response.body#/state}
        outputs:
          polls: $steps.poll.outputs.polls
          state: $steps.poll.outputs.state
    """
)


def loop_document(tmp: Path) -> Path:
    return write(tmp, LOOP)


def serve_loop(stub: StubServer, polls: int) -> None:
    def poll(_: Recorded, n: int) -> Reply:
        return Reply(body={"n": n + 1, "state": "DONE" if n + 1 >= polls else "RUNNING"})

    stub.add("POST", "/api/jobs/run", Reply(body={"run_id": 7}))
    stub.add("GET", "/api/jobs/runs/get", poll)


async def _history_lengths(client: object, run_id: str) -> list[int]:
    lengths = []
    async for execution in client.list_workflows(f"WorkflowId = '{run_id}'"):  # type: ignore[attr-defined]
        history = await client.get_workflow_handle(run_id, run_id=execution.run_id).fetch_history()  # type: ignore[attr-defined]
        lengths.append(len(history.events))
    return lengths


def test_a_20000_poll_loop_continues_as_new_and_keeps_every_history_small(
    tmp_path: Path, stub: StubServer, temporal_address: str, task_queue: str
) -> None:
    serve_loop(stub, POLLS)
    doc = loop_document(tmp_path)
    target = tc.Target(temporal_address, task_queue=task_queue)

    async def main() -> tuple[dict[str, object], list[int]]:
        stop = asyncio.Event()
        worker = asyncio.ensure_future(aserve_worker(temporal_address, task_queue=task_queue, stop=stop))
        try:
            client = await tc.connect(target)
            argument = tc.prepare_argument(
                doc,
                None,
                {},
                options=make_options(servers={"jobs": f"{stub.base_url}/api"}, poll_interval=0, max_steps=POLLS + 10),
                allow_remote=False,
                run_id=new_run_id(),
            )
            handle = await tc.submit(client, argument, task_queue)
            result = await tc.follow(handle)
            return result.to_dict(), await _history_lengths(client, argument["runId"])
        finally:
            stop.set()
            await worker

    result, lengths = asyncio.run(main())
    assert result["status"] == "succeeded", result
    assert result["outputs"] == {"polls": POLLS, "state": "DONE"}
    steps = {s["stepId"]: s for s in result["steps"]}
    assert steps["poll"]["executions"] == POLLS
    assert len(stub.received("GET", "/api/jobs/runs/get")) == POLLS
    assert len(stub.received("POST", "/api/jobs/run")) == 1
    assert len(lengths) > 1, "the run continued as new"
    assert max(lengths) <= 10_240, lengths
