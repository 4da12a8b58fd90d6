"""``spola run --report/--junit/--har/--html/--summary`` against the simulator: every file parsed,
no secret in any of them (one given with --auth, one a ``format: password`` input)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from spola.sim import create_combined_app, serve_in_thread
from tests.conftest import REPO

TOKEN = "dapi-Sekr3tT0ken-4711"
PASSWORD = "pw-Hunter2-Quokka"
SCHEMA = Path(__file__).parent / "fixtures" / "junit.xsd"
OPENAPI = REPO / "examples" / "databricks" / "jobs.openapi.yaml"

DOC = f"""\
arazzo: 1.0.1
info: {{title: reports test, version: 1.0.0}}
sourceDescriptions:
  - name: databricks
    url: {OPENAPI}
    type: openapi
workflows:
  - workflowId: run-and-wait
    inputs:
      type: object
      required: [job_id, note]
      properties:
        job_id: {{type: integer}}
        note: {{type: string, format: password}}
    steps:
      - stepId: runNow
        operationId: runNow
        requestBody:
          contentType: application/json
          payload:
            job_id: $inputs.job_id
            job_parameters: {{note: $inputs.note}}
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          runId: $response.body#/run_id
      - stepId: waitForRun
        operationId: getRun
        parameters:
          - name: run_id
            in: query
            value: $steps.runNow.outputs.runId
        successCriteria:
          - condition: $statusCode == 200
        outputs:
          lifeCycleState: $response.body#/state/life_cycle_state
          resultState: $response.body#/state/result_state
          params: $response.body#/job_parameters
        onSuccess:
          - name: stillActive
            type: goto
            stepId: waitForRun
            criteria:
              - condition: $response.body#/state/life_cycle_state != 'TERMINATED'
    outputs:
      runId: $steps.runNow.outputs.runId
      resultState: $steps.waitForRun.outputs.resultState
      params: $steps.waitForRun.outputs.params
