"""Dataiku DSS scenario simulator over real HTTP: auth, trigger fires, delayed runs, light status, abort."""

from __future__ import annotations

import base64
from typing import Any

from tests.sim.conftest import Api

P = "/public/api/projects/DKU_TUTORIAL/scenarios"


async def fire(dku: Api, scenario: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = await dku.post(f"{P}/{scenario}/run", params or {})
    assert reply.status == 200
    return reply.json


async def run_for(dku: Api, scenario: str, trigger: dict[str, Any]) -> dict[str, Any]:
    query = f"triggerId={trigger['trigger']['id']}&triggerRunId={trigger['runId']}"
    reply = await dku.get(f"{P}/{scenario}/get-run-for-trigger?{query}")
    assert reply.status == 200
    return reply.json


async def test_the_api_key_works_as_basic_user_or_bearer_and_nothing_else(dku: Api) -> None:
    basic = base64.b64encode(b"sim-token:").decode()
    assert (
        await dku.get(f"{P}/BUILD_ALL", auth=False, headers={"Authorization": f"Basic {basic}"})
    ).status == 200
    assert (await dku.get(f"{P}/BUILD_ALL")).status == 200
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic " + base64.b64encode(b"x:").decode()},
    ):
        refused = await dku.get(f"{P}/BUILD_ALL", auth=False, headers=headers)
        assert refused.status == 401
        assert refused.json["errorType"] == "com.dataiku.dip.exceptions.UnauthorizedException"
        assert set(refused.json) == {"errorType", "message", "detailedMessage"}
        assert refused.headers["DSS-API-Version"] == "1"


async def test_a_scenario_definition_and_a_404_for_unknown_ones(dku: Api) -> None:
    found = await dku.get(f"{P}/BUILD_ALL/")
    assert found.status == 200
    assert found.headers["DSS-API-Version"] == "1"
    assert {k: found.json[k] for k in ("id", "projectKey", "active", "type")} == {
        "id": "BUILD_ALL",
        "projectKey": "DKU_TUTORIAL",
        "active": True,
        "type": "step_based",
    }
    missing = await dku.get(f"{P}/NOPE")
    assert missing.status == 404
    assert missing.json["errorType"] == "com.dataiku.dip.server.controllers.NotFoundException"
    assert (await dku.get("/public/api/projects/NOPE/scenarios/BUILD_ALL")).status == 404


async def test_run_answers_a_trigger_fire_and_the_run_starts_later(dku: Api) -> None:
    trigger = await fire(dku, "BUILD_ALL")
    assert trigger["trigger"]["id"] == "manual"
    assert trigger["cancelled"] is False
    assert trigger["scenarioId"] == "BUILD_ALL"
    assert "id" not in trigger  # a trigger fire, not a run

    light = (await dku.get(f"{P}/BUILD_ALL/light")).json
    assert light["running"] is False  # the run has not started yet
    assert "lastRun" not in light
    assert await run_for(dku, "BUILD_ALL", trigger) == {}

    dku.sim.advance(1.5)
    assert (await dku.get(f"{P}/BUILD_ALL/light")).json["running"] is True
    run = (await run_for(dku, "BUILD_ALL", trigger))["scenarioRun"]
    assert run["runId"] != trigger["runId"]
    assert run["end"] == 0
    assert "result" not in run

    dku.sim.advance(5)
    assert (await dku.get(f"{P}/BUILD_ALL/light")).json["running"] is False
    done = (await run_for(dku, "BUILD_ALL", trigger))["scenarioRun"]
    assert done["result"]["outcome"] == "SUCCESS"
    assert done["result"]["type"] == "SCENARIO_DONE"
    assert done["end"] > done["start"]
    assert done["trigger"]["runId"] == trigger["runId"]


async def test_scripted_scenarios_end_with_their_outcomes(dku: Api) -> None:
    triggers = {
        name: await fire(dku, name) for name in ("BUILD_WITH_WARNINGS", "BUILD_FAILING", "BUILD_ABORTED")
    }
    override = await fire(dku, "BUILD_ALL", {"sim_outcome": "FAILED"})
    dku.sim.advance(10)
    outcomes = {
        name: (await run_for(dku, name, t))["scenarioRun"]["result"]["outcome"]
        for name, t in triggers.items()
    }
    assert outcomes == {
        "BUILD_WITH_WARNINGS": "WARNING",
        "BUILD_FAILING": "FAILED",
        "BUILD_ABORTED": "ABORTED",
    }
    assert (await run_for(dku, "BUILD_ALL", override))["scenarioRun"]["result"]["outcome"] == "FAILED"
    assert override["params"] == {"sim_outcome": "FAILED"}


async def test_abort_ends_the_running_run_as_aborted(dku: Api) -> None:
    trigger = await fire(dku, "LONG_BUILD")
    assert (await dku.post(f"{P}/LONG_BUILD/abort")).status == 200  # not running yet: nothing happens
    dku.sim.advance(2)
    assert (await dku.get(f"{P}/LONG_BUILD/light")).json["running"] is True
    await dku.post(f"{P}/LONG_BUILD/abort")
    assert (await dku.get(f"{P}/LONG_BUILD/light")).json["running"] is False
    run = (await run_for(dku, "LONG_BUILD", trigger))["scenarioRun"]
    assert run["result"]["outcome"] == "ABORTED"


async def test_a_second_trigger_waits_for_the_running_one(dku: Api) -> None:
    first = await fire(dku, "BUILD_ALL")
    dku.sim.advance(2)
    second = await fire(dku, "BUILD_ALL")
    dku.sim.advance(1.5)  # its own delay is over, but the first run (1 s to 4 s) is still going
    assert await run_for(dku, "BUILD_ALL", second) == {}
    dku.sim.advance(1)
    assert "scenarioRun" in await run_for(dku, "BUILD_ALL", second)
    last = (await dku.get(f"{P}/BUILD_ALL/get-last-runs?limit=5")).json
    assert [r["trigger"]["runId"] for r in last] == [second["runId"], first["runId"]]
    finished = (await dku.get(f"{P}/BUILD_ALL/get-last-runs?onlyFinishedRuns=true")).json
    assert [r["trigger"]["runId"] for r in finished] == [first["runId"]]


async def test_run_details_and_the_trigger_fire_can_be_read_back(dku: Api) -> None:
    trigger = await fire(dku, "BUILD_ALL")
    dku.sim.advance(10)
    run_id = (await run_for(dku, "BUILD_ALL", trigger))["scenarioRun"]["runId"]
    details = (await dku.get(f"{P}/BUILD_ALL/{run_id}/")).json
    assert details["scenarioRun"]["runId"] == run_id
    assert details["stepRuns"][0]["result"]["outcome"] == "SUCCESS"
    again = (await dku.get(f"{P}/trigger/BUILD_ALL/manual?triggerRunId={trigger['runId']}")).json
    assert again == trigger
    missing = await dku.get(f"{P}/BUILD_ALL/get-run-for-trigger?triggerId=manual")
    assert missing.status == 400


async def test_the_alternative_prefix_and_scenario_creation(dku: Api) -> None:
    created = await dku.post(
        "/dip/publicapi/projects/NEW_PROJECT/scenarios/", {"id": "NIGHTLY", "name": "Nightly"}
    )
    assert created.status == 200
    assert created.json["id"] == "NIGHTLY"
    listed = (await dku.get("/dip/publicapi/projects/NEW_PROJECT/scenarios")).json
    assert [s["id"] for s in listed] == ["NIGHTLY"]
    projects = (await dku.get("/public/api/projects/")).json
    assert {p["projectKey"] for p in projects} == {"DKU_TUTORIAL", "NEW_PROJECT"}


async def test_light_can_include_last_run_when_asked(start_sim: Any, session: Any) -> None:
    sim = start_sim("dataiku", light_last_run=True)
    dku = Api(sim, session)
    trigger = await fire(dku, "BUILD_ALL")
    assert "lastRun" not in (await dku.get(f"{P}/BUILD_ALL/light")).json
    sim.advance(10)
    light = (await dku.get(f"{P}/BUILD_ALL/light")).json
    assert light["lastRun"]["trigger"]["runId"] == trigger["runId"]
    assert light["lastRun"]["result"]["outcome"] == "SUCCESS"
