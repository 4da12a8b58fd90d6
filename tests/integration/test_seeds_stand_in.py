"""The five seed workflows, unchanged, against a scripted stand-in server.

The full vendor simulators have their own end-to-end tests (tests/e2e); these pin the engine's
reading of the seeds: the dialect conditions, bare ``Bearer $inputs.token``, optional inputs and
the dbt ``cause`` default.
"""

from __future__ import annotations

import pytest

import spola
from tests.conftest import SEEDS, shared_or_skip
from tests.stub_server import Reply, StubServer

pytestmark = pytest.mark.usefixtures("_needs_shared")


@pytest.fixture
def _needs_shared() -> None:
    shared_or_skip()


def run_state(life: str, result: str | None = None) -> Reply:
    state = {"life_cycle_state": life}
    if result:
        state["result_state"] = result
    return Reply(body={"run_id": 11, "state": state, "run_page_url": "http://x/run/11"})


async def test_databricks_run_job_and_wait(stub: StubServer) -> None:
    stub.add("POST", "/api/2.1/jobs/run-now", Reply(body={"run_id": 11, "number_in_job": 3}))
    stub.add(
        "GET",
        "/api/2.1/jobs/runs/get",
        run_state("PENDING"),
        run_state("RUNNING"),
        run_state("TERMINATED", "SUCCESS"),
    )
    stub.add("GET", "/api/2.1/jobs/runs/get-output", Reply(body={"notebook_output": {"result": "done"}}))
    result = await spola.arun(
        SEEDS / "databricks-run-job-and-wait-workflow.yml",
        inputs={"job_id": 123},
        servers={"databricksApi": stub.base_url + "/api"},
        auth={"databricksApi": "dapi-secret-1"},
        poll_interval=0,
    )
    assert result.succeeded, result.error
    assert result.outputs == {"runId": 11, "resultState": "SUCCESS", "notebookResult": "done"}
    (trigger,) = stub.received("POST", "/api/2.1/jobs/run-now")
    assert trigger.json == {"job_id": 123}
    assert trigger.headers["authorization"] == "Bearer dapi-secret-1"
    assert len(stub.received("GET", "/api/2.1/jobs/runs/get")) == 3


async def test_azure_submit_one_time_run(stub: StubServer) -> None:
    stub.add("POST", "/api/2.1/jobs/runs/submit", Reply(body={"run_id": 11}))
    stub.add(
        "GET",
        "/api/2.1/jobs/runs/get",
        run_state("RUNNING"),
        run_state("TERMINATING"),
        run_state("TERMINATED", "FAILED"),
    )
    stub.add("GET", "/api/2.1/jobs/runs/get-output", Reply(body={"error": "boom"}))
    inputs = {
        "token": "dapi-azure-2",
        "runName": "r",
        "taskKey": "t",
        "notebookPath": "/n",
        "existingClusterId": "c-1",
    }
    result = await spola.arun(
        SEEDS / "azure-databricks-submit-one-time-run-workflow.yml",
        inputs=inputs,
        servers={"azureDatabricksApi": stub.base_url + "/api"},
        poll_interval=0,
    )
    assert result.succeeded, result.error
    assert result.outputs == {"runId": 11, "resultState": "FAILED", "notebookResult": None, "error": "boom"}
    (submit,) = stub.received("POST", "/api/2.1/jobs/runs/submit")
    assert submit.headers["authorization"] == "Bearer dapi-azure-2"
    assert submit.json == {
        "run_name": "r",
        "tasks": [
            {
                "task_key": "t",
                "existing_cluster_id": "c-1",
                "notebook_task": {"notebook_path": "/n", "source": "WORKSPACE"},
            }
        ],
    }


