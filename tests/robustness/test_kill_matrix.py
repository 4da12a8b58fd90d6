"""SIGKILL at every exchange boundary of the Databricks and Azure Databricks seeds, then resume.

``spola run`` kills itself (the test-only ``SPOLA_TEST_KILL_AT`` hook, ``spola.drivers.killpoint``)
at one point of one exchange; ``spola resume`` continues it. Whatever the point, the job is never
triggered twice: either the resumed run triggers it exactly once and ends as an uninterrupted run
does, or — the trigger POST was in doubt (its intent committed, its response not) — resume refuses,
saying so, and the job was triggered at most once. The journal's ``sends`` match what the
simulator received, except *safe* exchanges (GETs) the kill caught answered but not yet written: by
design their rows are queued after the response for the next group commit (5 ms), so the server
saw a GET or two more than the journal, which resume sent again; nothing else ever differs.

The default form covers every kill point at the trigger and at the first poll of each seed;
``SPOLA_LONG_TESTS=1`` runs every point at every exchange (a few minutes).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from spola.drivers.killpoint import ENV, POINTS
from spola.store import Journal
from spola.store.records import RunRecord
from tests.conftest import SEEDS, spola_cli
from tests.e2e.test_seeds_on_simulators import TOKEN, Sim, _sim_server, sim  # noqa: F401 (fixtures)

LONG = bool(os.environ.get("SPOLA_LONG_TESTS"))


@dataclass(frozen=True)
class Seed:
    document: str
    args: tuple[str, ...]
    """``spola run`` arguments besides the document."""
    resume_args: tuple[str, ...]
    """What ``spola resume`` needs again: credentials and secret inputs are never stored."""
    trigger: str
    """The simulator's key of the request that starts the job."""
    exchanges: int
    """Exchanges of an uninterrupted run (checked against the baseline)."""


def _databricks(base: str) -> Seed:
    return Seed(
        "databricks-run-job-and-wait-workflow.yml",
        ("-i", "job_id=42", "--server", f"databricksApi={base}/api", "--auth", f"databricksApi={TOKEN}"),
        ("--auth", f"databricksApi={TOKEN}"),
        "run-now",
        EXCHANGES["databricks"],
    )


def _azure(base: str) -> Seed:
    return Seed(
        "azure-databricks-submit-one-time-run-workflow.yml",
        (
            *("-i", f"token={TOKEN}", "-i", "runName=once", "-i", "taskKey=main"),
            *("-i", "notebookPath=/Shared/x", "-i", "existingClusterId=0923-164208-simcl0ud"),
            *("--server", f"azureDatabricksApi={base}/api"),
        ),
        ("-i", f"token={TOKEN}"),
        "runs/submit",
        EXCHANGES["azure"],
    )


EXCHANGES = {"databricks": 5, "azure": 5}
"""Trigger, polls until the simulated job ends (one simulated second per request), output fetch."""
SEED_FOR = {"databricks": _databricks, "azure": _azure}


def _indices(name: str) -> list[int]:
    count = EXCHANGES[name]
    return list(range(1, count + 1)) if LONG else [1, 2]


CASES = [
    pytest.param(name, point, index, id=f"{name}-{point}-{index}")
    for name in EXCHANGES
    for index in _indices(name)
    for point in POINTS
]


def _run(seed: Seed, store: Path, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {ENV: kill_at} if kill_at else {}
    return spola_cli(
        "run", str(SEEDS / seed.document), "--json", "--store", str(store), "--poll-interval", "0.05",
        *seed.args, env=env,
    )  # fmt: skip


def _resume(seed: Seed, store: Path, run_id: str) -> subprocess.CompletedProcess[str]:
    return spola_cli("resume", run_id, "--json", "--store", str(store), *seed.resume_args)


def _only_run(store: Path) -> RunRecord:
    async def read() -> RunRecord:
        journal = await Journal.open(str(store))
        try:
            (summary,) = await journal.list_runs()
            return await journal.get_run(summary.run_id)
        finally:
            await journal.close()

    return asyncio.run(read())


def _ending(result: dict[str, Any]) -> tuple[Any, ...]:
    error = result.get("error") or {}
    return result["status"], result["outputs"], error.get("stepId")


def _received(server: Sim) -> Counter[tuple[str, str]]:
    log = server.call("GET", "/_sim/requests", token=None)["requests"]
    return Counter((r["method"], r["path"]) for r in log)


def _journalled(record: RunRecord) -> Counter[tuple[str, str]]:
    sends: Counter[tuple[str, str]] = Counter()
    for exchange in record.exchanges:
        sends[(exchange.method, urlsplit(exchange.url).path)] += exchange.sends
    return sends


@pytest.fixture(scope="module")
def baseline(_sim_server: tuple[Sim, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    """How each seed ends uninterrupted on the simulator: (status, outputs, failed step)."""
    server, clock = _sim_server
    endings: dict[str, Any] = {}
    for name, make in SEED_FOR.items():
        server.reset()
        clock.step = 1.0
        store = tmp_path_factory.mktemp("baseline") / "runs.db"
        proc = _run(make(server.base_url), store)
        assert "Traceback" not in proc.stderr
        record = _only_run(store)
        assert len(record.exchanges) == EXCHANGES[name], "the matrix must cover every exchange"
        assert server.count(make(server.base_url).trigger) == 1
        endings[name] = _ending(json.loads(proc.stdout))
    return endings


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "point", "index"), CASES)
def test_sigkill_at_an_exchange_boundary_then_resume_triggers_the_job_once(
    sim: Sim,  # noqa: F811
    baseline: dict[str, Any],
    tmp_path: Path,
    name: str,
    point: str,
    index: int,
) -> None:
    seed = SEED_FOR[name](sim.base_url)
    store = tmp_path / "runs.db"
    killed = _run(seed, store, f"{point}:{index}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    at_kill = _only_run(store)
    # what the dead process got answered but never journalled: only safe GETs (their rows are queued
    # after the response, for the next group commit), never more than the last two
    unjournalled = _received(sim) - _journalled(at_kill)
    assert all(method == "GET" for method, _ in unjournalled), unjournalled
    assert sum(unjournalled.values()) <= 2, unjournalled
    if index > 1 and point in ("before-response", "before-journal"):
        assert sum(unjournalled.values()) >= 1

    resumed = _resume(seed, store, at_kill.run_id)
    assert "Traceback" not in resumed.stderr
    record = _only_run(store)
    trigger_in_doubt = index == 1 and point in ("before-send", "before-response", "before-journal")
    if trigger_in_doubt:
        # the trigger's intent is committed, its response is not: resend it? it may have started the job
        assert resumed.returncode == 2, resumed.stdout + resumed.stderr
        assert "was sent but its response was never recorded" in resumed.stderr
        assert "--force-resend" in resumed.stderr
        (trigger,) = record.exchanges
        assert trigger.in_doubt and trigger.sends == 1 and trigger.method == "POST"
        assert record.status == "running"  # still resumable, by --force-resend after checking
        assert sim.count(seed.trigger) == (0 if point == "before-send" else 1)
        return

    assert resumed.returncode == (0 if baseline[name][0] == "succeeded" else 1), resumed.stderr
    assert _ending(json.loads(resumed.stdout)) == baseline[name]
    assert sim.count(seed.trigger) == 1
    assert record.status == baseline[name][0]
    # the resumed process journals everything it sends: the only difference is what the dead one lost
    assert _received(sim) - _journalled(record) == unjournalled
    assert not _journalled(record) - _received(sim), "the journal counts a send the server never received"
