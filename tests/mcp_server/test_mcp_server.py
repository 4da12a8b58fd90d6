"""``spola mcp`` driven by the official SDK's own client, over stdio and streamable HTTP.

A real ``spola mcp`` process serves the five seeds; the Databricks seed runs against the bundled
simulator. The simulator's clock moves one simulated second per request (``clock.step``); with
``clock.step = 0`` a job never leaves PENDING, so a run polls until it is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from spola.sim import create_combined_app, serve_in_thread
from spola.store import RunStore
from tests.conftest import REPO, SEEDS, shared_or_skip
from tests.e2e.test_seeds_on_simulators import RequestClock, Sim

TOKEN = "dapi-sim-token"
DATABRICKS = "databricks-run-job-and-wait-workflow.yml"
TOOL = "run-job-and-wait"
MODES = ["auto", "legacy"]  # auto negotiates 2026-07-28; legacy the 2025-11-25 handshake


@pytest.fixture(scope="module")
def _sim_server() -> Iterator[tuple[Sim, RequestClock]]:
    shared_or_skip()
    clock = RequestClock()
    with serve_in_thread(clock.wrap(create_combined_app(clock=clock, seed=3))) as server:
        yield Sim(server.base_url), clock


@pytest.fixture
def sim(_sim_server: tuple[Sim, RequestClock]) -> Iterator[Sim]:
    server, clock = _sim_server
    server.reset()
    clock.step = 1.0
    yield server
    clock.step = 1.0


@pytest.fixture
def clock(_sim_server: tuple[Sim, RequestClock]) -> RequestClock:
    return _sim_server[1]


def serve_args(sim: Sim, store: Path, *extra: str, token: str = TOKEN) -> list[str]:
    docs = [str(p) for p in sorted(SEEDS.glob("*.yml"))]
    return [
        "-m",
        "spola",
        "mcp",
        *docs,
        "--server",
        f"databricksApi={sim.base_url}/api",
        "--auth",
        f"databricksApi={token}",
        "--poll-interval",
        "0.05",
        "--store",
        str(store),
        *extra,
    ]


@contextlib.asynccontextmanager
async def stdio(args: list[str], errlog: Path, mode: str = "auto") -> AsyncIterator[Client]:
    params = StdioServerParameters(command=sys.executable, args=args, env={**os.environ, "NO_COLOR": "1"})
    with errlog.open("w") as err:
        async with Client(stdio_client(params, errlog=err), mode=mode) as client:
            yield client


class HttpServer:
    def __init__(self, args: list[str], errlog: Path) -> None:
        self.store = Path(args[args.index("--store") + 1])
        self.errlog = errlog
        self._err = errlog.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, *args, "--transport", "http", "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._err,
            cwd=REPO,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 100
        while time.monotonic() < deadline:
            for line in self.errlog.read_text().splitlines():
                if " at http://" in line:
                    return line.rsplit(" at ", 1)[1].strip()
            if self.proc.poll() is not None:
                raise AssertionError(f"spola mcp exited: {self.errlog.read_text()}")
            time.sleep(0.05)
        raise AssertionError("spola mcp did not announce its URL")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
        self._err.close()
        return self.errlog.read_text()


@pytest.fixture(scope="module")
def _http_server(
    _sim_server: tuple[Sim, RequestClock], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HttpServer]:
    where = tmp_path_factory.mktemp("mcp-http")
    server = HttpServer(serve_args(_sim_server[0], where / "runs.db"), where / "http-stderr.txt")
    yield server
    log = server.stop()
    assert "Traceback" not in log


@pytest.fixture
def http_server(sim: Sim, _http_server: HttpServer) -> HttpServer:
    """One ``spola mcp --transport http`` for the module (the simulator is reset for each test)."""
    return _http_server


class Progress:
    def __init__(self, until: str | None = None) -> None:
        self.messages: list[str] = []
        self.values: list[float] = []
        self.until = until
        self.reached = asyncio.Event()

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.values.append(progress)
        self.messages.append(message or "")
        if self.until and self.until in (message or ""):
            self.reached.set()

    @property
    def run_id(self) -> str:
        return self.messages[0].split()[1].rstrip(":")


def store_status(store: Path, run_id: str) -> str:
    with RunStore.open(store) as opened:
        return opened.get_run(run_id).status


async def wait_for_status(store: Path, run_id: str, status: str) -> None:
    for _ in range(400):
        if store_status(store, run_id) == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} is {store_status(store, run_id)}, not {status}")


async def run_databricks(client: Client, sim: Sim) -> tuple[Any, Progress]:
    listed = await client.list_tools()
    names = {tool.name for tool in listed.tools}
    assert {
        "cancel-active-run",
        "submit-one-time-run",
        TOOL,
        "run-scenario-and-poll",
        "trigger-run-and-poll",
        "spola_run_status",
        "spola_cancel_run",
    } == names
    progress = Progress()
    result = await client.call_tool(TOOL, {"job_id": 42}, progress_callback=progress)
    assert not result.is_error, result.content
    assert result.structured_content["resultState"] == "SUCCESS"
    assert result.structured_content["notebookResult"] is not None
    assert "succeeded" in result.content[0].text
    assert sim.count("run-now") == 1
    polls = [m for m in progress.messages if "pollRun #" in m]
    assert len(polls) == sim.count("runs/get") >= 2
    assert any("lifeCycleState RUNNING" in m for m in polls)
    assert progress.values == sorted(progress.values) and len(set(progress.values)) == len(progress.values)
    return result, progress


async def cancel_mid_poll(client: Client, sim: Sim, clock: RequestClock, store: Path) -> None:
    clock.step = 0.0  # the job stays PENDING: the run polls until cancelled
    progress = Progress(until="pollRun #3")
    call = asyncio.create_task(client.call_tool(TOOL, {"job_id": 42}, progress_callback=progress))
    await asyncio.wait_for(progress.reached.wait(), 30)
    run_id = progress.run_id
    assert store_status(store, run_id) == "running"
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call
    await wait_for_status(store, run_id, "cancelled")
    polled = sim.count("runs/get")
    await asyncio.sleep(0.5)  # ten poll intervals: a run still going would have polled again
    assert sim.count("runs/get") == polled >= 3
    status = await client.call_tool("spola_run_status", {"runId": run_id})
    assert status.structured_content["status"] == "cancelled"
    assert "cancelled" in status.structured_content["error"]["message"]


# --- stdio ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_lists_the_seeds_runs_databricks_with_progress_and_finds_the_run_again(
    sim: Sim, tmp_path: Path, mode: str
) -> None:
    store = tmp_path / "runs.db"
    async with stdio(serve_args(sim, store), tmp_path / "stderr.txt", mode) as client:
        result, _ = await run_databricks(client, sim)
        run_id = result.meta["spola/runId"]
        again = await client.call_tool("spola_run_status", {"runId": run_id})
        assert again.structured_content["status"] == "succeeded"
        assert again.structured_content["outputs"] == result.structured_content
    assert store_status(store, run_id) == "succeeded"
    # a second server on the same store finds the run too
    async with stdio(serve_args(sim, store), tmp_path / "stderr2.txt", mode) as client:
        again = await client.call_tool("spola_run_status", {"runId": run_id})
        assert again.structured_content["outputs"]["resultState"] == "SUCCESS"


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_cancelling_the_call_cancels_the_run_mid_poll(
    sim: Sim, clock: RequestClock, tmp_path: Path, mode: str
) -> None:
    store = tmp_path / "runs.db"
    async with stdio(serve_args(sim, store), tmp_path / "stderr.txt", mode) as client:
        await cancel_mid_poll(client, sim, clock, store)
    assert "cancelled by the client" in (tmp_path / "stderr.txt").read_text()


async def test_bad_arguments_and_unknown_runs_are_error_results(sim: Sim, tmp_path: Path) -> None:
    async with stdio(serve_args(sim, tmp_path / "runs.db"), tmp_path / "stderr.txt") as client:
        await client.list_tools()
        wrong = await client.session.call_tool(TOOL, {"job_id": "forty-two"})
        assert wrong.is_error and "job_id" in wrong.content[0].text
        held = await client.session.call_tool("trigger-run-and-poll", {"accountId": 1, "jobId": 2})
        assert held.is_error and "--input token=env:VAR" in held.content[0].text
        missing = await client.call_tool("spola_run_status", {"runId": "20990101-000000-deadbeef"})
        assert missing.is_error and "no run" in missing.content[0].text
    assert sim.count("run-now") == 0


async def test_cancelling_a_call_runs_the_documents_cancel_workflow_against_the_remote_job(
    sim: Sim, tmp_path: Path
) -> None:
    store = tmp_path / "runs.db"
    example = REPO / "examples" / "databricks" / "run-job-and-wait.arazzo.yaml"
    args = [
        "-m", "spola", "mcp", str(example), "--server", f"databricks={sim.base_url}/api",
        "--auth", f"databricks={TOKEN}", "--poll-interval", "0.05", "--store", str(store),
    ]  # fmt: skip
    async with stdio(args, tmp_path / "stderr.txt", "legacy") as client:
        progress = Progress(until="waitForRun #3")
        call = asyncio.create_task(
            client.call_tool(TOOL, {"job_id": 777}, progress_callback=progress)  # a 600 s job
        )
        await asyncio.wait_for(progress.reached.wait(), 30)
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
        await wait_for_status(store, progress.run_id, "cancelled")
        status = await client.call_tool("spola_run_status", {"runId": progress.run_id})
    data = status.structured_content
    assert data["status"] == "cancelled"
    assert data["cancel"]["workflowId"] == "cancel-run" and data["cancel"]["status"] == "succeeded"
    assert data["cancel"]["outputs"]["resultState"] == "CANCELED"
    assert sim.count("runs/cancel") == 1
    runs = sim.call("GET", "/api/2.1/jobs/runs/list?job_id=777")["runs"]
    assert runs[0]["state"]["result_state"] == "CANCELED"


# --- streamable HTTP -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_http_lists_the_seeds_and_runs_databricks_with_progress(
    sim: Sim, http_server: HttpServer, mode: str
) -> None:
    async with Client(http_server.url, mode=mode) as client:
        await run_databricks(client, sim)


@pytest.mark.parametrize("mode", MODES)
async def test_http_cancelling_the_call_cancels_the_run_mid_poll(
    sim: Sim, clock: RequestClock, http_server: HttpServer, tmp_path: Path, mode: str
) -> None:
    async with Client(http_server.url, mode=mode) as client:
        await cancel_mid_poll(client, sim, clock, http_server.store)


DROPPING_CLIENT = """
import asyncio, sys
from mcp import Client

