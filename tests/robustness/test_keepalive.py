"""Every byte on the wire is in the journal: no silent re-send on a stale keep-alive connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from spola.api import make_options, prepare
from spola.durable import DurableRun, execute
from spola.options import PollPolicy
from spola.store import Journal
from tests.integration.documents import write

TWO_GETS = """
workflows:
  - workflowId: w
    steps:
      - stepId: first
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        successCriteria: [{condition: $statusCode == 200}]
      - stepId: second
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 2}]
        successCriteria: [{condition: $statusCode == 200}]
"""


class ClosingServer:
    """Answers the first request of each connection, keeps it alive, and closes it when the next
    request arrives: the server side of the keep-alive race (it closed the idle connection while
    the client was sending on it)."""

    def __init__(self) -> None:
        self.received = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                self.received += 1
                if served:
                    break  # the idle connection is closed as the request arrives: no answer
                served += 1
                body = b'{"ok": true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port


@pytest.mark.timeout(60)
async def test_the_journal_counts_every_request_the_server_received(tmp_path: Path) -> None:
    server = ClosingServer()
    port = await server.start()
    store = tmp_path / "runs.db"
    options = make_options(
        servers={"jobs": f"http://127.0.0.1:{port}/api"}, retry_backoff=PollPolicy(fixed=0.0)
    )
    run = prepare(write(tmp_path, TWO_GETS), options=options)
    try:
        result = await execute(DurableRun(run, str(tmp_path / "flow.arazzo.yaml"), str(store)))
    finally:
        assert server.server is not None
        server.server.close()
    assert result.succeeded, result.error
    journal = await Journal.open(str(store))
    try:
        record = await journal.get_run(result.run_id)
    finally:
        await journal.close()
    sends = sum(exchange.sends for exchange in record.exchanges)
    assert server.received == 3  # first; second on the stale connection; second again on a fresh one
    assert sends == server.received
    second = next(s for s in result.steps if s.step_id == "second")
    assert second.executions == 2
