"""Benchmark 2, peers: the same poll workflow on spola, Jentic's arazzo-runner and Redocly's respect.

The peers live in a bench-only environment under ``bench/.peers`` (git-ignored), created here:
a venv with ``arazzo-runner`` (PyPI) and, when Node is present, ``@redocly/cli`` (npm). Neither
is ever a dependency of spola. Each tool runs as its command-line user would run it, one process
per workflow; requests per second are what the server saw from the first request to the last (so
start-up is excluded), peak memory is the process's own maximum RSS.

The seeds' poll loop uses the ``$.a.b == "X"`` JSONPath dialect, which neither peer evaluates, so
``workflows/peers.arazzo.yaml`` is the same workflow in a portable form (a simple condition on a
step output). Every tool is tried on both forms; a tool that cannot run one says why in the table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common import PEERS, PYTHON, WORKFLOWS, median, run_child

if TYPE_CHECKING:
    from common import Server

ARAZZO_RUNNER = "arazzo-runner==0.9.6"
REDOCLY_CLI = "@redocly/cli@2.77.0"
FORMS = {"seed (JSONPath dialect)": "spola.arazzo.yaml", "portable": "peers.arazzo.yaml"}
NODE_ENV = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


@dataclass(frozen=True, slots=True)
class PeerRow:
    """One tool on one form of the workflow."""

    tool: str
    form: str
    ok: bool
    requests: int
    rate: float
    wall: float
    peak_rss: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class PeerEnv:
    """Where the peers are, or why one is missing."""

    python: Path | None
    respect: Path | None
    notes: tuple[str, ...]


def setup_peers() -> PeerEnv:
    """Create ``bench/.peers`` (venv + npm prefix) on first use; later runs reuse it."""
    notes: list[str] = []
    python = PEERS / "py" / "bin" / "python"
    if not python.exists():
        made = run_child([PYTHON, "-m", "venv", str(PEERS / "py")], timeout=300)
        if made.returncode == 0:
            run_child([str(python), "-m", "pip", "install", "-q", ARAZZO_RUNNER, "httpx"], timeout=900)
    has_runner = python.exists() and run_child([str(python), "-c", "import arazzo_runner"]).returncode == 0
    if not has_runner:
        notes.append(f"arazzo-runner: could not install {ARAZZO_RUNNER} into {PEERS / 'py'}")
    respect = PEERS / "node" / "node_modules" / ".bin" / "redocly"
    if shutil.which("node") is None or shutil.which("npm") is None:
        notes.append("respect: Node.js is not installed on this machine")
        return PeerEnv(python if has_runner else None, None, tuple(notes))
    if not respect.exists():
        (PEERS / "node").mkdir(parents=True, exist_ok=True)
        run_child(
            ["npm", "install", "--prefix", str(PEERS / "node"), "--no-audit", "--no-fund", REDOCLY_CLI],
            timeout=900,
        )
    if not respect.exists():
        notes.append(f"respect: could not install {REDOCLY_CLI} with npm")
    return PeerEnv(python if has_runner else None, respect if respect.exists() else None, tuple(notes))


def _workdir(server: Server, tmp: Path) -> Path:
    """The workflows with the OpenAPI ``servers`` URL pointing at the bench server."""
    for path in WORKFLOWS.glob("*.yaml"):
        text = path.read_text()
        (tmp / path.name).write_text(text.replace("http://127.0.0.1:8765/api", server.api))
    return tmp


def _command(tool: str, env: PeerEnv, doc: Path, polls: int, store: Path) -> list[str] | None:
    if tool == "spola":
        return [PYTHON, "-m", "spola", "run", str(doc), "--input", f"job_id={polls}", "--json",
                "--poll-interval", "0", "--store", str(store)]  # fmt: skip
    if tool == "arazzo-runner" and env.python is not None:
        return [str(env.python), "-m", "arazzo_runner", "--log-level", "ERROR", "execute-workflow", str(doc),
                "--workflow-id", "run-job-and-wait", "--inputs", json.dumps({"job_id": polls})]  # fmt: skip
    if tool == "respect" and env.respect is not None:
        return [str(env.respect), "respect", str(doc), "--input", f"job_id={polls}", "--max-steps", "100000"]
    return None


def _reason(tool: str, text: str) -> str:
    """The peer's own words for a failure, shortened."""
    for pattern in (r"Reason: (.+)", r"(Error[^\n]*)", r"(error[^\n]*)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()[:120]
    return f"{tool} failed"


def run_peers(server: Server, env: PeerEnv, *, polls: int, repeats: int) -> list[PeerRow]:
    """Each tool on each form of the workflow, ``repeats`` times; medians of rate and wall, max of RSS."""
    rows: list[PeerRow] = []
    expected = polls + 2
    with tempfile.TemporaryDirectory(prefix="spola-peers-") as tmp:
        folder = _workdir(server, Path(tmp))
        for tool in ("spola", "arazzo-runner", "respect"):
            for form, name in FORMS.items():
                command = _command(tool, env, folder / name, polls, folder / "runs.db")
                if command is None:
                    missing = [n for n in env.notes if n.startswith(tool)]
                    rows.append(
                        PeerRow(tool, form, False, 0, 0.0, 0.0, 0, missing[0] if missing else "missing")
                    )
                    continue
                rows.append(_measure(server, tool, form, command, expected, repeats))
    return rows


def _measure(
    server: Server, tool: str, form: str, command: list[str], expected: int, repeats: int
) -> PeerRow:
    rates, walls, peaks = [], [], []
    sent, ok, note = 0, True, ""
    for _ in range(repeats):
        server.reset()
        result = run_child(command, env=NODE_ENV if tool == "respect" else None, timeout=600)
        stats = server.stats()
        sent = stats.requests
        if result.returncode != 0 or sent != expected:
            ok = False
            if result.returncode != 0:
                note = f"exit {result.returncode}: {_reason(tool, result.stdout + result.stderr)}"
            else:
                note = f"exit 0 but sent {sent} of {expected} requests: the poll loop's criteria never held"
            peaks.append(result.peak_rss)
            break
        rates.append(stats.rate)
        walls.append(result.wall)
        peaks.append(result.peak_rss)
    return PeerRow(tool, form, ok, sent, median(rates) if ok else 0.0, median(walls) if ok else 0.0,
                   max(peaks), note)  # fmt: skip


def os_note() -> str:
    """Node's version, for the table's caption."""
    node = shutil.which("node")
    if node is None:
        return "no Node.js"
    return "node " + run_child([node, "--version"]).stdout.strip() + f", {os.cpu_count()} cores"
