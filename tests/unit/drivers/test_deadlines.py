"""A request's time limit, kept by its loop's `Deadlines` instead of a timer per request in aiohttp:
each request times out at its own limit, on time; a request answered in time is answered; a task
cancelled for another reason stays cancelled; finished requests do not pile up."""

from __future__ import annotations

import asyncio
import time

import pytest

from spola.core.actions import SendRequest
from spola.drivers import deadlines
from spola.drivers.aio import make_session, send
from spola.exchange import HttpRequest
from tests.stub_server import Reply, StubServer


def action(url: str, timeout: float, call_id: int = 1) -> SendRequest:
    return SendRequest(call_id, HttpRequest("GET", url), "w/s", "s", 1, True, timeout)


async def test_each_request_times_out_at_its_own_limit_and_on_time(stub: StubServer) -> None:
    stub.add("GET", "/slow", Reply(body={"ok": True}, delay=1.0))
    url = stub.base_url + "/slow"

    async def timed(limit: float) -> tuple[float, int | None, str | None]:
        started = time.monotonic()
        response = await send(session, action(url, limit))
        return time.monotonic() - started, response.status, response.error

    async with make_session() as session:
        results = await asyncio.gather(timed(0.2), timed(0.5), timed(3.0))
    (short, s1, e1), (middle, s2, e2), (long, s3, e3) = results
    assert (s1, e1) == (None, "no response within 0.2 s")
    assert (s2, e2) == (None, "no response within 0.5 s")
    assert (s3, e3) == (200, None)  # answered after 1 s, within its 3 s
    assert 0.2 <= short < 0.2 + 0.3 and 0.5 <= middle < 0.5 + 0.3 and 1.0 <= long < 3.0
    assert len(stub.requests) == 3
    assert deadlines.of_loop(asyncio.get_running_loop()).live == 0


async def test_a_request_answered_in_time_leaves_no_deadline_behind(stub: StubServer) -> None:
    stub.add("GET", "/fast", Reply(body={"ok": True}))
    async with make_session() as session:
        for n in range(20):
            response = await send(session, action(stub.base_url + "/fast", 0.3, n))
            assert response.status == 200
        await asyncio.sleep(0.5)  # past every deadline: none of them may fire on a finished request
        response = await send(session, action(stub.base_url + "/fast", 0.3, 99))
    assert response.status == 200 and response.error is None
    assert deadlines.of_loop(asyncio.get_running_loop()).live == 0


async def test_a_task_cancelled_while_its_request_is_on_stays_cancelled(stub: StubServer) -> None:
    stub.add("GET", "/slow", Reply(body={}, delay=2.0))
    async with make_session() as session:
        task = asyncio.ensure_future(send(session, action(stub.base_url + "/slow", 0.3)))
        await asyncio.sleep(0.1)
        task.cancel()  # Ctrl-C: not a timeout
        with pytest.raises(asyncio.CancelledError):
            await task
    assert deadlines.of_loop(asyncio.get_running_loop()).live == 0


async def test_a_cancel_that_comes_with_the_deadline_is_not_taken_for_a_timeout(stub: StubServer) -> None:
    stub.add("GET", "/slow", Reply(body={}, delay=2.0))
    watch = deadlines.of_loop(asyncio.get_running_loop())
    async with make_session() as session:
        task = asyncio.ensure_future(send(session, action(stub.base_url + "/slow", 30.0)))
        await asyncio.sleep(0.1)
        real_time = watch._time
        watch._time = lambda: real_time() + 60.0  # type: ignore[method-assign]  # the deadline is now past
        try:
            watch._expire()  # the deadline cancels the task ...
        finally:
            watch._time = real_time  # type: ignore[method-assign]
        task.cancel()  # ... and so does Ctrl-C, before the task runs again
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_finished_requests_do_not_pile_up_in_the_heap() -> None:
    loop = asyncio.get_running_loop()
    watch = deadlines.Deadlines(loop)
    task = asyncio.current_task()
    assert task is not None
    for _ in range(10_000):  # a long limit: no deadline passes while they finish
        watch.end(watch.watch(task, 300.0))
    assert watch.live == 0
    assert watch.pending <= 2 * 1024
    kept = [watch.watch(task, 300.0) for _ in range(3000)]  # on at once: all of them stay
    assert watch.live == 3000 and watch.pending >= 3000
    for token in kept:
        assert watch.end(token) is False


def test_limits_are_kept_on_a_loop_with_a_clock_of_its_own(stub: StubServer) -> None:
    # a loop of another kind (uvloop's: its clock is libuv's, read through loop.time())
    uvloop = pytest.importorskip("uvloop")
    stub.add("GET", "/slow", Reply(body={"ok": True}, delay=1.0))
    stub.add("GET", "/fast", Reply(body={"ok": True}))

    async def both() -> tuple[float, str | None, int | None]:
        async with make_session() as session:
            started = time.monotonic()
            slow = await send(session, action(stub.base_url + "/slow", 0.3))
            elapsed = time.monotonic() - started
            fast = await send(session, action(stub.base_url + "/fast", 0.3, 2))
        return elapsed, slow.error, fast.status

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        elapsed, error, status = runner.run(both())
    assert error == "no response within 0.3 s" and 0.3 <= elapsed < 0.6
    assert status == 200