async def main():
    async with Client(sys.argv[1], mode="legacy") as client:
        async def progress(value, total, message):
            print(message, flush=True)
        await client.call_tool(sys.argv[2], {"job_id": 42}, progress_callback=progress)

asyncio.run(main())
"""


async def test_a_run_outlives_a_killed_client_and_is_fetched_again_by_id(
    sim: Sim, clock: RequestClock, http_server: HttpServer, tmp_path: Path
) -> None:
    clock.step = 0.0
    client = subprocess.Popen(
        [sys.executable, "-c", DROPPING_CLIENT, http_server.url, TOOL],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdout is not None
    first = await asyncio.to_thread(client.stdout.readline)
    run_id = first.split()[1].rstrip(":")
    client.kill()  # no goodbye, no cancel notification
    client.wait()
    client.stdout.close()
    clock.step = 1.0  # now the job moves on
    async with Client(http_server.url) as fresh:
        status = await fresh.call_tool("spola_run_status", {"runId": run_id, "waitSeconds": 60})
    assert status.structured_content["status"] == "succeeded", status.structured_content
    assert status.structured_content["outputs"]["resultState"] == "SUCCESS"
    assert store_status(http_server.store, run_id) == "succeeded"
    assert sim.count("run-now") == 1


# --- secrets -------------------------------------------------------------------------------------


async def test_a_secret_given_with_auth_is_in_no_schema_result_notification_or_log(
    sim: Sim, tmp_path: Path
) -> None:
    wire: list[str] = []

    async def record(message: Any) -> None:
        wire.append(repr(message))

    dbt_secret = "dbt-service-token-0d1e"
    os.environ["SPOLA_TEST_DBT_TOKEN"] = dbt_secret
    try:
        store = tmp_path / "runs.db"
        args = serve_args(sim, store, "--input", "token=env:SPOLA_TEST_DBT_TOKEN")
        server = HttpServer(args, tmp_path / "stderr.txt")
        try:
            async with Client(server.url, message_handler=record) as client:
                tools = await client.list_tools()
                wire.append(json.dumps([t.model_dump(mode="json") for t in tools.tools]))
                result, progress = await run_databricks(client, sim)
                wire.append(json.dumps(result.model_dump(mode="json")))
                wire.extend(progress.messages)
                status = await client.call_tool("spola_run_status", {"runId": result.meta["spola/runId"]})
                wire.append(json.dumps(status.model_dump(mode="json")))
        finally:
            log = server.stop()
        wrong_secret = "dapi-wrong-secret-7f3c"
        args = serve_args(sim, store, token=wrong_secret)
        async with stdio(args, tmp_path / "stderr-wrong.txt") as client:
            progress = Progress()
            failed = await client.call_tool(TOOL, {"job_id": 42}, progress_callback=progress)
            assert failed.is_error and "Invalid access token" in failed.content[0].text
            wire.append(json.dumps(failed.model_dump(mode="json")))
            wire.extend(progress.messages)
        log += (tmp_path / "stderr-wrong.txt").read_text()
    finally:
        os.environ.pop("SPOLA_TEST_DBT_TOKEN", None)
    traffic = "\n".join(wire)
    assert "pollRun" in traffic and "spola mcp: run" in log
    for secret in (TOKEN, wrong_secret, dbt_secret):
        assert secret not in traffic
        assert secret not in log
    with RunStore.open(store) as opened:
        for summary in opened.list_runs():
            dumped = json.dumps(opened.get_run(summary.run_id).to_dict())
            assert TOKEN not in dumped and wrong_secret not in dumped


def test_spola_run_does_not_import_the_mcp_sdk() -> None:
    code = (
        "import sys\n"
        "from spola.cli.app import app\n"
        "import spola.cli.execute, spola.api, spola.durable\n"
        "assert not any(m == 'mcp' or m.startswith(('mcp.', 'mcp_types')) for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('mcp'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


async def test_concurrent_calls_are_separate_runs_with_their_own_progress(
    sim: Sim, http_server: HttpServer
) -> None:
    async with Client(http_server.url) as client:
        await client.list_tools()
        trackers = [Progress() for _ in range(3)]
        results = await asyncio.gather(
            *(client.call_tool(TOOL, {"job_id": 42}, progress_callback=tracker) for tracker in trackers)
        )
    run_ids = [r.meta["spola/runId"] for r in results]
    assert len(set(run_ids)) == 3
    for result, tracker in zip(results, trackers, strict=True):
        assert result.structured_content["resultState"] == "SUCCESS"
        assert {m.split()[1].rstrip(":") for m in tracker.messages} == {result.meta["spola/runId"]}
    assert sim.count("run-now") == 3
    assert len({r.structured_content["runId"] for r in results}) == 3


async def test_stopping_the_server_interrupts_its_runs_resumably(
    sim: Sim, clock: RequestClock, tmp_path: Path
) -> None:
    store = tmp_path / "runs.db"
    server = HttpServer(serve_args(sim, store), tmp_path / "stderr.txt")
    try:
        clock.step = 0.0
        async with Client(server.url, mode="legacy") as client:
            progress = Progress(until="pollRun #2")
            call = asyncio.create_task(client.call_tool(TOOL, {"job_id": 42}, progress_callback=progress))
            await asyncio.wait_for(progress.reached.wait(), 30)
            server.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(server.proc.wait, 20) == 130
            result = await asyncio.wait_for(call, 10)
            assert result.is_error and f"spola resume {progress.run_id}" in result.content[0].text
    finally:
        log = server.stop()
    assert store_status(store, progress.run_id) == "interrupted"
    assert f"interrupted run(s) {progress.run_id}" in log
    assert "Traceback" not in log and "ERROR" not in log
    clock.step = 1.0
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "spola",
            "resume",
            progress.run_id,
            "--store",
            str(store),
            "--json",
            "--auth",
            f"databricksApi={TOKEN}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["outputs"]["resultState"] == "SUCCESS"
    assert sim.count("run-now") == 1


async def test_allow_host_bounds_what_a_tool_call_may_reach(sim: Sim, tmp_path: Path) -> None:
    args = serve_args(sim, tmp_path / "runs.db", "--allow-host", "api.example.com", "--retry-wait", "0")
    async with stdio(args, tmp_path / "stderr.txt") as client:
        await client.list_tools()
        result = await client.session.call_tool(TOOL, {"job_id": 42})
        assert "refused before sending" in json.dumps([c.model_dump() for c in result.content])
    assert sim.count("run-now") == 0
