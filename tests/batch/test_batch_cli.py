"""``spola run DOC --batch FILE --concurrency N`` against a local server.

Most tests call the command in-process (``spola.cli.app.main``) to stay fast; the first and the
Ctrl-C test run ``python -m spola`` as a user does.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from spola.cli.app import main
from tests.batch.conftest import JobsServer

SPOLA = [sys.executable, "-m", "spola"]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def batch(
    capsys: pytest.CaptureFixture[str],
    flow: Path,
    jobs: JobsServer,
    rows: list[str],
    *extra: str,
    concurrency: int = 4,
) -> tuple[Outcome, list[dict]]:
    lines = flow.parent / "rows.jsonl"
    lines.write_text("\n".join(rows) + "\n")
    proc = cli(
        capsys, "run", str(flow), "--batch", str(lines), "--concurrency", str(concurrency),
        "--server", f"jobs={jobs.base_url}", "--poll-interval", "0", "--no-store", *extra,
    )  # fmt: skip
    return proc, [json.loads(line) for line in proc.stdout.splitlines()]


def test_each_row_prints_one_json_line_with_its_line_number_and_exit_0(flow: Path, jobs: JobsServer) -> None:
    lines = flow.parent / "rows.jsonl"
    lines.write_text("\n".join(json.dumps({"job_id": n, "polls": 3}) for n in range(1, 9)) + "\n")
    proc = subprocess.run(
        [
            *SPOLA, "run", str(flow), "--batch", str(lines), "--concurrency", "4",
            "--server", f"jobs={jobs.base_url}", "--poll-interval", "0", "--no-store",
        ],
        capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, proc.stderr
    assert sorted(r["line"] for r in results) == list(range(1, 9))
    for r in results:
        assert set(r) == {"line", "runId", "workflowId", "status", "outputs", "steps", "error"}
        assert r["status"] == "succeeded"
        assert r["outputs"] == {"jobId": r["line"], "state": "TERMINATED"}
        assert [s["executions"] for s in r["steps"]] == [1, 3]
    assert len({r["runId"] for r in results}) == 8
    assert "8 runs, 8 succeeded, 0 failed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_results_stream_in_completion_order(
    capsys: pytest.CaptureFixture[str], flow: Path, jobs: JobsServer
) -> None:
    rows = [
        json.dumps({"job_id": 1, "delay": 0.4}),
        json.dumps({"job_id": 2}),
        json.dumps({"job_id": 3}),
    ]
    proc, results = batch(capsys, flow, jobs, rows, concurrency=3)
    assert proc.returncode == 0, proc.stderr
    assert [r["line"] for r in results][-1] == 1
    assert {r["line"] for r in results} == {1, 2, 3}


def test_a_failing_row_does_not_stop_the_others(
    capsys: pytest.CaptureFixture[str], flow: Path, jobs: JobsServer
) -> None:
    rows = [
        json.dumps({"job_id": 1}),
        "not json",
        json.dumps({"job_id": "x"}),
        "",
        json.dumps({"job_id": 13}),
        "[1, 2]",
        json.dumps({"job_id": 6}),
    ]
    proc, results = batch(capsys, flow, jobs, rows, concurrency=2)
    assert proc.returncode == 1, proc.stderr
    by_line = {r["line"]: r for r in results}
    assert sorted(by_line) == [1, 2, 3, 5, 6, 7], "a blank line is skipped but still counted"
    assert by_line[1]["status"] == by_line[7]["status"] == "succeeded"
    assert "not JSON" in by_line[2]["error"]["message"]
    assert "job_id" in by_line[3]["error"]["message"] and by_line[3]["steps"] == []
    assert by_line[5]["error"]["stepId"] == "trigger"
    assert "JSON object" in by_line[6]["error"]["message"]
    assert "6 runs, 2 succeeded, 4 failed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_concurrency_cap_is_respected_as_seen_by_the_server(
    capsys: pytest.CaptureFixture[str], flow: Path, jobs: JobsServer
) -> None:
    rows = [json.dumps({"job_id": n, "polls": 2, "delay": 0.05}) for n in range(1, 13)]
    proc, results = batch(capsys, flow, jobs, rows, concurrency=3)
    assert proc.returncode == 0, proc.stderr
    assert len(results) == 12
    assert jobs.peak == 3


def test_input_flags_apply_to_every_row_and_rows_win(
    capsys: pytest.CaptureFixture[str], flow: Path, jobs: JobsServer
) -> None:
    rows = [json.dumps({"job_id": 1}), json.dumps({"job_id": 2, "polls": 2})]
    proc, results = batch(capsys, flow, jobs, rows, "--input", "polls=3")
    assert proc.returncode == 0, proc.stderr
    executions = {r["line"]: r["steps"][1]["executions"] for r in results}
    assert executions == {1: 3, 2: 2}


def test_an_empty_batch_file_runs_nothing_and_exits_0(
    capsys: pytest.CaptureFixture[str], flow: Path, jobs: JobsServer
) -> None:
    proc, results = batch(capsys, flow, jobs, ["", "   "])
    assert proc.returncode == 0, proc.stderr
    assert results == []
    assert "0 runs" in proc.stderr


def test_a_missing_batch_file_is_a_one_paragraph_error(
    capsys: pytest.CaptureFixture[str], flow: Path
) -> None:
    proc = cli(capsys, "run", str(flow), "--batch", str(flow.parent / "nope.jsonl"), "--no-store")
    assert proc.returncode == 2
    assert "cannot read the batch file" in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr


def test_a_journalled_batch_records_every_run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flow: Path,
    jobs: JobsServer,
    tmp_path: Path,
) -> None:
    store = tmp_path / "runs.db"
    rows = [json.dumps({"job_id": n}) for n in range(1, 6)]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(rows)))
    proc = cli(
        capsys, "run", str(flow), "--batch", "-", "--concurrency", "3",
        "--server", f"jobs={jobs.base_url}", "--poll-interval", "0", "--store", str(store),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ids = {json.loads(line)["runId"] for line in proc.stdout.splitlines()}
    listed = cli(capsys, "runs", "--json", "--store", str(store))
    runs = json.loads(listed.stdout)
    assert {r["runId"] for r in runs} == ids
    assert {r["status"] for r in runs} == {"succeeded"}


def test_ctrl_c_interrupts_runs_in_flight_and_starts_no_more(flow: Path, jobs: JobsServer) -> None:
    lines = flow.parent / "rows.jsonl"
    lines.write_text("\n".join(json.dumps({"job_id": n, "delay": 0.3, "polls": 50}) for n in range(1, 9)))
    proc = subprocess.Popen(
        [
            *SPOLA, "run", str(flow), "--batch", str(lines), "--concurrency", "2",
            "--server", f"jobs={jobs.base_url}", "--poll-interval", "0", "--no-store",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while len(jobs.stub.received("GET")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["status"] for r in results] == ["interrupted", "interrupted"]
    assert "6 not started" in err
    assert "Traceback" not in err
