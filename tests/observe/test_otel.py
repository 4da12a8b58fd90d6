"""OpenTelemetry: spans per run, step execution and HTTP request (the SDK's in-memory exporter), and the
W3C traceparent the server received is the request span's; nothing of it when tracing is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import spola
from spola.observe import otel, set_tracer
from tests.stub_server import Reply, StubServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "databricks" / "run-job-and-wait.arazzo.yaml"
SECRET = "dapi-very-secret-token"


def databricks(stub: StubServer) -> None:
    stub.add("POST", "/api/2.1/jobs/run-now", Reply(body={"run_id": 5}))
    stub.add(
        "GET",
        "/api/2.1/jobs/runs/get",
        Reply(body={"state": {"life_cycle_state": "RUNNING"}}),
        Reply(
            body={
                "state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"},
                "tasks": [{"run_id": 6}],
            }
        ),
    )
    stub.add("GET", "/api/2.1/jobs/runs/get-output", Reply(body={"notebook_output": {"result": "ok"}}))


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    otel.enable(provider)
    try:
        yield memory
    finally:
        set_tracer(None)


async def test_spans_for_the_run_its_steps_and_requests(
    stub: StubServer, exporter: InMemorySpanExporter
) -> None:
    databricks(stub)
    result = await spola.arun(
        EXAMPLE, inputs={"job_id": 1}, servers={"databricks": f"{stub.base_url}/api"},
        auth={"databricks": SECRET}, poll_interval=0,
    )  # fmt: skip
    assert result.status == "succeeded"
    spans = exporter.get_finished_spans()
    (run,) = [s for s in spans if s.name == "spola.run run-job-and-wait"]
    assert run.attributes["spola.run_id"] == result.run_id
    assert run.attributes["spola.status"] == "succeeded"
    steps = [s for s in spans if s.name.startswith("spola.step ")]
    assert [s.attributes["spola.step_id"] for s in sorted(steps, key=lambda s: s.start_time)] == [
        "runNow", "waitForRun", "waitForRun", "getOutput",
    ]  # fmt: skip
    assert all(s.parent is not None and s.parent.span_id == run.context.span_id for s in steps)
    polls = [s for s in steps if s.attributes["spola.step_id"] == "waitForRun"]
    assert sorted(s.attributes["spola.execution"] for s in polls) == [1, 2]
    assert all(s.attributes["http.response.status_code"] == 200 for s in steps)
    http = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert len(http) == 4
    by_id = {s.context.span_id: s for s in steps}
    for span in http:
        assert span.parent is not None and span.parent.span_id in by_id
        step = by_id[span.parent.span_id]
        assert span.attributes["spola.step_id"] == step.attributes["spola.step_id"]
        assert span.attributes["http.response.status_code"] == 200
        assert span.context.trace_id == run.context.trace_id
    # the server got each request span's context as W3C traceparent
    received = [r.headers.get("traceparent") for r in stub.requests]
    ordered = sorted(http, key=lambda s: s.start_time)
    expected = [
        f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{int(s.context.trace_flags):02x}"
        for s in ordered
    ]
    assert received == expected
    text = json.dumps([dict(s.attributes or {}) for s in spans])
    assert SECRET not in text


async def test_a_failed_request_marks_its_spans(stub: StubServer, exporter: InMemorySpanExporter) -> None:
    stub.add("POST", "/api/2.1/jobs/run-now", Reply(status=403, body={"error_code": "PERMISSION_DENIED"}))
    result = await spola.arun(
        EXAMPLE, inputs={"job_id": 1}, servers={"databricks": f"{stub.base_url}/api"},
        auth={"databricks": SECRET},
    )  # fmt: skip
    assert result.status == "failed"
    spans = exporter.get_finished_spans()
    (client,) = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert client.attributes["http.response.status_code"] == 403
    assert client.status.status_code == StatusCode.ERROR
    (run,) = [s for s in spans if s.name.startswith("spola.run")]
    assert run.status.status_code == StatusCode.ERROR


def test_tracing_off_sends_no_traceparent_and_imports_no_opentelemetry(
    stub: StubServer, tmp_path: Path
) -> None:
    databricks(stub)
    script = (
        "import sys, spola\n"
        f"r = spola.run({str(EXAMPLE)!r}, inputs={{'job_id': 1}}, servers={{'databricks': {stub.base_url + '/api'!r}}},"
        " auth={'databricks': 't'}, poll_interval=0)\n"
        "print(r.status, any(m.startswith('opentelemetry') for m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SPOLA_OTEL"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.split() == ["succeeded", "False"], proc.stderr
    assert stub.requests and all("traceparent" not in r.headers for r in stub.requests)


def test_spola_run_otel_exports_to_the_console(stub: StubServer, tmp_path: Path) -> None:
    databricks(stub)
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "console",
        "NO_COLOR": "1",
        "SPOLA_STORE": str(tmp_path / "r.db"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "spola", "run", str(EXAMPLE), "-i", "job_id=1", "--server",
         f"databricks={stub.base_url}/api", "--auth", f"databricks={SECRET}", "--poll-interval", "0",
         "--otel", "--json", "-q"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "succeeded"  # spans go to stderr, never into --json
    assert '"name": "spola.run run-job-and-wait"' in proc.stderr
    assert proc.stderr.count('"name": "spola.step waitForRun"') == 2
    assert SECRET not in proc.stderr
    assert all(r.headers.get("traceparent", "").startswith("00-") for r in stub.requests)


def test_json_logs_on_stderr_and_in_a_file(stub: StubServer, tmp_path: Path) -> None:
    databricks(stub)
    log = tmp_path / "run.log"
    env = {**os.environ, "NO_COLOR": "1", "SPOLA_STORE": str(tmp_path / "r.db")}
    proc = subprocess.run(
        [sys.executable, "-m", "spola", "run", str(EXAMPLE), "-i", "job_id=1", "--server",
         f"databricks={stub.base_url}/api", "--auth", f"databricks={SECRET}", "--poll-interval", "0",
         "--log-format", "json", "--log-file", str(log)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert [r["event"] for r in lines][:2] == ["step.started", "step.finished"]
    assert lines[-1]["event"] == "run.finished" and lines[-1]["status"] == "succeeded"
    run_id = lines[-1]["runId"]
    assert all(r["runId"] == run_id and r["time"].endswith("Z") for r in lines)
    finished = [r for r in lines if r["event"] == "step.finished"]
    assert [r["stepId"] for r in finished] == ["runNow", "waitForRun", "waitForRun", "getOutput"]
    assert all(r["statusCode"] == 200 for r in finished)
    in_file = [json.loads(line) for line in log.read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k != "time"} for r in in_file] == [
        {k: v for k, v in r.items() if k != "time"} for r in lines
    ]
    assert SECRET not in proc.stderr and SECRET not in log.read_text()


def test_a_bad_log_format_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spola", "run", str(EXAMPLE), "-i", "job_id=1", "--log-format", "xml", "--no-store"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--log-format xml" in proc.stderr and "Traceback" not in proc.stderr
