"""``spola validate`` and ``spola graph`` as a user runs them: exit statuses, formats, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spola.cli.graph import print_graph
from spola.cli.validate import validate_documents
from spola.errors import UsageError
from tests.lint.documents import goto, step, workflow, write_doc

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DATABRICKS_SEED = SHARED / "seeds" / "arazzo" / "databricks-run-job-and-wait-workflow.yml"


def spola(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "spola", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_doc(tmp_path, [workflow([step("read")])], name="clean.yaml")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    steps = [step("read", parameters=[], onSuccess=[goto("wait", "read", "$statusCode == 202")])]
    return write_doc(tmp_path, [workflow(steps)], name="broken.yaml")


def test_a_clean_document_exits_0(clean: Path) -> None:
    proc = spola("validate", str(clean))
    assert proc.returncode == 0, proc.stdout
    assert "no problems found" in proc.stdout


def test_an_error_exits_1_and_names_file_line_rule_and_path(broken: Path) -> None:
    proc = spola("validate", str(broken))
    assert proc.returncode == 1
    assert "broken.yaml:" in proc.stdout
    assert "error[missing-path-parameter] workflows[0].steps[0]:" in proc.stdout
    assert "warning[goto-self-loop]" in proc.stdout
    assert "hint: " in proc.stdout


def test_warnings_fail_only_with_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [step("read", onSuccess=[goto("wait", "read", "$statusCode == 202")])]
    path = write_doc(tmp_path, [workflow(steps)])
    assert validate_documents([str(path)], fmt="text", strict=False) == 0
    assert "warning[goto-self-loop]" in capsys.readouterr().out
    assert spola("validate", "--strict", str(path)).returncode == 1


def test_an_unreadable_document_exits_2_even_beside_others(tmp_path: Path, clean: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflows: [\n")
    proc = spola("validate", str(clean), str(bad), str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2
    assert "error[unreadable]" in proc.stdout


def test_json_output_is_a_list_of_findings(broken: Path) -> None:
    proc = spola("validate", "--format", "json", str(broken))
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert {tuple(sorted(item)) for item in data} == {
        ("column", "file", "hint", "line", "message", "path", "pointer", "rule", "severity")
    }
    first = next(item for item in data if item["rule"] == "missing-path-parameter")
    assert first["path"] == "workflows[0].steps[0]" and first["line"] > 0 and first["severity"] == "error"


def test_sarif_output_is_a_sarif_2_1_0_log(broken: Path) -> None:
    proc = spola("validate", "--format", "sarif", str(broken))
    assert proc.returncode == 1
    log = json.loads(proc.stdout)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert {"poll-uncovered-states", "server-mismatch", "goto-self-loop"} <= set(ids)
    assert all(rule["shortDescription"]["text"] and rule["help"]["text"] for rule in rules)
    result = next(r for r in run["results"] if r["ruleId"] == "missing-path-parameter")
    assert result["level"] == "error"
    assert ids[result["ruleIndex"]] == "missing-path-parameter"
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("broken.yaml")
    assert physical["region"]["startLine"] > 0 and physical["region"]["startColumn"] > 0
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "workflows[0].steps[0]"


def test_an_unknown_format_is_a_usage_error(clean: Path) -> None:
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        validate_documents([str(clean)], fmt="xml", strict=False)
    with pytest.raises(UsageError, match="unknown graph format 'png'"):
        print_graph(str(clean), None, fmt="png")


def test_the_databricks_seed_validates_with_its_poll_warning(capsys: pytest.CaptureFixture[str]) -> None:
    if not DATABRICKS_SEED.exists():
        pytest.skip("../shared is not beside the repository")
    assert validate_documents([str(DATABRICKS_SEED)], fmt="json", strict=False) == 0
    rules = {item["rule"] for item in json.loads(capsys.readouterr().out)}
    assert "poll-uncovered-states" in rules


def test_graph_prints_mermaid(broken: Path) -> None:
    mermaid = spola("graph", str(broken))
    assert mermaid.returncode == 0
    assert mermaid.stdout.startswith("flowchart TD")
    assert 'w0_s0 -->|"wait: $statusCode == 202"| w0_s0' in mermaid.stdout


def test_graph_prints_dot_for_a_named_workflow(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    print_graph(str(broken), "main", fmt="dot")
    assert capsys.readouterr().out.startswith('digraph "main" {')


def test_graph_of_a_missing_workflow_is_a_clean_error(broken: Path) -> None:
    missing = spola("graph", str(broken), "-w", "nope")
    assert missing.returncode == 2 and "no workflow 'nope'" in missing.stderr
