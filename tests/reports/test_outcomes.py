"""``--expect``, ``--dry-run`` and ``spola runs show --html/--exchanges`` on the command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spola.sim import create_combined_app, serve_in_thread
from tests.conftest import REPO, SEEDS, shared_or_skip

DBT = SEEDS / "dbt-trigger-run-and-poll-workflow.yml"
DATABRICKS = REPO / "examples" / "databricks" / "run-job-and-wait.arazzo.yaml"
TOKEN = "dapi-Outc0me-Secret-99"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_combined_app(speed=40, seed=4, token=TOKEN)) as server:
        yield server.base_url


def spola(*args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    if store is not None:
        env["SPOLA_STORE"] = str(store)
    return subprocess.run(
        [sys.executable, "-m", "spola", *args], capture_output=True, text=True, timeout=120, env=env
    )


def requests_seen(base_url: str) -> int:
    with urllib.request.urlopen(base_url + "/_sim/requests", timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return sum(sum(c.values()) for vendor in data["counts"].values() for c in vendor.values())


def dbt(base_url: str, job: int, *extra: str) -> subprocess.CompletedProcess[str]:
    shared_or_skip()
    return spola(
        "run", str(DBT), "--server", f"dbtAdminApi={base_url}/api/v2",
        "-i", "accountId=1", "-i", f"jobId={job}", "-i", f"token={TOKEN}", "--poll-interval", "0.05", *extra,
    )  # fmt: skip


def test_a_dbt_job_that_errors_fails_the_expectation(base_url: str) -> None:
    done = dbt(base_url, 2, "--expect", "$outputs.finalStatus == 10", "--json")
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and result["outputs"]["finalStatus"] == 20  # the seed `end`s on it
    assert "expectation failed" in done.stderr
    assert "`$outputs.finalStatus == 10`" in done.stderr and "$outputs.finalStatus is 20" in done.stderr


def test_a_dbt_job_that_succeeds_meets_the_expectation(base_url: str, tmp_path: Path) -> None:
    junit = tmp_path / "run.xml"
    done = dbt(base_url, 1, "--expect", "$outputs.finalStatus == 10", "--expect", "$outputs.runId > 0",
               "--junit", str(junit))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "expectation" not in done.stderr
    assert "<failure" not in junit.read_text()


def test_a_failed_expectation_is_a_junit_failure(base_url: str, tmp_path: Path) -> None:
    junit, summary = tmp_path / "run.xml", tmp_path / "run.md"
    done = dbt(base_url, 2, "--expect", "$outputs.finalStatus == 10", "--junit", str(junit),
               "--summary", str(summary))  # fmt: skip
    assert done.returncode == 1
    text = junit.read_text()
    assert 'type="expectation"' in text and "$outputs.finalStatus == 10" in text
    assert TOKEN not in text
    assert "❌" in summary.read_text().splitlines()[0]


@pytest.mark.parametrize(
    ("expect", "says"),
    [
        ("$outputs.finalStatus ==", "is not a condition"),
        ("$inputs.token == 1", "reads $inputs.token"),
        ("1 == 1", "reads no output"),
    ],
)
def test_a_bad_expectation_is_a_usage_error_before_anything_is_sent(
    base_url: str, expect: str, says: str
) -> None:
    before = requests_seen(base_url)
    done = dbt(base_url, 1, "--expect", expect)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert requests_seen(base_url) == before


def test_dry_run_builds_the_first_request_and_sends_nothing(base_url: str) -> None:
    before = requests_seen(base_url)
    done = dbt(base_url, 1, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert requests_seen(base_url) == before
    assert "nothing was sent" in done.stdout
    assert f"POST {base_url}/api/v2/accounts/1/jobs/1/run/" in done.stdout
    assert "Authorization: ***" in done.stdout and TOKEN not in done.stdout + done.stderr
    assert '"cause"' in done.stdout
    as_json = json.loads(dbt(base_url, 1, "--dry-run", "--json").stdout)
    assert [r["stepId"] for r in as_json["requests"]] == ["triggerRun"]


def test_dry_run_still_validates_inputs(base_url: str) -> None:
    done = dbt(base_url, 1, "--dry-run", "-i", "accountId=not-a-number")
    assert done.returncode == 2 and "accountId" in done.stderr


def test_runs_show_html_and_exchanges_from_the_store(base_url: str, tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    done = spola(
        "run", str(DATABRICKS), "-i", "job_id=123", "--server", f"databricks={base_url}/api",
        "--auth", f"databricks={TOKEN}", "--poll-interval", "0.05", "--json", store=store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["runId"]
    listed = spola("runs", store=store)
    assert run_id in listed.stdout  # the full id, never cut
    page = tmp_path / "run.html"
    shown = spola("runs", "show", run_id[:-3], "--html", str(page), store=store)
    assert shown.returncode == 0, shown.stderr
    html = page.read_text()
    assert html.count('class="bar"') >= 4 and "TERMINATED" in html and "stillActive" in html
    assert TOKEN not in html
    exchanges = spola("runs", "show", run_id, "--exchanges", store=store)
    assert exchanges.returncode == 0, exchanges.stderr
    assert '"life_cycle_state"' in exchanges.stdout and "Authorization: ***" in exchanges.stdout
    assert TOKEN not in exchanges.stdout


def test_runs_show_html_of_a_cancelled_run_shows_its_cancel_workflow(base_url: str, tmp_path: Path) -> None:
    import signal
    import time

    store = tmp_path / "runs.db"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["SPOLA_STORE"] = str(store)
    before = requests_seen(base_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "spola", "run", str(DATABRICKS), "-i", "job_id=777", "--server",
         f"databricks={base_url}/api", "--auth", f"databricks={TOKEN}", "--poll-interval", "0.2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while requests_seen(base_url) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.1)  # job 777 runs for 600 s: the run is polling
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=90)
    finally:
        process.kill()
    run_id = json.loads(out)["runId"]
    page = tmp_path / "run.html"
    shown = spola("runs", "show", run_id, "--html", str(page), store=store)
    assert shown.returncode == 0, shown.stderr + err
    html = page.read_text()
    steps = re.findall(r'class="bar" data-step="([^"]+)"', html)
    assert steps[0] == "runNow" and "waitForRun" in steps
    assert "cancel" in steps and "waitForStop" in steps  # the example's cancel workflow, its own lanes
    assert "cancel workflow cancel-run: succeeded" in html and "CANCELED" in html
    assert TOKEN not in html
