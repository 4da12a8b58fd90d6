"""A poll loop far longer than one Temporal history may hold: continue-as-new carries the run's state
(``spola.drivers.snapshot``) so the loop reaches the right result and no history passes 10,240 events."""

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


def _run_loop(
    address: str, queue: str, doc: Path, stub: StubServer, polls: int, **tuning: object
) -> tuple[dict[str, object], list[int]]:
    target = tc.Target(address, task_queue=queue)

    async def main() -> tuple[dict[str, object], list[int]]:
        stop = asyncio.Event()
        worker = asyncio.ensure_future(aserve_worker(address, task_queue=queue, stop=stop))
        try:
            client = await tc.connect(target)
            options = make_options(
                servers={"jobs": f"{stub.base_url}/api"}, poll_interval=0, max_steps=polls + 10
            )
            argument = tc.prepare_argument(
                doc,
                None,
                {},
                options=options,
                allow_remote=False,
                run_id=new_run_id(),
                **tuning,  # type: ignore[arg-type]
            )
            handle = await tc.submit(client, argument, queue)
            result = await tc.follow(handle)
            return result.to_dict(), await _history_lengths(client, argument["runId"])
        finally:
            stop.set()
            await worker

    return asyncio.run(main())


def _check(result: dict[str, object], stub: StubServer, polls: int) -> None:
    assert result["status"] == "succeeded", result
    assert result["outputs"] == {"polls": polls, "state": "DONE"}
    steps = {s["stepId"]: s for s in result["steps"]}  # type: ignore[attr-defined]
    assert steps["poll"]["executions"] == polls
    assert len(stub.received("GET", "/api/jobs/runs/get")) == polls
    assert len(stub.received("POST", "/api/jobs/run")) == 1


def test_a_20000_poll_loop_with_no_wait_polls_in_a_heartbeating_activity(
    tmp_path: Path, stub: StubServer, temporal_address: str, task_queue: str
) -> None:
    serve_loop(stub, POLLS)
    result, lengths = _run_loop(temporal_address, task_queue, loop_document(tmp_path), stub, POLLS)
    _check(result, stub, POLLS)
    assert max(lengths) <= 10_240, lengths


def test_a_loop_polled_from_the_workflow_continues_as_new_carrying_its_state(
    tmp_path: Path, stub: StubServer, temporal_address: str, task_queue: str
) -> None:
    # bursts off (every poll is an activity of the workflow) and a low bound, so the run must continue
    # as new several times; the outputs and counts prove the state crossed each boundary intact
    polls = 200
    serve_loop(stub, polls)
    result, lengths = _run_loop(
        temporal_address,
        task_queue,
        loop_document(tmp_path),
        stub,
        polls,
        local_below=0.0,
        continue_after=300,
    )
    _check(result, stub, polls)
    assert len(lengths) >= 3, lengths
    assert max(lengths) <= 300 + 20, lengths
