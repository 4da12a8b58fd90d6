"""Databricks Jobs API simulator over real HTTP: auth, run life cycle, outputs, idempotency, cancel."""

from __future__ import annotations

import base64

from tests.sim.conftest import Api

API = "/api/2.1/jobs"


async def run_state(dbx: Api, run_id: int) -> tuple[str, str | None]:
    body = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json
    return body["state"]["life_cycle_state"], body["state"].get("result_state")


async def test_a_missing_credential_is_401_and_a_wrong_token_is_403(dbx: Api) -> None:
    missing = await dbx.get(f"{API}/runs/list", auth=False)
    assert missing.status == 401
    assert missing.json["error_code"] == 401
    assert missing.json["message"].startswith("Credential was not sent or was of an unsupported type")

    wrong = await dbx.get(f"{API}/runs/list", headers={"Authorization": "Bearer dapi-wrong"})
    assert wrong.status == 403
    assert wrong.json == {"error_code": 403, "message": "Invalid access token."}

    basic = base64.b64encode(b"token:dapi-sim-token").decode()
    assert (await dbx.get(f"{API}/runs/list", headers={"Authorization": f"Basic {basic}"})).status == 200


async def test_a_multi_task_run_walks_its_life_cycle_as_time_passes(dbx: Api) -> None:
    started = await dbx.post(f"{API}/run-now", {"job_id": 123})
    assert started.status == 200
    run_id = started.json["run_id"]
    assert started.json["number_in_job"] == 1

    seen = []
    for _ in range(12):
        seen.append(await run_state(dbx, run_id))
        dbx.sim.advance(0.5)
    states = [s for s, _ in seen]
    assert states[0] == "PENDING"
    assert "RUNNING" in states and "TERMINATING" in states
    assert seen[-1] == ("TERMINATED", "SUCCESS")
    assert all(result is None for state, result in seen if state != "TERMINATED")

    body = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json
    assert body["run_type"] == "JOB_RUN"
    assert body["format"] == "MULTI_TASK"
    assert body["status"] == {
        "state": "TERMINATED",
        "termination_details": {"code": "SUCCESS", "type": "SUCCESS", "message": ""},
    }
    assert [t["task_key"] for t in body["tasks"]] == ["ingest", "transform"]
    assert body["end_time"] > body["start_time"] > 0
    assert body["run_page_url"].endswith(f"#job/123/run/{run_id}")


async def test_a_dependent_task_is_blocked_until_its_upstream_finishes(dbx: Api) -> None:
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": 123})).json["run_id"]
    dbx.sim.advance(1.2)
    tasks = {
        t["task_key"]: t["state"]["life_cycle_state"]
        for t in (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json["tasks"]
    }
    assert tasks == {"ingest": "RUNNING", "transform": "BLOCKED"}


async def test_get_output_on_a_multi_task_parent_is_refused_even_with_one_task(dbx: Api) -> None:
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": 124})).json["run_id"]
    dbx.sim.advance(10)
    refused = await dbx.get(f"{API}/runs/get-output?run_id={run_id}")
    assert refused.status == 400
    assert refused.json == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Retrieving the output of runs with multiple tasks is not supported. "
        "Please retrieve the output of each individual task run instead.",
    }
    task_run_id = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json["tasks"][0]["run_id"]
    output = await dbx.get(f"{API}/runs/get-output?run_id={task_run_id}")
    assert output.status == 200
    assert output.json["notebook_output"] == {"result": "{}", "truncated": False}
    assert output.json["metadata"]["run_id"] == task_run_id


async def test_a_legacy_single_task_job_has_its_output_on_the_run_id(dbx: Api) -> None:
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": 42, "notebook_params": {"day": "monday"}})).json[
        "run_id"
    ]
    early = await dbx.get(f"{API}/runs/get-output?run_id={run_id}")
    assert early.status == 200
    assert set(early.json) == {"metadata"}
    dbx.sim.advance(10)
    output = (await dbx.get(f"{API}/runs/get-output?run_id={run_id}")).json
    assert output["notebook_output"]["result"] == '{"day": "monday", "env": "sim"}'
    body = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json
    assert body["format"] == "SINGLE_TASK"
    assert body["tasks"][0]["run_id"] == run_id
    legacy = (await dbx.get(f"/api/2.0/jobs/runs/get?run_id={run_id}")).json
    assert "tasks" not in legacy
    assert legacy["task"]["notebook_task"]["notebook_path"] == "/Shared/sim/legacy"
    assert body["overriding_parameters"] == {"notebook_params": {"day": "monday"}}


async def test_the_same_idempotency_token_starts_only_one_run(dbx: Api) -> None:
    first = await dbx.post(f"{API}/run-now", {"job_id": 123, "idempotency_token": "nightly-1"})
    again = await dbx.post(f"{API}/run-now", {"job_id": 123, "idempotency_token": "nightly-1"})
    other = await dbx.post(f"{API}/run-now", {"job_id": 123, "idempotency_token": "nightly-2"})
    assert first.json == again.json
    assert other.json["run_id"] != first.json["run_id"]
    assert len((await dbx.get(f"{API}/runs/list?job_id=123")).json["runs"]) == 2
    assert dbx.sim.app.log.count("run-now") == 3


