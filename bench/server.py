"""A minimal, fast HTTP/1.1 server imitating the three Databricks Jobs calls the bench workflow makes.

Stdlib only (an asyncio ``Protocol``, no framework) so it costs a few tens of microseconds per
request and is never the bottleneck. Keep-alive, Content-Length bodies, no chunking.

- ``POST /api/2.1/jobs/run-now`` ``{"job_id": K}`` starts a run that stays ``RUNNING`` for its first
  K-1 polls and is ``TERMINATED`` on poll K (so a poll step runs exactly K times).
- ``GET /api/2.1/jobs/runs/get?run_id=N`` the run's state; ``GET .../runs/get-output?run_id=N`` its
  output (and forgets the run).
- ``GET /_stats`` requests since the last ``POST /_reset``, the times of the first and last one,
  and the most connections open at once.

    python bench/server.py [--port 0]     # prints "PORT <n>" once listening
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import time
from urllib.parse import parse_qs

PREFIX = "/api/2.1/jobs"


class Stats:
    """What the bench reads back: request count, first/last request time, peak open connections."""

    def __init__(self) -> None:
        self.requests = 0
        self.first = 0.0
        self.last = 0.0
        self.open = 0
        self.peak_open = 0

    def reset(self) -> None:
        self.requests = 0
        self.first = self.last = 0.0
        self.peak_open = self.open

    def to_json(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "first": self.first,
            "last": self.last,
            "open": self.open,
            "peakOpen": self.peak_open,
        }


class Jobs:
    """Runs and their remaining polls."""

    def __init__(self) -> None:
        self.next_id = 1
        self.remaining: dict[int, int] = {}
        self.stats = Stats()

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, object]:
        path, _, query = target.partition("?")
        if path == "/_stats":
            return 200, self.stats.to_json()
        if path == "/_reset":
            self.stats.reset()
            return 200, {}
        stats = self.stats
        now = time.time()
        if not stats.requests:
            stats.first = now
        stats.requests += 1
        stats.last = now
        if method == "POST" and path == f"{PREFIX}/run-now":
            try:
                polls = int(json.loads(body)["job_id"])
            except (ValueError, KeyError, TypeError):
                return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "job_id is required"}
            run_id = self.next_id
            self.next_id += 1
            self.remaining[run_id] = max(1, polls)
            return 200, {"run_id": run_id, "number_in_job": run_id}
        params = parse_qs(query)
        try:
            run_id = int(params["run_id"][0])
        except (KeyError, ValueError, IndexError):
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "run_id is required"}
        if path == f"{PREFIX}/runs/get" and method == "GET":
            left = self.remaining.get(run_id)
            if left is None:
                return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"run {run_id}"}
            left -= 1
            self.remaining[run_id] = left
            if left > 0:
                state = {"life_cycle_state": "RUNNING", "state_message": "In run"}
            else:
                state = {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""}
            return 200, {
                "run_id": run_id,
                "state": state,
                "run_page_url": f"https://dbc.example/#run/{run_id}",
            }
        if path == f"{PREFIX}/runs/get-output" and method == "GET":
            self.remaining.pop(run_id, None)
            return 200, {"notebook_output": {"result": f"ok {run_id}"}, "metadata": {"run_id": run_id}}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path}


REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}


class Connection(asyncio.Protocol):
    """One keep-alive connection: parse requests from the buffer, answer each at once."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        stats = self.jobs.stats
        stats.open += 1
        stats.peak_open = max(stats.peak_open, stats.open)

    def connection_lost(self, exc: Exception | None) -> None:
        self.jobs.stats.open -= 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, target, _version = lines[0].split(" ", 2)
            length = 0
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                lower = name.strip().lower()
                if lower == "content-length":
                    length = int(value)
                elif lower == "connection" and value.strip().lower() == "close":
                    close = True
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            status, payload = self.jobs.handle(method, target, body)
            data = json.dumps(payload).encode()
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
                % (status, REASONS[status], len(data), b"Connection: close\r\n" if close else b"", data)
            )
            if close:
                self.transport.close()
                return


async def serve(port: int) -> None:
    jobs = Jobs()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(8192)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(jobs), sock=sock, backlog=8192)
    sys.stdout.write(f"PORT {sock.getsockname()[1]}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, OSError, ValueError):
        pass
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
