"""Dataiku DSS scenario state: scenarios, trigger fires and the scenario runs they lead to.

A `POST .../run` creates a trigger fire, not a run. The run starts `start_delay` simulated seconds later
(after the previous run of the same scenario, if one is still going) and lasts the scenario's duration.
Between the fire and the start, `light` says `running: false` and `get-run-for-trigger` answers `{}`.
`abort` ends the running run with outcome ABORTED at once; like DSS, it does nothing when no run is going
(a fire still waiting for its start is not affected).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from spola.sim.clock import SimClock
from spola.sim.errors import ApiError
from spola.sim.script import RunScript, merge_scripts, script_from_params, script_from_text
from spola.sim.vendor import Simulator

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["OUTCOMES", "DataikuSimulator", "DataikuTiming", "Fire", "Scenario"]

OUTCOMES = ("SUCCESS", "WARNING", "FAILED", "ABORTED")
NOT_FOUND = "com.dataiku.dip.server.controllers.NotFoundException"

# (project key, scenario id, name, outcome, duration)
SEED_SCENARIOS: tuple[tuple[str, str, str, str | None, float | None], ...] = (
    ("DKU_TUTORIAL", "BUILD_ALL", "Build all", None, None),
    ("DKU_TUTORIAL", "BUILD_WITH_WARNINGS", "Build with warnings", "WARNING", None),
    ("DKU_TUTORIAL", "BUILD_FAILING", "Build failing", "FAILED", None),
    ("DKU_TUTORIAL", "BUILD_ABORTED", "Build aborted", "ABORTED", None),
    ("DKU_TUTORIAL", "LONG_BUILD", "Long build", None, 600.0),
    ("DKU_TUTORIAL", "RANDOM_BUILD", "Build with a random outcome", "RANDOM", None),
)


@dataclass(frozen=True, slots=True)
class DataikuTiming:
    """Simulated seconds from trigger fire to run start, and a run's default duration."""

    start_delay: float = 1.0
    duration: float = 3.0


@dataclass(slots=True)
class Scenario:
    """A scenario definition plus its scripted behaviour."""

    project_key: str
    scenario_id: str
    name: str
    created_ms: int
    outcome: str | None = None
    duration: float | None = None
    active: bool = True
    scenario_type: str = "step_based"
    tags: list[str] = field(default_factory=list)
    fires: list[Fire] = field(default_factory=list)


@dataclass(slots=True)
class Fire:
    """A trigger fire and the run it leads to (planned `start`, `end`, `outcome`)."""

    run_id: str
    scenario_run_id: str
    fired: float
    params: dict[str, Any]
    start: float
    end: float
    outcome: str
    duration: float

    def started(self, now: float) -> bool:
        """Whether the scenario run exists yet."""
        return now >= self.start

    def running(self, now: float) -> bool:
        """Whether the scenario run is going."""
        return self.start <= now < self.end


