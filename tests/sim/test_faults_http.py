"""Injected faults as a client sees them: throttling with Retry-After, xN, dropped connections, latency."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from tests.sim.conftest import Api, Sim

API = "/api/2.1/jobs"


async def test_a_throttled_call_is_a_429_with_retry_after(dbx: Api) -> None:
    dbx.sim.faults("runs/list:429x1,jobs/get:429x1:retry-after=7")
    throttled = await dbx.get(f"{API}/runs/list")
    assert throttled.status == 429
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert (await dbx.get(f"{API}/get?job_id=123")).headers["Retry-After"] == "7"
    assert (await dbx.get(f"{API}/runs/list")).status == 200


async def test_the_first_n_calls_fail_and_none_of_them_starts_a_run(dbx: Api) -> None:
    dbx.sim.faults("run-now:503x3")
    statuses = [(await dbx.post(f"{API}/run-now", {"job_id": 123})).status for _ in range(4)]
    assert statuses == [503, 503, 503, 200]
    assert dbx.sim.app.log.count("run-now") == 4
    assert len(dbx.sim.app.simulator.runs) == 1
    faults = [e.fault for e in dbx.sim.app.log.requests("run-now")]
    assert faults == ["run-now:503x3"] * 3 + [None]


async def test_a_dropped_connection_is_a_connection_error(dbx: Api) -> None:
    dbx.sim.faults("run-now:dropx1")
    with pytest.raises(aiohttp.ClientConnectionError):
        await dbx.post(f"{API}/run-now", {"job_id": 123})
    assert dbx.sim.app.simulator.runs == {}
    assert (await dbx.post(f"{API}/run-now", {"job_id": 123})).status == 200
    first = dbx.sim.app.log.requests("run-now")[0]
    assert (first.status, first.fault) == (None, "run-now:dropx1")


async def test_a_late_drop_starts_the_run_and_a_retry_with_the_token_finds_it(dbx: Api) -> None:
    dbx.sim.faults("run-now:dropx1:late")
    body = {"job_id": 123, "idempotency_token": "retry-me"}
    with pytest.raises(aiohttp.ClientConnectionError):
        await dbx.post(f"{API}/run-now", body)
    assert len(dbx.sim.app.simulator.runs) == 1
    retried = await dbx.post(f"{API}/run-now", body)
    assert retried.json["run_id"] == next(iter(dbx.sim.app.simulator.runs))
    assert len(dbx.sim.app.simulator.runs) == 1


async def test_latency_delays_the_answer(dbx: Api) -> None:
    dbx.sim.faults("jobs/get:latency=150ms")
    started = time.perf_counter()
    assert (await dbx.get(f"{API}/get?job_id=123")).status == 200
    assert time.perf_counter() - started >= 0.15


async def test_gateway_errors_come_as_html(dbx: Api, cloud: Api, dku: Api) -> None:
    dbx.sim.faults("*:502x1")
    cloud.sim.faults("*:504x1")
    dku.sim.faults("*:500x1")
    reply = await dbx.get(f"{API}/runs/list")
    assert (reply.status, reply.headers["Content-Type"].split(";")[0]) == (502, "text/html")
    assert (await cloud.get("/api/v2/accounts/1/jobs/")).status == 504
    broken = await dku.get("/public/api/projects/DKU_TUTORIAL/scenarios/BUILD_ALL")
    assert broken.status == 500
    assert set(broken.json) == {"errorType", "message", "detailedMessage"}


async def test_faults_use_each_vendors_error_body(cloud: Api) -> None:
    cloud.sim.faults("runs/get:429x1")
    run = (await cloud.post("/api/v2/accounts/1/jobs/1/run/", {"cause": "x"})).json["data"]
    throttled = await cloud.get(f"/api/v2/accounts/1/runs/{run['id']}/")
    assert throttled.status == 429
    assert throttled.json["status"]["code"] == 429
    assert throttled.json["data"] is None


async def test_the_same_seed_gives_the_same_faults_over_http(
    start_sim: Any, session: aiohttp.ClientSession
) -> None:
    async def statuses(sim: Sim) -> list[int]:
        sim.faults("runs/list:503@0.5")
        api = Api(sim, session)
        return [(await api.get(f"{API}/runs/list")).status for _ in range(16)]

    first = await statuses(start_sim("databricks"))
    second = await statuses(start_sim("databricks"))
    assert first == second
    assert {200, 503} == set(first)


async def test_admin_endpoints_are_never_faulted(dbx: Api) -> None:
    dbx.sim.faults("*:500")
    assert (await dbx.get("/_sim/requests", auth=False)).status == 200
