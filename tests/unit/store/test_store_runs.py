"""RunStore round trips: create, record, finish, list, show, prune, in-doubt."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import pytest

from spola.errors import StoreError
from spola.exchange import HttpResponse

if TYPE_CHECKING:
    from spola.store import RunStore

T0 = 1_700_000_000.0


def test_a_run_round_trips_with_its_exchanges_in_seq_order(store: RunStore, header, intent, response) -> None:
    store.create_run(header())
    for seq in (2, 1, 3):
        store.record_intent(intent(seq=seq, at=T0 + seq))
    store.record_response(response(seq=1, at=T0 + 1.5))
    store.record_response(response(seq=2, status=None, body=b"", error="connection reset", at=T0 + 2.5))

    run = store.get_run("run-1")
    assert run.status == "running"
    assert run.header.inputs == {"jobId": 42}
    assert run.header.options["auth"] == ["databricks"]
    assert [x.seq for x in run.exchanges] == [1, 2, 3]
    first, second, third = run.exchanges
    assert first.to_response() == HttpResponse(
        200, (("Content-Type", "application/json"),), b'{"state":"RUNNING"}', None, 0.25
    )
    assert first.received_at == T0 + 1.5
    assert second.status is None and second.error == "connection reset"
    assert third.in_doubt and third.to_response() is None
    assert [x.seq for x in run.in_doubt] == [3]


def test_finish_records_outputs_error_and_duration(store: RunStore, header) -> None:
    store.create_run(header())
    store.finish_run("run-1", "failed", {"state": "TERMINATED"}, {"message": "boom"}, T0 + 3600.5)
    run = store.get_run("run-1")
    assert (run.status, run.outputs, run.error, run.finished_at) == (
        "failed",
        {"state": "TERMINATED"},
        {"message": "boom"},
        T0 + 3600.5,
    )
    summary = run.summary().to_dict()
    assert summary == {
        "runId": "run-1",
        "workflowId": "run-job-and-wait",
        "document": "/docs/databricks.arazzo.yaml",
        "status": "failed",
        "startedAt": "2023-11-14T22:13:20.000Z",
        "finishedAt": "2023-11-14T23:13:20.500Z",
        "durationMs": 3_600_500,
    }


def test_show_json_lists_exchanges_and_events(store: RunStore, header, intent, response) -> None:
    from spola.store import EventRecord

    store.create_run(header())
    store.record_intent(intent(seq=1))
    store.record_response(response(seq=1))
    store.record_event(EventRecord("run-1", "wait", T0 + 2, {"seconds": 30}, seq=1))
    shown = store.get_run("run-1").to_dict()
    assert shown["exchanges"] == [
        {
            "seq": 1,
            "stepPath": "run-job-and-wait/pollRun",
            "stepId": "pollRun",
            "attempt": 1,
            "method": "GET",
            "url": "https://dbc.example/api/2.1/jobs/runs/get?run_id=1",
            "status": 200,
            "elapsedMs": 250,
            "error": None,
            "idempotent": True,
            "sends": 1,
            "intentAt": "2023-11-14T22:13:20.000Z",
            "receivedAt": "2023-11-14T22:13:21.000Z",
            "inDoubt": False,
        }
    ]
    assert shown["events"] == [
        {"kind": "wait", "at": "2023-11-14T22:13:22.000Z", "seq": 1, "data": {"seconds": 30}}
    ]
    assert shown["durationMs"] is None


def test_runs_are_listed_newest_first_and_filtered_by_status(store: RunStore, header) -> None:
    for index, started in enumerate([T0 + 10, T0 + 30, T0 + 20]):
        store.create_run(header(run_id=f"run-{index}", started_at=started))
    store.finish_run("run-1", "succeeded", {}, None, T0 + 40)
    assert [r.run_id for r in store.list_runs()] == ["run-1", "run-2", "run-0"]
    assert [r.run_id for r in store.list_runs(limit=2)] == ["run-1", "run-2"]
    assert [r.run_id for r in store.list_runs(status="running")] == ["run-2", "run-0"]
    assert [r.run_id for r in store.list_runs(status="succeeded")] == ["run-1"]


def test_a_run_is_found_by_a_unique_prefix_of_its_id(store: RunStore, header) -> None:
    store.create_run(header(run_id="3f9a1c77"))
    store.create_run(header(run_id="3f9b0000"))
    assert store.get_run("3f9a").run_id == "3f9a1c77"
    with pytest.raises(StoreError, match="ambiguous"):
        store.get_run("3f9")
    with pytest.raises(StoreError, match=r"no run with id 42 \(spola runs lists them\)"):
        store.get_run("42")


def test_unknown_runs_and_duplicate_ids_are_store_errors(store: RunStore, header, intent, response) -> None:
    store.create_run(header())
    with pytest.raises(StoreError, match="already exists"):
        store.create_run(header())
    with pytest.raises(StoreError, match="no run with id nope"):
        store.finish_run("nope", "succeeded", None, None, T0)
    with pytest.raises(StoreError, match="no run with id nope"):
        store.set_status("nope", "interrupted")
    with pytest.raises(StoreError):
        store.record_intent(intent(run_id="nope"))
    with pytest.raises(StoreError, match="no intent recorded for exchange 9"):
        store.record_response(response(seq=9))
    with pytest.raises(StoreError, match="unknown run status"):
        store.set_status("run-1", "paused")  # type: ignore[arg-type]


def test_an_in_doubt_intent_may_be_recorded_again_but_not_an_answered_one(
    store: RunStore, header, intent, response
) -> None:
    store.create_run(header())
    store.record_intent(intent(seq=1, method="POST", at=T0))
    store.record_intent(intent(seq=2, at=T0 + 1))
    store.record_response(response(seq=2))
    doubtful = store.in_doubt("run-1")
    assert [(i.seq, i.method, i.idempotent) for i in doubtful] == [(1, "POST", False)]

    store.record_intent(intent(seq=1, method="POST", at=T0 + 99))
    (exchange,) = store.get_run("run-1").in_doubt
    assert (exchange.sends, exchange.intent_at) == (2, T0 + 99)
    with pytest.raises(StoreError, match="already has a response"):
        store.record_intent(intent(seq=2))


def test_interrupted_then_resumed_runs_clear_their_finish_time(store: RunStore, header) -> None:
    store.create_run(header())
    store.finish_run("run-1", "interrupted", None, {"message": "Ctrl-C"}, T0 + 5)
    store.set_status("run-1", "running", at=T0 + 60)
    run = store.get_run("run-1")
    assert (run.status, run.finished_at, run.updated_at) == ("running", None, T0 + 60)


def test_prune_deletes_old_finished_runs_only(store: RunStore, header, intent, response, db_path) -> None:
    store.create_run(header(run_id="old-done", started_at=T0))
    store.record_intent(intent(run_id="old-done"))
    store.record_response(response(run_id="old-done"))
    store.finish_run("old-done", "succeeded", {}, None, T0 + 10)
    store.create_run(header(run_id="old-running", started_at=T0))
    store.create_run(header(run_id="new-done", started_at=T0 + 5000))
    store.finish_run("new-done", "failed", None, None, T0 + 5010)

    assert store.prune(older_than_seconds=3600, now=T0 + 6000) == 1
    assert sorted(r.run_id for r in store.list_runs()) == ["new-done", "old-running"]
    with sqlite3.connect(db_path) as other:
        assert other.execute("SELECT count(*) FROM exchanges").fetchone() == (0,)
    assert store.prune(older_than_seconds=0, now=T0 + 10**6) == 1
    assert [r.run_id for r in store.list_runs()] == ["old-running"]


def test_writes_outside_a_batch_commit_one_by_one(store: RunStore, header, intent) -> None:
    before = store.commits
    store.create_run(header())
    with store.transaction():
        for seq in range(1, 11):
            store.record_intent(intent(seq=seq))
    assert store.commits - before == 2
