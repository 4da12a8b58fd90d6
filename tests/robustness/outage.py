"""A job API on 127.0.0.1 that can go down (nothing listens, open connections are cut) and come back."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

from aiohttp import web


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FlakyJobs:
    """POST /api/jobs/run starts a job; GET /api/jobs/runs/get answers RUNNING ``polls_before_done``
    times, then TERMINATED. ``down()`` / ``up()`` take the listener away and back on the same port.

    With ``cut_after`` set, every GET after that many is cut off unanswered (the connection
    closed) and ``cutting`` is set: an outage that starts at that poll, however fast the client
    polls, while ``down()`` takes the listener away."""

    def __init__(self, polls_before_done: int = 3) -> None:
        self.port = free_port()
        self.polls_before_done = polls_before_done
        self.counts: Counter[str] = Counter()
        self.cut_after: int | None = None
        self.cutting = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    async def _run(self, request: web.Request) -> web.Response:
        await request.read()
        self.counts["run"] += 1
        return web.json_response({"run_id": 7})

    async def _get(self, request: web.Request) -> web.Response:
        self.counts["get"] += 1
        if self.cut_after is not None and self.counts["get"] > self.cut_after:
            self.cutting.set()
            if request.transport is not None:
                request.transport.close()  # no answer: the outage has begun
            return web.Response(status=503)  # (never reaches the client)
        state = "TERMINATED" if self.counts["get"] > self.polls_before_done else "RUNNING"
        return web.json_response({"state": {"life_cycle_state": state}})

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/api/jobs/run", self._run)
        app.router.add_get("/api/jobs/runs/get", self._get)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


POLL_DOC = """
workflows:
  - workflowId: w
    steps:
      - stepId: trigger
        operationId: runJob
        requestBody: {payload: {job_id: 1}}
        successCriteria: [{condition: $statusCode == 200}]
        outputs: {runId: $response.body#/run_id}
      - stepId: poll
        operationId: getRun
        parameters: [{name: run_id, in: query, value: $steps.trigger.outputs.runId}]
        successCriteria: [{condition: $statusCode == 200}]
        onSuccess:
          - name: again
            type: goto
            stepId: poll
            criteria: [{condition: $response.body#/state/life_cycle_state != 'TERMINATED'}]
        outputs: {state: $response.body#/state/life_cycle_state}
    outputs: {state: $steps.poll.outputs.state}
"""
