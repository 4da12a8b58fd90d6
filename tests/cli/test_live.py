"""The live view as a user sees it: a real pseudo-terminal (Rich redraws in place), plain lines when stderr
is a pipe, nothing with -q, criteria and actions with -v; against the Databricks simulator."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spola.sim import create_combined_app, serve_in_thread
from tests.cancel.conftest import EXAMPLE, TOKEN, Sim, spola_run

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def sim() -> Iterator[Sim]:
    handle = serve_in_thread(create_combined_app(seed=1))
    try:
        yield Sim(handle)
    finally:
        handle.stop()


def run_args(sim: Sim, *extra: str) -> list[str]:
    return [
        "run", str(EXAMPLE), "-i", "job_id=123", "--server", f"databricks={sim.api}",
        "--auth", f"databricks={TOKEN}", "--poll-interval", "0.3", *extra,
    ]  # fmt: skip


def run_in_pty(args: list[str], store: Path, limit: float = 90.0) -> tuple[int, str]:
    """Run spola with stdout and stderr on a pseudo-terminal; return its status and everything it drew."""
    controller, worker = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30", "SPOLA_STORE": str(store)}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "spola", *args], stdin=worker, stdout=worker, stderr=worker, env=env
    )
    os.close(worker)
    chunks: list[bytes] = []
    end = time.monotonic() + limit
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    data = os.read(controller, 65536)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    return status, b"".join(chunks).decode("utf-8", errors="replace")


def test_the_terminal_view_redraws_one_line_per_step(sim: Sim, tmp_path: Path) -> None:
    status, drawn = run_in_pty(run_args(sim), tmp_path / "runs.db")
    assert status == 0, drawn
    assert "\x1b[" in drawn  # drawn in place, not printed line by line
    assert re.search("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", drawn), "a spinner while the step polls"
    plain = ANSI.sub("", drawn)
    assert re.search(r"✓ runNow\s+#1\s+\d+\.\d s 200", plain), plain
    assert re.search(r"✓ waitForRun\s+#([2-9]|\d\d)\s+\d+\.\d s 200", plain), plain
    assert re.search(r"✓ getOutput\s+#1", plain)
    assert "run-job-and-wait: succeeded" in plain
    assert re.search(r"waitForRun.*lifeCycleState (PENDING|RUNNING|QUEUED)", plain), plain
    assert re.search(r"waitForRun.*lifeCycleState TERMINATED", plain), plain


def test_plain_lines_when_stderr_is_not_a_terminal(sim: Sim, tmp_path: Path) -> None:
    proc = spola_run(*run_args(sim), store=tmp_path / "runs.db")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert "\x1b[" not in proc.stderr
    assert any(
        re.match(r"ok\s+runNow #1 POST http://\S+/2.1/jobs/run-now  200  \d+ ms\s+-> next: waitForRun", line)
        for line in lines
    ), lines
    polls = [
        line for line in lines if re.match(r"ok\s+waitForRun #\d+ GET \S+/runs/get\?run_id=\d+  200", line)
    ]
    assert len(polls) >= 2
    assert polls[0].endswith("-> goto waitForRun") and polls[-1].endswith("-> next: getOutput")
    assert "[lifeCycleState RUNNING]" in polls[0] or "[lifeCycleState PENDING]" in polls[0]
    assert "[lifeCycleState TERMINATED]" in polls[-1]


def test_quiet_shows_nothing_but_the_result(sim: Sim, tmp_path: Path) -> None:
    proc = spola_run(*run_args(sim, "-q"), store=tmp_path / "runs.db")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "run-job-and-wait: succeeded" in proc.stdout


def test_verbose_shows_requests_criteria_and_why(sim: Sim, tmp_path: Path) -> None:
    proc = spola_run(*run_args(sim, "-v"), store=tmp_path / "runs.db")
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr
    assert "runNow #1: POST " in err and "/2.1/jobs/run-now" in err
    assert "waitForRun #1: GET " in err
    assert TOKEN not in err  # the credential never shows
    assert "success: `$statusCode == 200` true (was 200)" in err
    assert re.search(r"onSuccess:stillActive: `.*life_cycle_state.*` true \(was (PENDING|RUNNING)", err), err
    assert re.search(r"onSuccess:stillActive: `.*life_cycle_state.*` false \(was TERMINATED", err), err
    assert "action 'stillActive' matched → goto waitForRun" in err
    assert "no action matched → next step getOutput" in err
    assert "response 200" in err and '"run_id"' in err  # the response, redacted
