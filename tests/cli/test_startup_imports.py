"""Start-up guard: ``spola run`` imports only what the document and the command need.

The bench workflow (the seeds' `$.state.life_cycle_state == "RUNNING"` dialect, a plain inputs
schema) needs neither jsonschema, python-jsonpath, RE2, Rich, the XPath libraries, the servers of
``spola sim``/``mcp`` nor the report writers. A fresh ``spola`` process records the modules it
loaded when it exits; this test fails when one of them is imported eagerly again. (No timing here:
the start-up figures live in bench/startup.py and bench/README.md.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stub_server import Reply, StubServer

BENCH_DOC = Path(__file__).resolve().parents[2] / "bench" / "workflows" / "spola.arazzo.yaml"
HEAVY = (
    "jsonschema", "referencing", "jsonschema_specifications", "jsonpath", "regex", "re2",
    "rich", "markdown_it", "pygments", "elementpath", "lxml", "starlette", "uvicorn", "pydantic",
    "temporalio", "opentelemetry", "mcp", "spola.reports", "spola.sim", "spola.mcp", "spola.cli.live",
)  # fmt: skip
# urllib.request imports http.client, email and ssl (~20 ms): only remote source descriptions need it
# (``spola run`` gets it with aiohttp anyway; a dry run, validate and workflows do not)
REMOTE_ONLY = {"urllib.request", "http.client", "email.parser"}

# `spola` as its console script runs it, writing sorted(sys.modules) to argv[1] at exit.
PROBE = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from spola.cli.app import main
main(sys.argv[1:])
"""


def _loaded(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    return proc, set(json.loads(out.read_text()))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def _databricks(stub: StubServer) -> None:
    stub.add("POST", "/api/2.1/jobs/run-now", Reply(body={"run_id": 7, "number_in_job": 1}))
    stub.add(
        "GET",
        "/api/2.1/jobs/runs/get",
        Reply(body={"state": {"life_cycle_state": "RUNNING"}}),
        Reply(body={"state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}}),
    )
    stub.add("GET", "/api/2.1/jobs/runs/get-output", Reply(body={"notebook_output": {"result": "ok"}}))


@pytest.mark.parametrize(
    "store", [["--store", "{tmp}/runs.db"], ["--no-store"]], ids=["journalled", "memory"]
)
def test_run_json_loads_no_heavy_module_the_document_does_not_need(
    tmp_path: Path, stub: StubServer, store: list[str]
) -> None:
    _databricks(stub)
    proc, modules = _loaded(
        tmp_path,
        "run", str(BENCH_DOC), "-i", "job_id=7", "--json", "--poll-interval", "0",
        "--server", f"databricksApi={stub.base_url}/api",
        *(a.format(tmp=tmp_path) for a in store),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "succeeded"
    assert [r.path for r in stub.received()] == [
        "/api/2.1/jobs/run-now", "/api/2.1/jobs/runs/get", "/api/2.1/jobs/runs/get", "/api/2.1/jobs/runs/get-output",
    ]  # fmt: skip
    assert stub.received("POST")[0].json == {"job_id": 7}
    assert "aiohttp" in modules  # the probe saw the run's own imports
    assert _heavy(modules) == []
    # only the blocking lint checks run before the first request; the others' modules stay unloaded
    assert "spola.lint.checks.parameters" in modules
    assert (
        not {"spola.lint.checks.servers", "spola.lint.checks.outcomes", "spola.lint.checks.forms"} & modules
    )
    journal = {"spola.durable", "spola.store", "sqlite3"}
    assert journal <= modules if "--store" in store else not journal & modules


def test_dry_run_loads_no_heavy_module(tmp_path: Path) -> None:
    proc, modules = _loaded(tmp_path, "run", str(BENCH_DOC), "-i", "job_id=7", "--dry-run", "--no-store")
    assert proc.returncode == 0, proc.stderr
    assert "POST http://127.0.0.1:8765/api/2.1/jobs/run-now" in proc.stdout
    assert _heavy(modules) == []
    # nothing is sent: no HTTP client, no event loop, no journal
    assert not {"aiohttp", "asyncio", "spola.drivers.aio", "spola.durable", "sqlite3"} & modules
    assert not REMOTE_ONLY & modules  # local sources: no urllib.request
    assert "spola.core.engine" in modules  # the probe saw the run's own imports


@pytest.mark.parametrize("command", ["validate", "workflows"])
def test_reading_local_documents_loads_no_url_opener(tmp_path: Path, command: str) -> None:
    proc, modules = _loaded(tmp_path, command, str(BENCH_DOC))
    assert proc.returncode == 0, proc.stderr
    assert "spola.model.sources" in modules  # the probe saw the document read
    assert not REMOTE_ONLY & modules


def test_dry_run_json_loads_no_http_client(tmp_path: Path) -> None:
    proc, modules = _loaded(tmp_path, "run", str(BENCH_DOC), "-i", "job_id=7", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["dryRun"] is True
    assert not {"aiohttp", "asyncio"} & modules
    assert _heavy(modules) == []


def test_a_document_that_needs_them_still_loads_them(tmp_path: Path) -> None:
    # the same workflow with an input pattern and a filter query: jsonschema and python-jsonpath load
    text = BENCH_DOC.read_text()
    text = text.replace("        type: integer\n", "        type: integer\n        multipleOf: 1\n", 1)
    text = text.replace('$.state.life_cycle_state == "PENDING"', '$.state[?@ == "PENDING"]')
    (tmp_path / "spola.arazzo.yaml").write_text(text)
    (tmp_path / "databricks.openapi.yaml").write_text(
        (BENCH_DOC.parent / "databricks.openapi.yaml").read_text()
    )
    proc, modules = _loaded(
        tmp_path, "run", str(tmp_path / "spola.arazzo.yaml"), "-i", "job_id=7", "--dry-run", "--no-store"
    )
    assert proc.returncode == 0, proc.stderr
    assert {"jsonschema", "jsonpath"} <= modules
