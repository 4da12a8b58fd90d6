"""Scripted outcomes: how a job, scenario or run says what should happen to it.

Three places are read, most specific first:

- a run parameter (notebook / job / Python named parameter, Dataiku trigger parameter):
  `sim_outcome` (e.g. `FAILED`), `sim_duration` (seconds of the busy phase),
  `sim_result` (notebook exit value);
- a marker in a name or cause: `[sim:FAILED]`, `[sim:FAILED,duration=30]`, `[sim:duration=0.5]`;
- tags on a job (`{"sim_outcome": "TIMEDOUT"}`).

`RANDOM` as an outcome picks one of the vendor's outcomes with the simulator's seeded random generator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["RunScript", "merge_scripts", "script_from_params", "script_from_text"]

_MARKER = re.compile(r"\[sim:([^\]]*)\]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RunScript:
    """What a run was asked to do; `None` fields fall back to the vendor's defaults."""

    outcome: str | None = None
    duration: float | None = None
    result: str | None = None


def _duration(raw: object) -> float | None:
    try:
        value = float(str(raw).strip().removesuffix("s"))
    except ValueError:
        return None
    return value if value >= 0 else None


def script_from_text(text: str | None) -> RunScript:
    """Read `[sim:OUTCOME,duration=N]` markers from a name, cause or description."""
    if not text:
        return RunScript()
    outcome: str | None = None
    duration: float | None = None
    for match in _MARKER.finditer(text):
        for part in match.group(1).split(","):
            item = part.strip()
            if not item:
                continue
            if "=" in item:
                name, _, value = item.partition("=")
                if name.strip().lower() == "duration":
                    duration = _duration(value)
            else:
                outcome = item.upper()
    return RunScript(outcome, duration)


def script_from_params(params: Mapping[str, object] | None) -> RunScript:
    """Read `sim_outcome`, `sim_duration` and `sim_result` from a parameter map."""
    if not params:
        return RunScript()
    outcome = params.get("sim_outcome")
    duration = params.get("sim_duration")
    result = params.get("sim_result")
    return RunScript(
        str(outcome).upper() if outcome is not None else None,
        _duration(duration) if duration is not None else None,
        str(result) if result is not None else None,
    )


def merge_scripts(*scripts: RunScript) -> RunScript:
    """The first non-`None` value of each field, in argument order."""
    outcome = next((s.outcome for s in scripts if s.outcome is not None), None)
    duration = next((s.duration for s in scripts if s.duration is not None), None)
    result = next((s.result for s in scripts if s.result is not None), None)
    return RunScript(outcome, duration, result)
