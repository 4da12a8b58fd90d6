"""A Databricks (and dbt) simulator on a real port for the cancel tests, and helpers to watch it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spola.sim import create_combined_app, serve_in_thread
from spola.sim.server import ServerHandle

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "databricks" / "run-job-and-wait.arazzo.yaml"
DBT_EXAMPLE = REPO / "examples" / "dbt" / "run-job-and-wait.arazzo.yaml"
TOKEN = "dapi-sim-token"


@dataclass
class Sim:
    server: ServerHandle

    @property
    def api(self) -> str:
        return f"{self.server.base_url}/api"

    def get(self, path: str, token: str = TOKEN, scheme: str = "Bearer") -> Any:
        request = urllib.request.Request(
            f"{self.server.base_url}{path}", headers={"Authorization": f"{scheme} {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    def requests(self, key: str | None = None) -> list[dict[str, Any]]:
        suffix = f"?key={key}" if key else ""
        return list(self.get(f"/_sim/requests{suffix}")["requests"])

    def count(self, key: str, vendor: str = "databricks") -> int:
        return sum(1 for r in self.requests() if r["key"] == key and r["vendor"] == vendor)

    def databricks_run(self, run_id: int) -> Any:
        return self.get(f"/api/2.1/jobs/runs/get?run_id={run_id}")


@pytest.fixture
def sim() -> Iterator[Sim]:
    handle = serve_in_thread(create_combined_app(seed=1))
    try:
        yield Sim(handle)
    finally:
        handle.stop()


def wait_until(check: Callable[[], Any], what: str, limit: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy (fails the test after ``limit`` seconds)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def spola_process(*args: str, store: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1", "SPOLA_STORE": str(store)}
    return subprocess.Popen(
        [sys.executable, "-m", "spola", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def spola_run(*args: str, store: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "SPOLA_STORE": str(store)}
    return subprocess.run(
        [sys.executable, "-m", "spola", *args], capture_output=True, text=True, env=env, timeout=timeout
    )
