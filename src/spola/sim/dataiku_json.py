"""Rendering Dataiku scenarios, trigger fires and scenario runs as the DSS public API returns them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spola.sim.clock import SimClock
    from spola.sim.dataiku_state import Fire, Scenario

__all__ = ["fire_json", "light_json", "run_details_json", "run_json", "scenario_json", "summary_json"]

USER = "sim-user"
_AUTH = {
    "authSource": "PERSONAL_API_KEY",
    "realUserLogin": USER,
    "userGroups": ["data_team"],
    "userProfile": "DESIGNER",
    "via": [],
    "apiKey": {"id": "sim-key-id", "label": f"Personal for {USER}", "user": USER},
}


def _step(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": "build_0_items",
        "type": "build_flowitem",
        "name": "Build",
        "runConditionType": "RUN_IF_STATUS_MATCH",
        "runConditionStatuses": ["SUCCESS", "WARNING"],
        "resetScenarioStatus": False,
        "maxRetriesOnFail": 0,
        "delayBetweenRetries": 10,
        "params": {"builds": [{"type": "DATASET", "itemId": "orders_prepared", "partitionsSpec": ""}]},
    }


def summary_json(scenario: Scenario, now: float) -> dict[str, Any]:
    """A scenario in `GET .../scenarios/`."""
    return {
        "projectKey": scenario.project_key,
        "id": scenario.scenario_id,
        "name": scenario.name,
        "type": scenario.scenario_type,
        "active": scenario.active,
        "tags": list(scenario.tags),
        "running": any(f.running(now) for f in scenario.fires),
    }


def scenario_json(scenario: Scenario) -> dict[str, Any]:
    """`GET .../scenarios/{id}/`: the definition (no run status)."""
    tag = {"versionNumber": 1, "lastModifiedBy": {"login": USER}, "lastModifiedOn": scenario.created_ms}
    params: dict[str, Any] = {"steps": [_step(scenario)]} if scenario.scenario_type == "step_based" else {}
    return {
        "projectKey": scenario.project_key,
        "id": scenario.scenario_id,
        "name": scenario.name,
        "type": scenario.scenario_type,
        "active": scenario.active,
        "description": "",
        "shortDesc": "",
        "tags": list(scenario.tags),
        "params": params,
        "triggers": [],
        "reporters": [],
        "automationLocal": False,
        "markedAsTest": False,
        "customFields": {},
        "checklists": {"checklists": []},
        "versionTag": tag,
        "creationTag": tag,
    }


def fire_json(scenario: Scenario, fire: Fire, clock: SimClock) -> dict[str, Any]:
    """The trigger fire `POST .../run` answers with (this is not a scenario run)."""
    return {
        "projectKey": scenario.project_key,
        "scenarioId": scenario.scenario_id,
        "trigger": {"id": "manual", "type": "manual", "name": "API run", "delay": 0, "active": False},
        "runId": fire.run_id,
        "timestamp": clock.wall_ms(fire.fired),
        "cancelled": False,
        "params": dict(fire.params),
        "triggerAuthCtx": dict(_AUTH),
    }


def _result(scenario: Scenario, fire: Fire, clock: SimClock) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": "SCENARIO_DONE",
        "outcome": fire.outcome,
        "target": {
            "type": "SCENARIO",
            "projectKey": scenario.project_key,
            "scenarioId": scenario.scenario_id,
        },
        "start": clock.wall_ms(fire.start),
        "end": clock.wall_ms(fire.end),
    }
    if fire.outcome == "FAILED":
        message = "Job failed: Error in Python process: sim failure (scripted outcome FAILED)"
        result["thrown"] = {
            "clazz": "com.dataiku.dip.exceptions.ExternalProcessFailedException",
            "message": message,
        }
        result["logTail"] = {"totalLines": 2, "lines": ["Running build", message], "status": [1, 3]}
    elif fire.outcome == "WARNING":
        result["warnings"] = {
            "totalCount": 1,
            "warnings": [{"message": "sim warning (scripted outcome WARNING)"}],
        }
    return result


def run_json(scenario: Scenario, fire: Fire, now: float, clock: SimClock) -> dict[str, Any]:
    """A scenario run (`get-run-for-trigger`, `get-last-runs`, run details); `result` only once it ended."""
    body: dict[str, Any] = {
        "scenario": {
            "projectKey": scenario.project_key,
            "id": scenario.scenario_id,
            "name": scenario.name,
            "type": scenario.scenario_type,
            "active": scenario.active,
        },
        "runId": fire.scenario_run_id,
        "start": clock.wall_ms(fire.start),
        "end": clock.wall_ms(fire.end) if now >= fire.end else 0,
        "trigger": fire_json(scenario, fire, clock),
        "variables": {},
        "clustersUsed": [],
        "reportersStates": [],
        "runAsUser": {"authSource": _AUTH["authSource"], "realUserLogin": USER},
    }
    if now >= fire.end:
        body["result"] = _result(scenario, fire, clock)
    return body


def run_details_json(scenario: Scenario, fire: Fire, now: float, clock: SimClock) -> dict[str, Any]:
    """`GET .../scenarios/{id}/{runId}/`: the run and its step runs."""
    step_run: dict[str, Any] = {
        "step": _step(scenario),
        "runId": f"{fire.scenario_run_id}-step-0",
        "retryIndex": 0,
        "start": clock.wall_ms(fire.start),
        "end": clock.wall_ms(fire.end) if now >= fire.end else 0,
    }
    if now >= fire.end:
        step_run["result"] = {**_result(scenario, fire, clock), "type": "STEP_DONE"}
    return {"scenarioRun": run_json(scenario, fire, now, clock), "stepRuns": [step_run]}


def light_json(scenario: Scenario, now: float, clock: SimClock, *, last_run: bool) -> dict[str, Any]:
    """`GET .../scenarios/{id}/light`: status without `lastRun`, unless `last_run` asks for it."""
    running = next((f for f in scenario.fires if f.running(now)), None)
    body: dict[str, Any] = {
        "type": scenario.scenario_type,
        "active": scenario.active,
        "unavailable": False,
        "automationLocal": False,
        "triggerDigestItems": [],
        "reporterDigestItems": [],
        "markedAsTest": False,
        "triggerDigest": "",
        "nextRun": 0,
        "running": running is not None,
        "start": clock.wall_ms(running.start) if running else 0,
        "projectKey": scenario.project_key,
        "id": scenario.scenario_id,
        "name": scenario.name,
        "tags": list(scenario.tags),
        "lastModifiedOn": scenario.created_ms,
        "createdOn": scenario.created_ms,
    }
    if last_run:
        started = [f for f in scenario.fires if f.started(now)]
        if started:
            latest = max(started, key=lambda f: f.start)
            body["lastRun"] = run_json(scenario, latest, now, clock)
    return body
