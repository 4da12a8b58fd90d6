"""An API outage in the middle of a poll loop: ridden out, the job triggered once; resumable if not."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import spola
from spola.options import PollPolicy
from tests.integration.documents import write
from tests.robustness.outage import POLL_DOC, FlakyJobs

OUTAGE_SECONDS = 20.0 if os.environ.get("SPOLA_LONG_TESTS") else 3.0
"""The outage; the 20 s of issue 10 with SPOLA_LONG_TESTS=1 (3 s otherwise, same code path)."""


async def _outage(api: FlakyJobs, after_gets: int, seconds: float) -> None:
    """The API goes down at the poll after ``after_gets`` (that one is cut off) for ``seconds``."""
    api.cut_after = after_gets
    await api.cutting.wait()
    await api.down()
    await asyncio.sleep(seconds)
    api.cut_after = None
    await api.up()


@pytest.mark.timeout(120)
async def test_a_poll_rides_out_an_outage_and_the_job_is_triggered_once(tmp_path: Path) -> None:
    api = FlakyJobs(polls_before_done=3)
    await api.up()
    doc = write(tmp_path, POLL_DOC)
    outage = asyncio.ensure_future(_outage(api, after_gets=1, seconds=OUTAGE_SECONDS))
    try:
        result = await spola.arun(
            doc,
            servers={"jobs": api.base_url},
            poll_interval=0.05,
            retry_backoff=PollPolicy(initial=0.2, factor=1.5, cap=1.0, jitter=0.0),
            retry_attempts=1000,
            retry_wait=OUTAGE_SECONDS * 4,
            http_timeout=2,
        )
        await outage
    finally:
        await api.down()
    assert result.succeeded, result.error
    assert result.outputs == {"state": "TERMINATED"}
    assert api.counts["run"] == 1
    poll = next(s for s in result.steps if s.step_id == "poll")
    assert poll.executions > api.counts["get"]  # the refused connections count as executions too


@pytest.mark.timeout(120)
async def test_an_outage_longer_than_the_budget_fails_the_run_clearly(tmp_path: Path) -> None:
    api = FlakyJobs(polls_before_done=3)
    await api.up()
    doc = write(tmp_path, POLL_DOC)
    outage = asyncio.ensure_future(_outage(api, after_gets=1, seconds=OUTAGE_SECONDS))
    try:
        result = await spola.arun(
            doc,
            servers={"jobs": api.base_url},
            poll_interval=0.05,
            retry_backoff=PollPolicy(fixed=0.1),
            retry_wait=0.5,
        )
        await outage
    finally:
        await api.down()
    assert result.status == "failed"
    assert "cannot connect" in result.error.message
    assert api.counts["run"] == 1


@pytest.mark.timeout(120)
async def test_a_run_that_failed_on_an_outage_resumes_from_the_failed_step(tmp_path: Path) -> None:
    from spola.api import make_options, prepare
    from spola.durable import DurableRun, aresume, execute
    from spola.store import Journal

    api = FlakyJobs(polls_before_done=2)
    await api.up()
    doc = write(tmp_path, POLL_DOC)
    store = str(tmp_path / "runs.db")
    options = make_options(
        servers={"jobs": api.base_url},
        poll_interval=0.05,
        retry_backoff=PollPolicy(fixed=0.05),
        retry_wait=0.2,
    )
    outage = asyncio.ensure_future(_outage(api, after_gets=1, seconds=1.5))
    try:
        failed = await execute(DurableRun(prepare(doc, options=options), str(doc), store))
        assert failed.status == "failed", failed
        assert "cannot connect" in failed.error.message
        await outage  # the API is back
        resumed = await aresume(failed.run_id, store_path=store)
    finally:
        await api.down()
    assert resumed.succeeded, resumed.error
    assert resumed.outputs == {"state": "TERMINATED"}
    assert api.counts["run"] == 1  # the job was not triggered again
    journal = await Journal.open(store)
    try:
        record = await journal.get_run(failed.run_id)
    finally:
        await journal.close()
    assert record.status == "succeeded"
    assert [e.kind for e in record.events].count("retry-failed") == 1
    posts = [e for e in record.exchanges if e.method == "POST"]
    assert len(posts) == 1 and posts[0].sends == 1


async def test_a_run_that_failed_after_an_unsafe_request_may_have_arrived_is_not_resumed(
    tmp_path: Path,
) -> None:
    from spola.api import make_options, prepare
    from spola.durable import DurableRun, aresume, execute
    from spola.errors import ResumeRefused
    from tests.stub_server import Reply, StubServer

    stub = StubServer().start()
    try:
        stub.add("POST", "/api/jobs/run", Reply(drop=True))
        doc = write(tmp_path, POLL_DOC)
        store = str(tmp_path / "runs.db")
        options = make_options(servers={"jobs": stub.base_url + "/api"})
        failed = await execute(DurableRun(prepare(doc, options=options), str(doc), store))
        assert failed.status == "failed"
        with pytest.raises(ResumeRefused, match="may have reached the server"):
            await aresume(failed.run_id, store_path=store)
        assert len(stub.received("POST")) == 1
    finally:
        stub.stop()