"""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_combined_app(speed=40, seed=2, token=TOKEN)) as server:
        yield server.base_url


def sim_counts(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(base_url + "/_sim/requests", timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def spola(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "spola", *args], capture_output=True, text=True, timeout=120, env=full_env
    )


def secret_forms() -> list[str]:
    forms = [TOKEN, PASSWORD]
    forms += [base64.b64encode(s.encode()).decode().rstrip("=") for s in forms]
    return forms


class Bars(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bars: list[dict[str, str | None]] = []
        self.waits = 0
        self.external: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        data = dict(attrs)
        if tag == "rect" and "bar" in (data.get("class") or "").split():
            self.bars.append(data)
        if tag == "rect" and data.get("class") == "wait":
            self.waits += 1
        for name in ("src", "href"):
            if data.get(name):
                self.external.append(f"{tag} {name}={data[name]}")
        if tag == "link":
            self.external.append("link")


@pytest.fixture(scope="module")
def reports(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("reports")
    doc = tmp / "flow.arazzo.yaml"
    doc.write_text(DOC)
    github = tmp / "github-summary.md"
    github.write_text("earlier step\n")
    before = sim_counts(base_url)
    done = spola(
        "run", str(doc), "-i", "job_id=123", "-i", f"note={PASSWORD}",
        "--server", f"databricks={base_url}/api", "--auth", f"databricks={TOKEN}",
        "--poll-interval", "0.05",
        "--report", str(tmp / "run.json"), "--junit", str(tmp / "run.xml"), "--har", str(tmp / "run.har"),
        "--html", str(tmp / "run.html"), "--summary", str(tmp / "run.md"),
        env={"GITHUB_STEP_SUMMARY": str(github)},
    )  # fmt: skip
    after = sim_counts(base_url)
    assert done.returncode == 0, done.stderr
    return {"tmp": tmp, "done": done, "before": before, "after": after, "github": github}


def _gets(counts: dict[str, Any]) -> int:
    return sum(counts["counts"].get("databricks", {}).get("runs/get", {}).values())


def test_every_report_file_is_written_and_free_of_secrets(reports: dict[str, Any]) -> None:
    tmp: Path = reports["tmp"]
    files = ["run.json", "run.xml", "run.har", "run.html", "run.md"]
    for name in files:
        text = (tmp / name).read_text()
        assert text.strip(), name
        for form in secret_forms():
            assert form not in text, f"{form!r} leaked into {name}"
    assert PASSWORD not in reports["done"].stdout + reports["done"].stderr
    assert TOKEN not in reports["done"].stdout + reports["done"].stderr


def test_the_json_report_has_every_execution(reports: dict[str, Any]) -> None:
    data = json.loads((reports["tmp"] / "run.json").read_text())
    polls = _gets(reports["after"]) - _gets(reports["before"])
    assert data["status"] == "succeeded" and data["ok"] is True
    executions = data["executions"]
    waits = [e for e in executions if e["stepId"] == "waitForRun"]
    assert len(waits) == polls >= 2  # one execution per request the simulator received
    assert [e["execution"] for e in waits] == list(range(1, polls + 1))
    first, last = waits[0], waits[-1]
    assert first["request"]["method"] == "GET" and "run_id=" in first["request"]["url"]
    assert dict(first["request"]["headers"])["Authorization"] == "***"
    assert first["response"]["status"] == 200 and first["response"]["bodyBytes"] > 0
    assert first["remoteState"]["lifeCycleState"] in ("PENDING", "RUNNING", "QUEUED")
    assert last["remoteState"] == {"lifeCycleState": "TERMINATED"}
    loop = first["criteria"][-1]
    assert loop["role"] == "onSuccess:stillActive" and loop["passed"] is True
    assert loop["observed"][0]["operand"] == "$response.body#/state/life_cycle_state"
    assert first["action"]["kind"] == "goto" and "stillActive" in first["action"]["why"]
    assert last["action"]["why"] == "no action matched → the workflow ends" or last["action"]["kind"] == "end"
    assert len(data["waits"]) == polls - 1
    run_now = executions[0]
    assert run_now["request"]["method"] == "POST" and '"note": "***"' in json.dumps(
        json.loads(run_now["request"]["body"])
    ).replace('"note":"***"', '"note": "***"')
    assert data["inputs"]["note"] == "***"
    assert all(e["startedAt"] <= e["finishedAt"] for e in executions)


def test_the_junit_report_validates_against_the_schema(reports: dict[str, Any]) -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.parse(str(reports["tmp"] / "run.xml"))
    assert schema.validate(document), schema.error_log
    cases = document.findall(".//testcase")
    assert len(cases) == 1 and cases[0].get("name") == "run-and-wait"
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert "waitForRun #1" in (cases[0].findtext("system-out") or "")


def test_the_har_has_one_entry_per_exchange(reports: dict[str, Any]) -> None:
    har = json.loads((reports["tmp"] / "run.har").read_text())
    entries = har["log"]["entries"]
    assert har["log"]["version"] == "1.2" and har["log"]["creator"]["name"] == "spola"
    polls = _gets(reports["after"]) - _gets(reports["before"])
    assert len(entries) == 1 + polls + 0
    for entry in entries:
        assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(entry)
        assert entry["request"]["method"] in ("GET", "POST") and entry["response"]["status"] == 200
        assert entry["response"]["content"]["mimeType"].startswith("application/json")
    assert entries[0]["request"]["postData"]["mimeType"] == "application/json"
    assert {
        "name": "run_id",
        "value": str(json.loads(entries[0]["response"]["content"]["text"])["run_id"]),
    } in (entries[1]["request"]["queryString"])


def test_the_html_page_is_self_contained_with_a_bar_per_execution(reports: dict[str, Any]) -> None:
    page = (reports["tmp"] / "run.html").read_text()
    parser = Bars()
    parser.feed(page)
    data = json.loads((reports["tmp"] / "run.json").read_text())
    assert len(parser.bars) == len(data["executions"])
    assert parser.waits == len(data["waits"]) >= 1
    assert parser.external == []  # no network: no src/href/link at all
    assert {"svg", "style", "script", "table"} <= parser.tags
    outcomes = {bar["data-outcome"] for bar in parser.bars}
    assert outcomes == {"passed"}
    assert any("TERMINATED" in (bar["data-tip"] or "") for bar in parser.bars)  # remote state on hover


def test_the_summary_goes_to_the_file_and_github(reports: dict[str, Any]) -> None:
    summary = (reports["tmp"] / "run.md").read_text()
    assert summary.startswith("### ✅ `run-and-wait` succeeded")
    assert "| `waitForRun` |" in summary and "lifeCycleState TERMINATED" in summary
    github = reports["github"].read_text()
    assert github.startswith("earlier step\n") and summary in github


def test_reports_are_written_when_the_run_fails(base_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "flow.arazzo.yaml"
    doc.write_text(DOC)
    done = spola(
        "run", str(doc), "-i", "job_id=999999", "-i", f"note={PASSWORD}",
        "--server", f"databricks={base_url}/api", "--auth", f"databricks={TOKEN}",
        "--junit", str(tmp_path / "run.xml"), "--report", str(tmp_path / "run.json"),
        "--html", str(tmp_path / "run.html"),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.parse(str(tmp_path / "run.xml"))
    assert schema.validate(document), schema.error_log
    failure = document.find(".//testcase/failure")
    assert failure is not None and "runNow" in (failure.get("message") or "")
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["status"] == "failed" and data["error"]["stepId"] == "runNow"
    assert data["executions"][0]["outcome"] == "failed"
    parser = Bars()
    parser.feed((tmp_path / "run.html").read_text())
    assert [b["data-outcome"] for b in parser.bars] == ["failed"]
    for name in ("run.xml", "run.json", "run.html"):
        assert TOKEN not in (tmp_path / name).read_text()


def test_reports_are_written_when_the_run_is_interrupted(base_url: str, tmp_path: Path) -> None:
    import signal
    import time

    doc = tmp_path / "flow.arazzo.yaml"
    doc.write_text(DOC)
    before = _gets(sim_counts(base_url))
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    process = subprocess.Popen(
        [sys.executable, "-m", "spola", "run", str(doc), "-i", "job_id=777", "-i", f"note={PASSWORD}",
         "--server", f"databricks={base_url}/api", "--auth", f"databricks={TOKEN}", "--poll-interval", "0.2",
         "--junit", str(tmp_path / "run.xml"), "--html", str(tmp_path / "run.html"),
         "--report", str(tmp_path / "run.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _gets(sim_counts(base_url)) < before + 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # job 777 runs for 600 s: the run is polling
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["status"] == "interrupted"
    assert [e["stepId"] for e in data["executions"]][:2] == ["runNow", "waitForRun"]
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.parse(str(tmp_path / "run.xml"))
    assert schema.validate(document), schema.error_log
    error = document.find(".//testcase/error")
    assert error is not None and error.get("type") == "interrupted"
    parser = Bars()
    parser.feed((tmp_path / "run.html").read_text())
    assert len(parser.bars) >= 3