async def test_run_now_refuses_bad_requests_the_way_databricks_does(dbx: Api) -> None:
    both = await dbx.post(f"{API}/run-now", {"job_id": 123, "notebook_params": {}, "jar_params": ["a"]})
    assert both.status == 400
    assert both.json["error_code"] == "INVALID_PARAMETER_VALUE"
    unknown = await dbx.post(f"{API}/run-now", {"job_id": 5})
    assert unknown.status == 400
    assert unknown.json == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 5 does not exist."}
    missing = await dbx.post(f"{API}/run-now", {})
    assert missing.status == 400
    malformed = await dbx.call("POST", f"{API}/run-now", headers={"Content-Type": "application/json"})
    assert malformed.status == 400  # empty body: job_id missing
    nulls = await dbx.post(
        f"{API}/run-now", {"job_id": 123, "notebook_params": None, "idempotency_token": None}
    )
    assert nulls.status == 200


async def test_an_unknown_run_is_a_400_and_an_unknown_endpoint_a_404(dbx: Api) -> None:
    unknown = await dbx.get(f"{API}/runs/get?run_id=5")
    assert unknown.status == 400
    assert unknown.json == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Run 5 does not exist."}
    nowhere = await dbx.get(f"{API}/runs/nowhere")
    assert nowhere.status == 404
    assert nowhere.json["error_code"] == "ENDPOINT_NOT_FOUND"
    wrong_method = await dbx.get(f"{API}/run-now")
    assert wrong_method.status == 404


async def test_cancel_is_asynchronous_and_ends_canceled(dbx: Api) -> None:
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": 777})).json["run_id"]
    dbx.sim.advance(2)
    assert await run_state(dbx, run_id) == ("RUNNING", None)
    cancelled = await dbx.post(f"{API}/runs/cancel", {"run_id": run_id})
    assert (cancelled.status, cancelled.json) == (200, {})
    assert await run_state(dbx, run_id) == ("TERMINATING", None)
    dbx.sim.advance(1)
    assert await run_state(dbx, run_id) == ("TERMINATED", "CANCELED")
    body = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json
    assert body["state"]["user_cancelled_or_timedout"] is True
    assert (await dbx.post(f"{API}/runs/cancel", {"run_id": run_id})).status == 200
    assert (await dbx.post(f"{API}/runs/cancel", {"run_id": 4})).json["message"] == "Run 4 does not exist."


async def test_scripted_jobs_fail_time_out_and_hit_internal_errors(dbx: Api) -> None:
    ids = {
        job: (await dbx.post(f"{API}/run-now", {"job_id": job})).json["run_id"]
        for job in (666, 667, 668, 670)
    }
    dbx.sim.advance(20)
    assert await run_state(dbx, ids[666]) == ("TERMINATED", "FAILED")
    assert await run_state(dbx, ids[667]) == ("TERMINATED", "TIMEDOUT")
    assert await run_state(dbx, ids[668]) == ("INTERNAL_ERROR", "FAILED")
    assert await run_state(dbx, ids[670]) == ("TERMINATED", "CANCELED")
    failed = (await dbx.get(f"{API}/runs/get?run_id={ids[666]}")).json
    transform = next(t for t in failed["tasks"] if t["task_key"] == "transform")
    output = (await dbx.get(f"{API}/runs/get-output?run_id={transform['run_id']}")).json
    assert output["error"].startswith("Exception: sim failure")
    assert "Traceback" in output["error_trace"]
    assert "notebook_output" not in output


async def test_a_parameter_scripts_one_run(dbx: Api) -> None:
    run_id = (
        await dbx.post(
            f"{API}/run-now",
            {"job_id": 42, "notebook_params": {"sim_outcome": "FAILED", "sim_duration": "5"}},
        )
    ).json["run_id"]
    dbx.sim.advance(3)
    assert await run_state(dbx, run_id) == ("RUNNING", None)
    dbx.sim.advance(10)
    assert await run_state(dbx, run_id) == ("TERMINATED", "FAILED")


async def test_a_retrying_task_waits_for_retry_then_succeeds(dbx: Api) -> None:
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": 669})).json["run_id"]
    seen = []
    for _ in range(20):
        body = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json
        transform = next(t for t in body["tasks"] if t["task_key"] == "transform")
        seen.append((transform["state"]["life_cycle_state"], transform["attempt_number"]))
        dbx.sim.advance(0.5)
    assert ("WAITING_FOR_RETRY", 0) in seen
    assert seen[-1] == ("TERMINATED", 1)
    assert await run_state(dbx, run_id) == ("TERMINATED", "SUCCESS")


async def test_a_busy_job_queues_or_skips_further_runs(dbx: Api) -> None:
    first = (await dbx.post(f"{API}/run-now", {"job_id": 555})).json["run_id"]
    queued = (await dbx.post(f"{API}/run-now", {"job_id": 555})).json["run_id"]
    assert await run_state(dbx, first) == ("PENDING", None)
    body = (await dbx.get(f"{API}/runs/get?run_id={queued}")).json
    assert body["state"]["life_cycle_state"] == "QUEUED"
    assert body["status"]["queue_details"]["code"] == "ACTIVE_RUNS_LIMIT_REACHED"
    dbx.sim.advance(4)
    assert await run_state(dbx, first) == ("TERMINATED", "SUCCESS")
    assert (await run_state(dbx, queued))[0] in {"PENDING", "RUNNING"}

    await dbx.post(f"{API}/run-now", {"job_id": 556})
    skipped = (await dbx.post(f"{API}/run-now", {"job_id": 556})).json["run_id"]
    body = (await dbx.get(f"{API}/runs/get?run_id={skipped}")).json
    assert body["state"]["life_cycle_state"] == "SKIPPED"
    assert "maximum concurrent runs" in body["state"]["state_message"]


async def test_a_one_time_run_is_a_multi_task_submit_run(dbx: Api) -> None:
    submit = await dbx.post(
        f"{API}/runs/submit",
        {
            "run_name": "adhoc",
            "tasks": [
                {
                    "task_key": "only",
                    "existing_cluster_id": "0923-164208-meows279",
                    "notebook_task": {"notebook_path": "/Users/me/nb", "source": "WORKSPACE"},
                }
            ],
        },
    )
    assert submit.status == 200
    assert set(submit.json) == {"run_id"}
    run_id = submit.json["run_id"]
    dbx.sim.advance(10)
    body = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json
    assert (body["run_type"], body["run_name"], body["state"]["result_state"]) == (
        "SUBMIT_RUN",
        "adhoc",
        "SUCCESS",
    )
    assert (await dbx.get(f"{API}/runs/get-output?run_id={run_id}")).status == 400
    task = body["tasks"][0]["run_id"]
    assert (await dbx.get(f"{API}/runs/get-output?run_id={task}")).json["notebook_output"]["result"] == "{}"
    assert (
        await dbx.post(f"{API}/runs/submit", {"run_name": "x", "tasks": [{"task_key": "a"}]})
    ).status == 400


async def test_a_submitted_run_with_a_timeout_times_out(dbx: Api) -> None:
    task = {
        "task_key": "slow",
        "notebook_task": {"notebook_path": "/nb", "base_parameters": {"sim_duration": "60"}},
    }
    run_id = (await dbx.post(f"{API}/runs/submit", {"tasks": [task], "timeout_seconds": 5})).json["run_id"]
    dbx.sim.advance(30)
    assert await run_state(dbx, run_id) == ("TERMINATED", "TIMEDOUT")


async def test_jobs_can_be_created_read_listed_and_run(dbx: Api) -> None:
    settings = {
        "name": "made here [sim:FAILED]",
        "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/nb"}}],
        "parameters": [{"name": "day", "default": "mon"}],
    }
    job_id = (await dbx.post(f"{API}/create", settings)).json["job_id"]
    job = (await dbx.get(f"{API}/get?job_id={job_id}")).json
    assert job["settings"]["format"] == "MULTI_TASK"
    assert job["settings"]["max_concurrent_runs"] == 1
    listed = (await dbx.get(f"{API}/list?name=made here [sim:FAILED]")).json
    assert [j["job_id"] for j in listed["jobs"]] == [job_id]
    assert "tasks" not in listed["jobs"][0]["settings"]
    run_id = (await dbx.post(f"{API}/run-now", {"job_id": job_id, "job_parameters": {"day": "tue"}})).json[
        "run_id"
    ]
    dbx.sim.advance(10)
    body = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json
    assert body["state"]["result_state"] == "FAILED"
    assert body["job_parameters"] == [{"name": "day", "default": "mon", "value": "tue"}]
    assert (await dbx.get(f"{API}/list?name=nothing")).json == {"has_more": False}


async def test_every_api_version_path_is_served(dbx: Api) -> None:
    for version in ("2.0", "2.1", "2.2"):
        assert (await dbx.get(f"/api/{version}/jobs/get?job_id=123")).status == 200
    assert (await dbx.get("/api/2.1/jobs/get/?job_id=123")).status == 200  # trailing slash


async def test_api_2_0_gives_the_output_of_a_one_task_run_and_task_ids_read_as_runs(dbx: Api) -> None:
    run_id = (
        await dbx.post(f"{API}/run-now", {"job_id": 124, "notebook_params": {"sim_result": "done"}})
    ).json["run_id"]
    dbx.sim.advance(10)
    assert (await dbx.get(f"/api/2.0/jobs/runs/get-output?run_id={run_id}")).json["notebook_output"][
        "result"
    ] == "done"
    task_id = (await dbx.get(f"{API}/runs/get?run_id={run_id}")).json["tasks"][0]["run_id"]
    as_run = (await dbx.get(f"{API}/runs/get?run_id={task_id}")).json
    assert (as_run["run_id"], as_run["task_key"], as_run["state"]["result_state"]) == (
        task_id,
        "main",
        "SUCCESS",
    )
