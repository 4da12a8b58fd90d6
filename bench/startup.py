"""Benchmark 4, start-up: wall time of ``spola run --help`` and ``spola validate DOC``, fresh processes."""

from __future__ import annotations

from dataclasses import dataclass

from common import PYTHON, WORKFLOWS, median, run_child


@dataclass(frozen=True, slots=True)
class StartupRow:
    """One command: median wall time over the repeats, peak RSS, and whether it exited 0."""

    command: str
    wall: float
    peak_rss: int
    ok: bool
    note: str = ""


COMMANDS = {
    "python -c pass (interpreter alone)": [PYTHON, "-c", "pass"],
    "spola --help": [PYTHON, "-m", "spola", "--help"],
    "spola run --help": [PYTHON, "-m", "spola", "run", "--help"],
    "spola validate DOC": [PYTHON, "-m", "spola", "validate", str(WORKFLOWS / "spola.arazzo.yaml")],
    "spola workflows DOC": [PYTHON, "-m", "spola", "workflows", str(WORKFLOWS / "spola.arazzo.yaml")],
}


def measure_startup(repeats: int, *, quick: bool = False) -> list[StartupRow]:
    """Each command ``repeats`` times (after one warm-up run that fills the OS file cache).

    ``quick``: the bare interpreter and ``spola run --help`` only, no warm-up.
    """
    rows = []
    for name, command in COMMANDS.items():
        if quick and name not in ("python -c pass (interpreter alone)", "spola run --help"):
            continue
        if not quick:
            run_child(command, timeout=120)
        walls, peak, ok, note = [], 0, True, ""
        for _ in range(repeats):
            result = run_child(command, timeout=120)
            walls.append(result.wall)
            peak = max(peak, result.peak_rss)
            if result.returncode != 0:
                ok = False
                lines = (result.stderr or result.stdout).strip().splitlines()
                note = f"exit {result.returncode}: {lines[-1][:100] if lines else ''}"
        rows.append(StartupRow(name, median(walls), peak, ok, note))
    return rows
