"""The event contract: what the engine tells an observer about each step execution."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import spola
from spola.core.events import (
    Event,
    StepFinished,
    StepStarted,
    Waiting,
    WorkflowFinished,
    event_from_dict,
    event_to_dict,
)
from spola.sim import create_combined_app, serve_in_thread
from tests.conftest import REPO, SEEDS, shared_or_skip

DATABRICKS = REPO / "examples" / "databricks" / "run-job-and-wait.arazzo.yaml"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_combined_app(speed=50, seed=1)) as server:
        yield server.base_url


def observed(doc: Any, inputs: dict[str, Any], **kwargs: Any) -> tuple[Any, list[Event]]:
    events: list[Event] = []
    result = spola.run(doc, inputs=inputs, poll_interval=0.02, observer=events.append, **kwargs)
    return result, events


def finished(events: list[Event], step_id: str) -> list[StepFinished]:
    return [e for e in events if isinstance(e, StepFinished) and e.step_id == step_id]


def test_a_dbt_poll_loop_explains_each_execution(base_url: str) -> None:
    shared_or_skip()
    result, events = observed(
        SEEDS / "dbt-trigger-run-and-poll-workflow.yml",
        {"accountId": 1, "jobId": 2, "token": "sim-token"},
        servers={"dbtAdminApi": base_url + "/api/v2"},
    )
    assert result.outputs["finalStatus"] == 20  # job 2 errors
    polls = finished(events, "pollRun")
    assert len(polls) >= 2
    first, last = polls[0], polls[-1]
    # remote state: the output the loop's jsonpath criteria read ($.data.status over the body)
    assert first.remote_state[0][0] == "status" and first.remote_state[0][1] in (1, 2, 3)
    assert last.remote_state == (("status", 20),)
    # each criterion with its role, text, type, result and the value it compared
    by_role = {c.role: c for c in last.criteria}
    assert by_role["success"].condition == "$statusCode == 200" and by_role["success"].passed
    assert by_role["success"].observed == (("$statusCode", 200),)
    succeeded = by_role["onSuccess:runSucceeded"]
    assert (succeeded.type, succeeded.passed, succeeded.observed) == (
        "jsonpath",
        False,
        (("$.data.status", 20),),
    )
    assert by_role["onSuccess:runFailed"].passed
    assert "onSuccess:keepPolling" not in by_role  # actions after the one that matched are not tried
    assert last.action is not None and last.action.kind == "end" and last.action.name == "runFailed"
    assert "runFailed" in last.action.why
    loop = first.action
    assert loop is not None and (loop.kind, loop.name, loop.target) == ("goto", "keepPolling", "pollRun")
    assert loop.delay == pytest.approx(0.02)
    # a Waiting event between polls, with its bounds
    waits = [e for e in events if isinstance(e, Waiting)]
    assert waits and all(w.until == pytest.approx(w.at + w.seconds) for w in waits)
    # requests and responses summarised, the token withheld
    started = [e for e in events if isinstance(e, StepStarted) and e.step_id == "pollRun"]
    assert started[0].request is not None and started[0].request.method == "GET"
    assert dict(started[0].request.headers)["Authorization"] == "***"
    assert (
        last.response is not None
        and last.response.status == 200
        and '"status": 20' in (last.response.body or "").replace('"status":20', '"status": 20')
    )
    assert last.started_at <= last.at and last.call_id == started[-1].call_id
    assert isinstance(events[-1], WorkflowFinished) and events[-1].outputs == result.outputs
    assert all("sim-token" not in repr(e) for e in events)  # the token input is a credential by name
    for event in events:
        assert event_from_dict(event_to_dict(event)) == event


def test_databricks_remote_state_is_the_life_cycle_state(base_url: str) -> None:
    result, events = observed(
        DATABRICKS,
        {"job_id": 123},
        servers={"databricks": base_url + "/api"},
        auth={"databricks": "dapi-sim-token"},
    )
    assert result.succeeded, result.error
    polls = finished(events, "waitForRun")
    assert [name for name, _ in polls[0].remote_state] == ["lifeCycleState"]
    assert polls[-1].remote_state == (("lifeCycleState", "TERMINATED"),)
    looping = polls[0].criteria[-1]
    assert looping.role == "onSuccess:stillActive" and looping.type == "simple" and looping.passed
    assert looping.observed[0][0] == "$response.body#/state/life_cycle_state"
    end = polls[-1]
    assert end.action is not None and end.action.kind == "next" and end.action.target == "getOutput"
    assert end.action.why.startswith("no action matched → next step getOutput")
    assert not [c for c in end.criteria if c.role == "onSuccess:stillActive" and c.passed]


def test_an_unobserved_run_keeps_no_events(base_url: str) -> None:
    run = spola.api.prepare(
        DATABRICKS,
        inputs={"job_id": 123},
        options=spola.api.make_options(
            servers={"databricks": base_url + "/api"},
            auth={"databricks": "dapi-sim-token"},
            poll_interval=0.02,
        ),
    )

    async def go() -> Any:
        from spola.drivers.aio import drive, make_session

        async with make_session() as session:
            return await drive(run, session)

    import asyncio

    result = asyncio.run(go())
    assert result.succeeded
    assert run.observed is False and run.events == [] and run.remote_cache == {}
