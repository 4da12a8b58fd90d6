"""The HTTP conversations of the seed workflows (../shared/seeds/arazzo), played by hand against the sims.

They pin down what the engine will meet: e.g. the one-time-run seed asks for the parent run's output, which a
multi-task run refuses, and the Dataiku seed's poll sees `running: false` before the run has even started.
"""

from __future__ import annotations

from tests.sim.conftest import Api

API = "/api/2.1/jobs"


async def poll_databricks(dbx: Api, run_id: int, active: set[str]) -> list[str]:
    seen = []
    for _ in range(40):
        state = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json["state"]["life_cycle_state"]
        seen.append(state)
        if state not in active:
            return seen
        dbx.sim.advance(0.25)
    raise AssertionError(f"run {run_id} never left {active}: {seen}")


async def test_run_job_and_wait_on_a_legacy_job_gets_the_notebook_result(dbx: Api) -> None:
    started = (await dbx.post(f"{API}/run-now", {"job_id": 42, "notebook_params": {"x": "1"}})).json
    seen = await poll_databricks(dbx, started["run_id"], {"PENDING", "RUNNING", "TERMINATING"})
    assert seen[-1] == "TERMINATED"
    output = await dbx.get(f"{API}/runs/get-output?run_id={started['run_id']}")
    assert output.json["notebook_output"]["result"] == '{"env": "sim", "x": "1"}'


async def test_run_job_and_wait_falls_through_on_terminating(dbx: Api) -> None:
    # The seed loops only on RUNNING and PENDING, so TERMINATING sends it on to get-output too early.
    started = (await dbx.post(f"{API}/run-now", {"job_id": 42})).json
    seen = await poll_databricks(dbx, started["run_id"], {"PENDING", "RUNNING"})
    assert seen[-1] == "TERMINATING"
    early = (await dbx.get(f"{API}/runs/get-output?run_id={started['run_id']}")).json
    assert "notebook_output" not in early


async def test_submit_one_time_run_cannot_read_the_parent_output(dbx: Api) -> None:
    task = {
        "task_key": "main",
        "existing_cluster_id": "0923-164208-meows279",
        "notebook_task": {"notebook_path": "/Users/me/nb", "source": "WORKSPACE"},
    }
    run_id = (await dbx.post(f"{API}/runs/submit", {"run_name": "seed", "tasks": [task]})).json["run_id"]
    seen = await poll_databricks(dbx, run_id, {"PENDING", "RUNNING", "TERMINATING"})
    assert seen[-1] == "TERMINATED"
    assert (await dbx.get(f"{API}/runs/get-output?run_id={run_id}")).status == 400


async def test_cancel_active_run_reaches_terminated(dbx: Api) -> None:
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": 777})).json["run_id"]
    dbx.sim.advance(3)
    assert (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json["state"]["life_cycle_state"] == "RUNNING"
    assert (await dbx.post(f"{API}/runs/cancel", {"run_id": run_id})).status == 200
    seen = await poll_databricks(dbx, run_id, {"RUNNING", "TERMINATING", "PENDING"})
    assert seen[0] == "TERMINATING"
    assert seen[-1] == "TERMINATED"
    assert (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json["state"]["result_state"] == "CANCELED"


async def test_dataiku_run_and_poll_stops_before_the_run_starts(dku: Api) -> None:
    base = "/public/api/projects/DKU_TUTORIAL/scenarios/BUILD_ALL"
    assert (await dku.get(base)).json["id"] == "BUILD_ALL"
    fired = (await dku.post(f"{base}/run")).json
    assert "id" not in fired  # the seed's `$response.body#/id` finds nothing
    light = (await dku.get(f"{base}/light")).json
    assert light["running"] is False  # so the seed's poll loop ends at once
    assert "lastRun" not in light


async def test_dbt_trigger_run_and_poll_lists_artifacts(cloud: Api) -> None:
    account = "/api/v2/accounts/1"
    headers = {"Authorization": "Bearer sim-token"}
    run = (
        await cloud.post(
            f"{account}/jobs/1/run/", {"cause": "Triggered via Arazzo workflow"}, headers=headers
        )
    ).json
    run_id = run["data"]["id"]
    statuses = []
    for _ in range(20):
        status = (await cloud.get(f"{account}/runs/{run_id}/", headers=headers)).json["data"]["status"]
        statuses.append(status)
        if status >= 10:
            break
        cloud.sim.advance(0.5)
    assert statuses[-1] == 10
    assert statuses == sorted(statuses)
    artifacts = (await cloud.get(f"{account}/runs/{run_id}/artifacts/", headers=headers)).json["data"]
    assert "manifest.json" in artifacts
