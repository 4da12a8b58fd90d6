"""dbt Cloud v2 simulator over real HTTP: auth, the required cause, status codes, artifacts, cancel."""

from __future__ import annotations

from typing import Any

from tests.sim.conftest import Api

A = "/api/v2/accounts/1"


async def trigger(cloud: Api, job: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = await cloud.post(f"{A}/jobs/{job}/run/", {"cause": "test"} if body is None else body)
    assert reply.status == 200, reply.text
    return reply.json["data"]


async def status(cloud: Api, run_id: int) -> dict[str, Any]:
    reply = await cloud.get(f"{A}/runs/{run_id}/")
    assert reply.status == 200
    return reply.json["data"]


async def test_token_and_bearer_are_accepted_anything_else_is_401(cloud: Api) -> None:
    for scheme in ("Token", "Bearer"):
        assert (
            await cloud.get(f"{A}/jobs/", auth=False, headers={"Authorization": f"{scheme} sim-token"})
        ).status == 200
    wrong = await cloud.get(f"{A}/jobs/", auth=False, headers={"Authorization": "Token nope"})
    assert wrong.status == 401
    assert wrong.json == {
        "status": {
            "code": 401,
            "is_success": False,
            "user_message": "Invalid token.",
            "developer_message": None,
        },
        "data": None,
    }
    missing = await cloud.get(f"{A}/jobs/", auth=False)
    assert missing.status == 401
    assert missing.json["data"] is None
    assert missing.json["status"]["is_success"] is False


async def test_a_run_needs_a_cause_and_only_known_overrides(cloud: Api) -> None:
    no_cause = await cloud.post(f"{A}/jobs/1/run/", {})
    assert no_cause.status == 400
    assert no_cause.json["status"]["code"] == 400
    assert no_cause.json["data"] == "'cause' is a required property"
    extra = await cloud.post(f"{A}/jobs/1/run/", {"cause": "x", "colour": "blue"})
    assert extra.status == 400
    assert "'colour' was unexpected" in extra.json["data"]
    typed = await cloud.post(f"{A}/jobs/1/run/", {"cause": "x", "threads_override": "8"})
    assert typed.status == 400
    ok = await cloud.post(
        f"{A}/jobs/1/run/", {"cause": "x", "git_branch": "dev", "steps_override": ["dbt run"]}
    )
    assert ok.status == 200
    assert ok.json["data"]["trigger"]["git_branch"] == "dev"
    assert ok.json["data"]["git_branch"] == "dev"


async def test_a_run_goes_queued_starting_running_success(cloud: Api) -> None:
    run = await trigger(cloud, 1)
    assert run["status"] == 1
    assert run["status_humanized"] == "Queued"
    assert run["trigger"]["cause"] == "test"
    assert run["in_progress"] is True
    assert run["href"].endswith(f"/deploy/1/projects/1/runs/{run['id']}/")
    seen = []
    for _ in range(10):
        seen.append((await status(cloud, run["id"]))["status"])
        cloud.sim.advance(0.5)
    assert seen[0] == 1
    assert 2 in seen and 3 in seen
    assert seen[-1] == 10
    done = await status(cloud, run["id"])
    flags = {k: done[k] for k in ("in_progress", "is_complete", "is_success", "is_error", "is_cancelled")}
    assert flags == {
        "in_progress": False,
        "is_complete": True,
        "is_success": True,
        "is_error": False,
        "is_cancelled": False,
    }
    assert done["finished_at"] is not None
    assert done["started_at"] is not None


async def test_artifacts_appear_when_a_run_has_finished(cloud: Api) -> None:
    run = await trigger(cloud, 1)
    assert (await cloud.get(f"{A}/runs/{run['id']}/artifacts/")).json["data"] == []
    cloud.sim.advance(10)
    names = (await cloud.get(f"{A}/runs/{run['id']}/artifacts/")).json["data"]
    assert {"manifest.json", "run_results.json", "catalog.json"} <= set(names)
    results = await cloud.get(f"{A}/runs/{run['id']}/artifacts/run_results.json")
    assert results.status == 200
    assert {r["status"] for r in results.json["results"]} == {"success"}
    missing = await cloud.get(f"{A}/runs/{run['id']}/artifacts/nope.json")
    assert missing.status == 404


async def test_a_failing_job_ends_in_error(cloud: Api) -> None:
    run = await trigger(cloud, 2)
    cloud.sim.advance(10)
    done = await status(cloud, run["id"])
    assert (done["status"], done["is_error"], done["is_success"]) == (20, True, False)
    assert "Database Error" in done["status_message"]
    names = (await cloud.get(f"{A}/runs/{run['id']}/artifacts/")).json["data"]
    assert names == ["manifest.json", "run_results.json"]


async def test_a_marker_in_the_cause_scripts_the_run(cloud: Api) -> None:
    run = await trigger(cloud, 1, {"cause": "try it [sim:error]"})
    cloud.sim.advance(10)
    assert (await status(cloud, run["id"]))["status"] == 20


async def test_cancel_ends_an_unfinished_run_as_cancelled(cloud: Api) -> None:
    run = await trigger(cloud, 3)
    cloud.sim.advance(5)
    assert (await status(cloud, run["id"]))["status"] == 3
    cancelled = await cloud.post(f"{A}/runs/{run['id']}/cancel/")
    assert cancelled.status == 200
    assert cancelled.json["data"]["status"] == 30
    assert (await status(cloud, run["id"]))["is_cancelled"] is True
    scripted = await trigger(cloud, 4)
    cloud.sim.advance(10)
    assert (await status(cloud, scripted["id"]))["status"] == 30


async def test_unknown_objects_are_404_with_a_null_data_envelope(cloud: Api) -> None:
    for path in (f"{A}/runs/99/", f"{A}/jobs/99/", "/api/v2/accounts/7/jobs/"):
        reply = await cloud.get(path)
        assert reply.status == 404, path
        assert reply.json["data"] is None
        assert reply.json["status"]["is_success"] is False
    assert (await cloud.post(f"{A}/jobs/99/run/", {"cause": "x"})).status == 404


async def test_jobs_and_runs_can_be_listed_and_jobs_created(cloud: Api) -> None:
    jobs = (await cloud.get(f"{A}/jobs/")).json["data"]
    assert [j["id"] for j in jobs] == [1, 2, 3, 4, 5]
    created = await cloud.post(f"{A}/jobs/", {"name": "from the API"})
    assert created.status == 201
    job_id = created.json["data"]["id"]
    assert (await cloud.get(f"{A}/jobs/{job_id}/")).json["data"]["name"] == "from the API"
    await trigger(cloud, 1)
    await trigger(cloud, job_id)
    runs = (await cloud.get(f"{A}/runs/?job_definition_id={job_id}")).json
    assert [r["job_definition_id"] for r in runs["data"]] == [job_id]
    assert runs["extra"]["pagination"] == {"count": 1, "total_count": 1}