async def test_azure_cancel_active_run(stub: StubServer) -> None:
    stub.add(
        "GET",
        "/api/2.1/jobs/runs/get",
        run_state("RUNNING"),
        run_state("TERMINATING"),
        run_state("TERMINATED", "CANCELED"),
    )
    stub.add("POST", "/api/2.1/jobs/runs/cancel", Reply(body={}))
    result = await spola.arun(
        SEEDS / "azure-databricks-cancel-active-run-workflow.yml",
        inputs={"token": "dapi-azure-3", "runId": 11},
        servers={"azureDatabricksApi": stub.base_url + "/api"},
        poll_interval=0,
    )
    assert result.succeeded, result.error
    assert result.outputs == {"runId": 11, "finalLifeCycleState": "TERMINATED", "resultState": "CANCELED"}
    assert stub.received("POST", "/api/2.1/jobs/runs/cancel")[0].json == {"run_id": 11}


async def test_dataiku_run_scenario_and_poll(stub: StubServer) -> None:
    base = "/public/api/projects/PK/scenarios/SC"
    stub.add("GET", base, Reply(body={"id": "SC", "active": True}))
    stub.add("POST", base + "/run", Reply(body={"runId": "trig-1", "trigger": {}}))
    stub.add("GET", base + "/light", Reply(body={"running": True}), Reply(body={"running": False}))
    result = await spola.arun(
        SEEDS / "dataiku-run-scenario-and-poll-workflow.yml",
        inputs={"apiKey": "dku-key-4", "projectKey": "PK", "scenarioId": "SC"},
        servers={"dssPublicApi": stub.base_url + "/public/api"},
        poll_interval=0,
    )
    assert result.succeeded, result.error
    # the seed reads `id` from the trigger fire, which has none, and `lastRun` from /light, which has none
    assert result.outputs == {"runId": None, "lastRun": None}
    assert stub.received("GET", base)[0].headers["authorization"] == "Bearer dku-key-4"
    assert len(stub.received("GET", base + "/light")) == 2


async def test_dbt_trigger_run_and_poll_with_cause_default(stub: StubServer) -> None:
    def run(status: int) -> Reply:
        return Reply(
            body={
                "status": {"code": 200},
                "data": {"id": 9, "status": status, "is_complete": status >= 10, "is_error": False},
            }
        )

    stub.add("POST", "/api/v2/accounts/1/jobs/2/run/", run(1))
    stub.add("GET", "/api/v2/accounts/1/runs/9/", run(1), run(3), run(10))
    stub.add("GET", "/api/v2/accounts/1/runs/9/artifacts/", Reply(body={"data": ["manifest.json"]}))
    result = await spola.arun(
        SEEDS / "dbt-trigger-run-and-poll-workflow.yml",
        inputs={"accountId": 1, "jobId": 2, "token": "dbt-token-5"},
        servers={"dbtAdminApi": stub.base_url + "/api/v2"},
        poll_interval=0,
    )
    assert result.succeeded, result.error
    assert result.outputs == {"runId": 9, "finalStatus": 10, "artifacts": ["manifest.json"]}
    (trigger,) = stub.received("POST", "/api/v2/accounts/1/jobs/2/run/")
    assert trigger.json == {"cause": "Triggered via Arazzo workflow"}
    assert trigger.headers["authorization"] == "Bearer dbt-token-5"


async def test_dbt_error_status_ends_the_workflow(stub: StubServer) -> None:
    stub.add("POST", "/api/v2/accounts/1/jobs/2/run/", Reply(body={"data": {"id": 9, "status": 1}}))
    stub.add("GET", "/api/v2/accounts/1/runs/9/", Reply(body={"data": {"id": 9, "status": 20}}))
    result = await spola.arun(
        SEEDS / "dbt-trigger-run-and-poll-workflow.yml",
        inputs={"accountId": 1, "jobId": 2, "token": "dbt-token-5", "cause": "ci"},
        servers={"dbtAdminApi": stub.base_url + "/api/v2"},
        poll_interval=0,
    )
    assert result.succeeded
    assert result.outputs == {"runId": 9, "finalStatus": 20, "artifacts": None}
    assert stub.received("GET", "/api/v2/accounts/1/runs/9/artifacts/") == []
