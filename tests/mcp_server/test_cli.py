"""``spola mcp`` refuses bad command lines with one paragraph and exit status 2."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.conftest import SEEDS, shared_or_skip


def spola(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spola", "mcp", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def seed() -> str:
    shared_or_skip()
    return str(SEEDS / "databricks-run-job-and-wait-workflow.yml")


def test_a_missing_document_is_a_usage_error(tmp_path) -> None:
    proc = spola(str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2
    assert "nope.yaml" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transport", "carrier-pigeon"], "--transport must be stdio or http"),
        (["--allow-workflow", "nope"], "--allow-workflow names nope"),
        (["--input", "colour=red"], "no served workflow declares an input named 'colour'"),
        (["--auth", "elsewhere=x"], "--auth names the source 'elsewhere'"),
        (["--input", "job_id=env:SPOLA_NOT_SET_ANYWHERE"], "SPOLA_NOT_SET_ANYWHERE, which is not set"),
    ],
)
def test_bad_options_are_usage_errors(seed: str, args: list[str], message: str) -> None:
    proc = spola(seed, *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_port_in_use_is_a_usage_error(seed: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = spola(seed, "--transport", "http", "--port", str(port), "--no-store")
    assert proc.returncode == 2, proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr
