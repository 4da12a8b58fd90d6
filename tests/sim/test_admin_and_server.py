"""Admin endpoints, the combined app, serving in a thread, and real-time speed scaling."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import aiohttp
import pytest

from spola.sim import (
    ManualClock,
    SimClock,
    api_base_urls,
    create_app,
    create_combined_app,
    serve_in_thread,
)
from spola.sim.apps import build_app
from tests.sim.conftest import Api

API = "/api/2.1/jobs"
DBX = {"Authorization": "Bearer dapi-sim-token"}


async def test_the_request_log_counts_per_endpoint_and_hides_credentials(dbx: Api) -> None:
    await dbx.post(f"{API}/run-now", {"job_id": 123})
    for _ in range(3):
        await dbx.get(f"{API}/runs/get?run_id=1001")
    await dbx.get(f"{API}/runs/get?run_id=1001", headers={"Authorization": "Bearer wrong"})
    log = (await dbx.get("/_sim/requests", auth=False)).json
    assert log["counts"] == {"run-now": {"POST": 1}, "runs/get": {"GET": 4}}
    assert [e["key"] for e in log["requests"]] == ["run-now"] + ["runs/get"] * 4
    first = log["requests"][0]
    assert first["body"] == {"job_id": 123}
    assert first["headers"]["authorization"] == "Bearer <redacted>"
    assert first["status"] == 200
    assert log["requests"][1]["query"] == {"run_id": "1001"}
    assert log["requests"][-1]["status"] == 403
    assert "dapi-sim-token" not in json.dumps(log) and "wrong" not in json.dumps(log)
    only = (await dbx.get("/_sim/requests?key=run-now", auth=False)).json
    assert only["total"] == 1


async def test_reset_advance_faults_and_state(dbx: Api) -> None:
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": 123})).json["run_id"]
    assert (await dbx.post("/_sim/reset?scope=log", auth=False)).status == 200
    assert (await dbx.get("/_sim/requests", auth=False)).json["total"] == 0
    assert (await dbx.get(f"{API}/runs/get?run_id={run_id}")).status == 200

    before = (await dbx.get("/_sim/clock", auth=False)).json["now"]
    advanced = await dbx.post("/_sim/advance?seconds=30", auth=False)
    assert advanced.json["now"] == pytest.approx(before + 30)
    assert (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json["state"][
        "life_cycle_state"
    ] == "TERMINATED"
    assert (await dbx.post("/_sim/advance?seconds=-1", auth=False)).status == 400

    assert (await dbx.call("PUT", "/_sim/faults", {"spec": "runs/get:500x1"}, auth=False)).json == {
        "spec": "runs/get:500x1"
    }
    assert (await dbx.get("/_sim/faults", auth=False)).json["spec"] == "runs/get:500x1"
    assert (await dbx.get(f"{API}/runs/get?run_id={run_id}")).status == 500
    bad = await dbx.call("PUT", "/_sim/faults", {"spec": "runs/get:nope"}, auth=False)
    assert bad.status == 400
    assert "unknown effect" in bad.json["error"]

    state = (await dbx.get("/_sim/state", auth=False)).json
    assert [r["run_id"] for r in state["runs"]] == [run_id]
    await dbx.call("PUT", "/_sim/faults", {"spec": ""}, auth=False)
    await dbx.post("/_sim/reset", auth=False)
    assert (await dbx.get("/_sim/state", auth=False)).json["runs"] == []
    assert (await dbx.get(f"{API}/runs/get?run_id={run_id}")).status == 400


async def test_the_combined_app_serves_every_api_at_its_usual_path(session: aiohttp.ClientSession) -> None:
    clock = ManualClock()
    app = create_combined_app(clock=clock, seed=3)
    with serve_in_thread(app) as server:
        base = server.base_url

        async def call(method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
            async with session.request(method, base + path, headers=headers, json=body) as reply:
                return reply.status, await reply.json(content_type=None)

        assert (await call("GET", f"{API}/get?job_id=123", DBX))[0] == 200
        assert (await call("GET", f"/databricks{API}/get?job_id=123", DBX))[0] == 200
        dku = {"Authorization": "Bearer sim-token"}
        assert (await call("GET", "/public/api/projects/DKU_TUTORIAL/scenarios/BUILD_ALL", dku))[0] == 200
        assert (await call("GET", "/dataiku/dip/publicapi/projects/DKU_TUTORIAL/scenarios/BUILD_ALL", dku))[
            0
        ] == 200
        token = {"Authorization": "Token sim-token"}
        status, run = await call("POST", "/api/v2/accounts/1/jobs/1/run/", token, {"cause": "combined"})
        assert status == 200
        assert (await call("GET", f"/dbt/api/v2/accounts/1/runs/{run['data']['id']}/", token))[0] == 200

        await call("POST", "/_sim/advance?seconds=10", {})
        status, done = await call("GET", f"/api/v2/accounts/1/runs/{run['data']['id']}/", token)
        assert done["data"]["status"] == 10
        _, log = await call("GET", "/_sim/requests", {})
        assert set(log["counts"]) == {"databricks", "dataiku", "dbt"}
        assert log["counts"]["dbt"] == {"jobs/run": {"POST": 1}, "runs/get": {"GET": 2}}
        _, only = await call("GET", "/_sim/requests?vendor=dataiku", {})
        assert {e["vendor"] for e in only["requests"]} == {"dataiku"}
        _, prefixed = await call("GET", "/dbt/_sim/requests", {})
        assert prefixed["total"] == 3
        assert (await call("POST", "/_sim/reset", {}))[0] == 200
        _, log = await call("GET", "/_sim/requests", {})
        assert log["total"] == 0


def test_serve_in_thread_reports_a_real_port_and_stops() -> None:
    app = create_app("dbt", clock=ManualClock())
    server = serve_in_thread(app)
    try:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        request = urllib.request.Request(
            server.base_url + "/api/v2/accounts/", headers={"Authorization": "Token sim-token"}
        )
        with urllib.request.urlopen(request) as reply:
            assert json.load(reply)["data"][0]["id"] == 1
    finally:
        server.stop()
    server.stop()  # stopping twice is harmless


async def test_speed_scales_real_time(session: aiohttp.ClientSession) -> None:
    app = create_app("databricks", speed=200)
    with serve_in_thread(app) as server:
        async with session.post(
            server.base_url + f"{API}/run-now", json={"job_id": 42}, headers=DBX
        ) as reply:
            run_id = (await reply.json())["run_id"]
        await asyncio.sleep(0.1)  # 20 simulated seconds
        async with session.get(server.base_url + f"{API}/runs/get?run_id={run_id}", headers=DBX) as reply:
            assert (await reply.json())["state"]["result_state"] == "SUCCESS"


def test_a_sim_clock_scales_and_advances() -> None:
    source = ManualClock(100.0)
    clock = SimClock(source, speed=10, epoch_ms=1_000)
    assert clock.now() == 0
    source.advance(0.5)
    assert clock.now() == pytest.approx(5)
    assert clock.advance(2) == pytest.approx(7)
    assert clock.wall_ms() == 8_000
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="positive"):
        SimClock(speed=0)


def test_build_app_and_base_urls_for_the_cli() -> None:
    app, names = build_app("all", faults="runs/get:500@0.1", seed=1)
    assert names == ["databricks", "dataiku", "dbt"]
    assert hasattr(app, "apps")
    single, names = build_app("dbt")
    assert names == ["dbt"]
    with pytest.raises(ValueError, match="unknown simulator"):
        build_app("snowflake")
    urls = api_base_urls(["databricks", "dataiku", "dbt"], "http://127.0.0.1:8000")
    assert urls == {
        "databricks": ("http://127.0.0.1:8000/api", "dapi-sim-token"),
        "dataiku": ("http://127.0.0.1:8000/public/api", "sim-token"),
        "dbt": ("http://127.0.0.1:8000/api/v2", "sim-token"),
    }
    assert api_base_urls(["dbt"], "http://h:1", "mine") == {"dbt": ("http://h:1/api/v2", "mine")}


def test_auth_can_be_switched_off() -> None:
    app = create_app("databricks", clock=ManualClock(), auth=False)
    with (
        serve_in_thread(app) as server,
        urllib.request.urlopen(server.base_url + f"{API}/get?job_id=123") as reply,
    ):
        assert reply.status == 200


async def test_objects_can_be_created_through_the_admin_api(dbx: Api, dku: Api, cloud: Api) -> None:
    settings = {"name": "admin job", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/nb"}}]}
    created = await dbx.post("/_sim/jobs", {"job_id": 4242, "settings": settings}, auth=False)
    assert (created.status, created.json) == (201, {"job_id": 4242})
    assert (await dbx.get(f"{API}/get?job_id=4242")).json["settings"]["name"] == "admin job"

    body = {"projectKey": "OPS", "id": "CHECK", "outcome": "WARNING", "duration": 1}
    assert (await dku.post("/_sim/scenarios", body, auth=False)).status == 201
    fired = (await dku.post("/public/api/projects/OPS/scenarios/CHECK/run")).json
    dku.sim.advance(5)
    query = f"triggerId=manual&triggerRunId={fired['runId']}"
    run = (await dku.get(f"/public/api/projects/OPS/scenarios/CHECK/get-run-for-trigger?{query}")).json
    assert run["scenarioRun"]["result"]["outcome"] == "WARNING"
    refused = await dku.post(
        "/_sim/scenarios", {"projectKey": "OPS", "id": "X", "outcome": "MEH"}, auth=False
    )
    assert refused.status == 400

    job = await cloud.post("/_sim/jobs", {"id": 77, "name": "admin dbt job", "outcome": "error"}, auth=False)
    assert job.json == {"id": 77, "account_id": 1}
    run_id = (await cloud.post("/api/v2/accounts/1/jobs/77/run/", {"cause": "admin"})).json["data"]["id"]
    cloud.sim.advance(10)
    assert (await cloud.get(f"/api/v2/accounts/1/runs/{run_id}/")).json["data"]["status"] == 20
    assert (await cloud.post("/_sim/jobs", {}, auth=False)).status == 400


def test_the_combined_app_sets_faults_for_every_vendor() -> None:
    app = create_combined_app(clock=ManualClock())
    with serve_in_thread(app) as server:
        request = urllib.request.Request(
            server.base_url + "/_sim/faults", data=b"dbt.runs/get:500,*:latency=1ms", method="PUT"
        )
        with urllib.request.urlopen(request) as reply:
            plans = json.load(reply)
    assert plans == {
        "databricks": "*:latency=1ms",
        "dataiku": "*:latency=1ms",
        "dbt": "dbt.runs/get:500,*:latency=1ms",
    }