def dss_id(epoch_ms: int) -> str:
    """A DSS-style run id: `2025-10-01-15-39-56-668` (UTC)."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d-%H-%M-%S-") + f"{epoch_ms % 1000:03d}"


class DataikuSimulator(Simulator):
    """Projects and scenarios; pre-seeded ones are listed in `spola.sim.dataiku`."""

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        seed: int | None = None,
        timing: DataikuTiming | None = None,
        light_last_run: bool = False,
    ) -> None:
        self.clock = clock or SimClock()
        self.timing = timing or DataikuTiming()
        self.light_last_run = light_last_run
        self._seed = seed
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the pre-seeded scenarios, no runs."""
        with self._lock:
            self._rng = random.Random(self._seed)  # noqa: S311 - simulation, not security
            self.projects: dict[str, dict[str, Scenario]] = {}
            self._used_ids: set[str] = set()
            for project, scenario_id, name, outcome, duration in SEED_SCENARIOS:
                self.add_scenario(project, scenario_id, name, outcome=outcome, duration=duration)

    def add_scenario(
        self,
        project_key: str,
        scenario_id: str,
        name: str | None = None,
        *,
        outcome: str | None = None,
        duration: float | None = None,
        scenario_type: str = "step_based",
    ) -> Scenario:
        """Create (or replace) a scenario; `outcome`/`duration` script every run of it."""
        if outcome is not None and outcome.upper() not in (*OUTCOMES, "RANDOM"):
            raise ApiError(400, f"Unknown sim outcome {outcome!r}", "java.lang.IllegalArgumentException")
        scenario = Scenario(
            project_key,
            scenario_id,
            name or scenario_id,
            self.clock.wall_ms(),
            outcome.upper() if outcome else None,
            duration,
            scenario_type=scenario_type,
        )
        with self._lock:
            self.projects.setdefault(project_key, {})[scenario_id] = scenario
        return scenario

    def project(self, project_key: str) -> list[Scenario]:
        """The scenarios of a project, or DSS's 404."""
        with self._lock:
            project = self.projects.get(project_key)
            if project is None:
                raise ApiError(404, f"Project {project_key} not found", NOT_FOUND)
            return list(project.values())

    def project_keys(self) -> list[str]:
        """Every project key, sorted."""
        with self._lock:
            return sorted(self.projects)

    def scenario(self, project_key: str, scenario_id: str) -> Scenario:
        """The scenario, or DSS's 404."""
        with self._lock:
            project = self.projects.get(project_key)
            if project is None:
                raise ApiError(404, f"Project {project_key} not found", NOT_FOUND)
            scenario = project.get(scenario_id)
        if scenario is None:
            raise ApiError(404, f"Scenario {project_key}.{scenario_id} not found", NOT_FOUND)
        return scenario

    def fire(self, scenario: Scenario, params: Mapping[str, Any] | None = None) -> Fire:
        """Trigger a run: returns the trigger fire; the run itself starts after the start delay."""
        with self._lock:
            now = self.clock.now()
            given = dict(params or {})
            script = merge_scripts(
                script_from_params(given),
                script_from_text(scenario.name),
                RunScript(scenario.outcome, scenario.duration),
            )
            outcome = (script.outcome or "SUCCESS").upper()
            if outcome == "RANDOM":
                outcome = self._rng.choice(OUTCOMES[:3])
            if outcome not in OUTCOMES:
                raise ApiError(400, f"Unknown sim_outcome {outcome!r}", "java.lang.IllegalArgumentException")
            duration = self.timing.duration if script.duration is None else script.duration
            never = float("inf")
            fire = Fire(self._unique_id(now), "", now, given, never, never, outcome, duration)
            scenario.fires.append(fire)
            self._schedule(scenario, now)
            fire.scenario_run_id = self._unique_id(fire.start)
            return fire

    def abort(self, scenario: Scenario) -> bool:
        """End the running run (outcome ABORTED); `False` when nothing was running."""
        with self._lock:
            now = self.clock.now()
            for fire in scenario.fires:
                if fire.running(now):
                    fire.end, fire.outcome = now, "ABORTED"
                    self._schedule(scenario, now)
                    return True
            return False

    def find_fire(self, scenario: Scenario, trigger_run_id: str) -> Fire | None:
        """The fire with this trigger run id."""
        with self._lock:
            return next((f for f in scenario.fires if f.run_id == trigger_run_id), None)

    def find_run(self, scenario: Scenario, scenario_run_id: str) -> Fire | None:
        """The started run with this scenario run id."""
        now = self.clock.now()
        with self._lock:
            return next(
                (f for f in scenario.fires if f.scenario_run_id == scenario_run_id and f.started(now)), None
            )

    def started_runs(self, scenario: Scenario) -> list[Fire]:
        """Runs that have started, most recent first."""
        now = self.clock.now()
        with self._lock:
            return sorted((f for f in scenario.fires if f.started(now)), key=lambda f: f.start, reverse=True)

    def _schedule(self, scenario: Scenario, now: float) -> None:
        previous_end = float("-inf")
        for fire in scenario.fires:
            if not fire.started(now):
                fire.start = max(fire.fired + self.timing.start_delay, previous_end)
                fire.end = fire.start + fire.duration
            previous_end = fire.end

    def _unique_id(self, at: float) -> str:
        epoch = self.clock.wall_ms(at)
        while dss_id(epoch) in self._used_ids:
            epoch += 1
        self._used_ids.add(dss_id(epoch))
        return dss_id(epoch)

    def snapshot(self) -> dict[str, Any]:
        """Scenarios and their fires/runs."""
        now = self.clock.now()
        with self._lock:
            return {
                "now": now,
                "projects": {
                    key: {
                        sid: {
                            "name": s.name,
                            "outcome": s.outcome,
                            "running": any(f.running(now) for f in s.fires),
                            "fires": [
                                {
                                    "triggerRunId": f.run_id,
                                    "scenarioRunId": f.scenario_run_id,
                                    "start": f.start,
                                    "end": f.end,
                                    "outcome": f.outcome,
                                }
                                for f in s.fires
                            ],
                        }
                        for sid, s in scenarios.items()
                    }
                    for key, scenarios in self.projects.items()
                },
            }
