"""Bounded everything: response size, files read, YAML aliases, nesting, workflow recursion."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web

import spola
from spola.api import make_options, prepare
from spola.durable import DurableRun, execute
from spola.errors import DocumentError
from spola.model import load
from spola.model.reader import parse_text
from spola.store import Journal
from tests.integration.documents import HEADER, OPENAPI, write
from tests.stub_server import Reply, StubServer

GET = """
workflows:
  - workflowId: w
    steps:
      - stepId: get
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        successCriteria: [{condition: $statusCode == 200}]
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "spola", *args], capture_output=True, text=True, env=env, timeout=60
    )


# --- response size ----------------------------------------------------------------------------


async def test_a_response_over_the_size_limit_fails_its_step_and_is_kept_truncated(
    stub: StubServer, tmp_path: Path
) -> None:
    big = b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    stub.add("GET", "/api/jobs/runs/get", Reply(raw=big, headers={"Content-Type": "application/json"}))
    doc = write(tmp_path, GET)
    store = tmp_path / "runs.db"
    options = make_options(servers={"jobs": stub.base_url + "/api"}, max_response_bytes=1024 * 1024)
    run = prepare(doc, options=options)
    result = await execute(DurableRun(run, str(doc), str(store)))
    assert result.status == "failed"
    assert "over the limit of 1048576 bytes (--max-response-bytes)" in result.error.message
    assert len(stub.requests) == 1  # a size failure is not re-sent
    journal = await Journal.open(str(store))
    try:
        record = await journal.get_run(result.run_id)
    finally:
        await journal.close()
    (exchange,) = record.exchanges
    assert exchange.error is not None and "--max-response-bytes" in exchange.error
    assert exchange.response_body is not None and len(exchange.response_body) == 64 * 1024


async def test_a_small_gzip_body_that_inflates_over_the_limit_is_cut_off(
    stub: StubServer, tmp_path: Path
) -> None:
    # the declared length is the compressed one: the limit is on what the body inflates to
    import gzip

    inflated = b'{"x": "' + b"a" * (4 * 1024 * 1024) + b'"}'
    packed = gzip.compress(inflated)
    assert len(packed) < 64 * 1024
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    stub.add("GET", "/api/jobs/runs/get", Reply(raw=packed, headers=headers))
    doc = write(tmp_path, GET)
    options = make_options(servers={"jobs": stub.base_url + "/api"}, max_response_bytes=1024 * 1024)
    result = await spola.arun(doc, options=options)
    assert result.status == "failed"
    assert "over the limit of 1048576 bytes (--max-response-bytes)" in result.error.message


@pytest.mark.timeout(60)
async def test_a_streamed_body_without_length_is_cut_off_not_buffered(tmp_path: Path) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        chunk = b"z" * 65536
        try:
            while sent < 200 * 1024 * 1024:
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    app = web.Application()
    app.router.add_get("/api/jobs/runs/get", endless)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        result = await spola.arun(
            write(tmp_path, GET),
            servers={"jobs": f"http://127.0.0.1:{port}/api"},
            max_response_bytes=2 * 1024 * 1024,
        )
    finally:
        await asyncio.sleep(0.1)
        await runner.cleanup()
    assert result.status == "failed"
    assert "--max-response-bytes" in result.error.message
    assert sent < 100 * 1024 * 1024  # the client stopped reading long before the 200 MB


# --- files read -------------------------------------------------------------------------------


def _doc_with_source(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "flow.arazzo.yaml"
    path.write_text(HEADER.replace("./jobs.openapi.yaml", url) + GET)
    return path


def test_a_source_at_dev_zero_is_refused_as_not_a_regular_file(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(DocumentError) as caught:
        load(_doc_with_source(tmp_path, "/dev/zero"))
    assert "not a regular file" in str(caught.value)
    assert time.monotonic() - started < 10


def test_a_ref_to_dev_zero_is_refused(tmp_path: Path) -> None:
    (tmp_path / "jobs.openapi.yaml").write_text(
        OPENAPI.replace("schema: {type: object}", "schema: {$ref: '/dev/zero#/x'}", 1)
    )
    doc = tmp_path / "flow.arazzo.yaml"
    doc.write_text(HEADER + GET)
    proc = cli("validate", str(doc))
    assert "internal" not in (proc.stdout + proc.stderr).lower()
    assert "Traceback" not in proc.stderr


def test_a_document_over_the_size_limit_is_refused_with_exit_2(tmp_path: Path) -> None:
    doc = write(tmp_path, GET)
    proc = cli("run", str(doc), "--no-store", "--max-document-bytes", "100")
    assert proc.returncode == 2, proc.stderr
    assert "--max-document-bytes" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_source_given_as_a_directory_or_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DocumentError) as caught:
        load(_doc_with_source(tmp_path, str(fifo)))
    assert "not a regular file" in str(caught.value)


# --- YAML aliases and depth -------------------------------------------------------------------


def _laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_document_is_refused_with_exit_2_at_once(tmp_path: Path) -> None:
    doc = tmp_path / "bomb.arazzo.yaml"
    doc.write_text(HEADER + _laughs(10))
    started = time.monotonic()
    proc = cli("run", str(doc), "--no-store")
    assert proc.returncode == 2, proc.stderr
    assert "alias bomb" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30  # a whole process start; the check itself is below


def test_the_alias_check_is_proportional_to_the_text_not_the_expansion() -> None:
    parsed = parse_text(_laughs(12), "bomb.yaml")  # 10^12 nodes if expanded
    assert not parsed.ok
    assert "alias bomb" in parsed.findings[0].message


def test_a_recursive_alias_is_refused() -> None:
    parsed = parse_text("a: &x [1, *x]\n", "loop.yaml")
    assert not parsed.ok
    assert "contains itself" in parsed.findings[0].message


def test_aliases_within_the_budget_still_load() -> None:
    parsed = parse_text("a: &x {b: 1}\nc: *x\nd: [*x, *x]\n", "ok.yaml")
    assert parsed.ok
    assert parsed.data == {"a": {"b": 1}, "c": {"b": 1}, "d": [{"b": 1}, {"b": 1}]}


def test_a_document_nested_too_deeply_is_refused_clearly(tmp_path: Path) -> None:
    nested = "x: " + "".join("\n" + "  " * (i + 1) + f"k{i}:" for i in range(300)) + " 1\n"
    doc = tmp_path / "deep.arazzo.yaml"
    doc.write_text(HEADER + nested)
    proc = cli("run", str(doc), "--no-store")
    assert proc.returncode == 2, proc.stderr
    assert "nests deeper than 200 levels" in proc.stderr


# --- workflow recursion -----------------------------------------------------------------------

SELF = """
workflows:
  - workflowId: w
    steps:
      - stepId: again
        workflowId: w
"""

CYCLE = """
workflows:
  - workflowId: a
    steps:
      - {stepId: get, operationId: getRun, parameters: [{name: run_id, in: query, value: 1}]}
      - {stepId: b, workflowId: b}
  - workflowId: b
    steps:
      - {stepId: a, workflowId: a}
"""


def test_a_workflow_that_runs_itself_is_refused_before_anything_is_sent(
    stub: StubServer, tmp_path: Path
) -> None:
    proc = cli("run", str(write(tmp_path, SELF)), "--no-store", "--server", f"jobs={stub.base_url}/api")
    assert proc.returncode == 2, proc.stderr
    assert "runs itself whatever happens (w → w)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_cycle_through_two_workflows_is_refused(stub: StubServer, tmp_path: Path) -> None:
    proc = cli("run", str(write(tmp_path, CYCLE)), "-w", "a", "--server", f"jobs={stub.base_url}/api")
    assert proc.returncode == 2, proc.stderr
    assert "a → b → a" in proc.stderr
    assert stub.requests == []


CONDITIONAL = """
workflows:
  - workflowId: w
    steps:
      - stepId: get
        operationId: getRun
        parameters: [{name: run_id, in: query, value: 1}]
        onSuccess:
          - {name: deeper, type: goto, stepId: again, criteria: [{condition: $statusCode == 200}]}
      - stepId: again
        workflowId: w
"""


async def test_recursion_the_load_cannot_see_fails_cleanly_at_the_depth_limit(
    stub: StubServer, tmp_path: Path
) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    result = await spola.arun(
        write(tmp_path, CONDITIONAL), servers={"jobs": stub.base_url + "/api"}, max_depth=5
    )
    assert result.status == "failed"
    assert "over the limit of 5 (--max-depth)" in result.error.message
    assert len(stub.requests) == 6
    assert result.error.message.count("step again failed") == 0


def test_recursion_at_run_time_exits_1_with_a_message_on_the_cli(stub: StubServer, tmp_path: Path) -> None:
    stub.add("GET", "/api/jobs/runs/get", Reply(body={}))
    proc = cli(
        "run", str(write(tmp_path, CONDITIONAL)), "--no-store", "--json",
        "--server", f"jobs={stub.base_url}/api",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert "--max-depth" in data["error"]["message"]
    assert "internal" not in proc.stderr.lower()
