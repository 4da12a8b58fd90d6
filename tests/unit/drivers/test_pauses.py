"""The batch's collector policy (survivors of a slow full collection are frozen, and thawed at the
end) and its pacer (a budget of engine work per loop iteration)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from spola.drivers.pauses import CollectorPolicy, Pacer


async def test_a_slow_full_collection_freezes_its_survivors_until_the_policy_ends() -> None:
    assert gc.get_freeze_count() == 0
    live = [{"n": [i]} for i in range(20_000)]  # long-lived objects, like the runs of a batch
    with CollectorPolicy(slow_s=0.0) as policy:  # every full collection counts as slow
        gc.collect()
        await asyncio.sleep(0)  # the freeze is done from the loop, after the collection
        await asyncio.sleep(0)
        assert policy.freezes == 1
        assert gc.get_freeze_count() >= len(live)
        gc.collect(0)  # a young collection is not a reason to freeze
        await asyncio.sleep(0)
        assert policy.freezes == 1
    assert gc.get_freeze_count() == 0
    assert len(live) == 20_000


async def test_what_the_process_holds_when_the_batch_starts_is_frozen_until_it_ends() -> None:
    before = [{"n": [i]} for i in range(20_000)]  # the modules, the document, the client
    with CollectorPolicy(slow_s=60.0) as policy:
        assert policy.frozen_at_start and gc.get_freeze_count() >= len(before)
        during = [{"n": [i]} for i in range(20_000)]  # the runs: not frozen, no slow collection
        frozen = gc.get_freeze_count()
        gc.collect()
        # nothing was added to the permanent generation (frozen objects may still be freed by
        # their reference count while the collection runs finalizers, so it can shrink)
        assert gc.get_freeze_count() <= frozen and policy.freezes == 0
    assert gc.get_freeze_count() == 0 and not policy.frozen_at_start
    assert len(before) == len(during) == 20_000


async def test_full_collections_are_rarer_while_the_policy_holds_and_thresholds_come_back() -> None:
    assert gc.get_threshold() == CollectorPolicy.DEFAULT_THRESHOLDS
    with CollectorPolicy(full_every=100):
        assert gc.get_threshold() == (700, 10, 100)
    assert gc.get_threshold() == CollectorPolicy.DEFAULT_THRESHOLDS


async def test_a_process_with_its_own_thresholds_keeps_them() -> None:
    gc.set_threshold(5000, 20, 30)
    try:
        with CollectorPolicy(full_every=100):
            assert gc.get_threshold() == (5000, 20, 30)
        assert gc.get_threshold() == (5000, 20, 30)
    finally:
        gc.set_threshold(*CollectorPolicy.DEFAULT_THRESHOLDS)


async def test_fast_collections_change_nothing() -> None:
    with CollectorPolicy(slow_s=60.0) as policy:
        gc.collect()
        await asyncio.sleep(0)
    assert policy.freezes == 0 and gc.get_freeze_count() == 0  # the start's freeze is thawed too


async def test_a_process_that_froze_objects_itself_is_left_alone() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with CollectorPolicy(slow_s=0.0) as policy:
            gc.collect()
            await asyncio.sleep(0)
        assert policy.freezes == 0
        assert gc.get_freeze_count() > frozen // 2  # not unfrozen behind its back
    finally:
        gc.unfreeze()


async def test_cycles_frozen_during_the_batch_are_collected_after_it() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    import weakref

    node = Node()
    ref = weakref.ref(node)
    with CollectorPolicy(slow_s=0.0):
        gc.collect()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        del node  # garbage now, but frozen: it waits
        gc.collect()
        assert ref() is not None
    gc.collect()
    assert ref() is None


class _Clock:
    """A clock the test moves: each turn of "work" costs 1 ms of it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _iterations_of(turns: int, pacer: Pacer | None, clock: _Clock) -> list[int]:
    """Start ``turns`` tasks at once; each takes one 1 ms turn. Returns the turns run per iteration."""
    loop = asyncio.get_running_loop()
    per_iteration: list[int] = [0]
    finished = 0

    def tick() -> None:  # one call per loop iteration, while tasks remain
        if finished < turns:
            per_iteration.append(0)
            loop.call_soon(tick)

    async def one() -> None:
        nonlocal finished
        if pacer is not None and pacer.over():
            await pacer.turn()
        clock.now += 0.001
        per_iteration[-1] += 1
        finished += 1

    tasks = [asyncio.ensure_future(one()) for _ in range(turns)]
    loop.call_soon(tick)
    await asyncio.gather(*tasks)
    return [n for n in per_iteration if n]


async def test_without_a_pacer_every_ready_turn_runs_in_one_iteration() -> None:
    assert await _iterations_of(200, None, _Clock()) == [200]


async def test_a_pacer_spreads_turns_over_iterations_within_its_budget() -> None:
    clock = _Clock()
    pacer = Pacer(budget_s=0.01)
    pacer._clock = clock
    counts = await _iterations_of(200, pacer, clock)
    assert sum(counts) == 200  # every turn ran, none twice
    assert max(counts) <= 11  # 10 ms of budget: ten 1 ms turns, and the one that found it spent
    assert len(counts) >= 200 // 11
    assert pacer.deferred > 0


async def test_a_pacer_under_its_budget_defers_nothing() -> None:
    clock = _Clock()
    pacer = Pacer(budget_s=1.0)
    pacer._clock = clock
    assert await _iterations_of(50, pacer, clock) == [50]
    assert pacer.deferred == 0


@pytest.fixture
def explicit_collections_only() -> Iterator[None]:
    """No automatic collection during the test (the policy keeps a process's own thresholds)."""
    gc.set_threshold(10**7, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*CollectorPolicy.DEFAULT_THRESHOLDS)


@pytest.mark.usefixtures("explicit_collections_only")
async def test_every_few_middle_collections_freeze_what_survived_them() -> None:
    with CollectorPolicy(slow_s=60.0, middle_every=3) as policy:
        live = [{"n": [i]} for i in range(20_000)]  # the runs, made after the start's freeze
        frozen = gc.get_freeze_count()
        for _ in range(2):
            gc.collect(1)
        await asyncio.sleep(0)
        assert policy.freezes == 0, "two middle collections are not yet a reason"
        gc.collect(1)
        await asyncio.sleep(0)  # the freeze is done from the loop, after the collection
        assert policy.freezes == 1
        assert gc.get_freeze_count() >= frozen + len(live)
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("explicit_collections_only")
async def test_now_and_then_the_policy_thaws_instead_so_dead_cycles_are_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    import weakref

    now = [0.0]
    policy = CollectorPolicy(slow_s=60.0, middle_every=1, thaw_every_s=600.0)
    policy._clock = lambda: now[0]
    with policy:
        node = Node()
        ref = weakref.ref(node)
        gc.collect(1)
        await asyncio.sleep(0)
        assert policy.freezes == 1 and policy.thaws == 0
        del node
        gc.collect()
        assert ref() is not None, "a cycle frozen while alive waits while the batch runs"
        now[0] = 601.0  # ten minutes later, the next freeze is a thaw
        gc.collect(1)
        await asyncio.sleep(0)
        assert policy.thaws == 1 and gc.get_freeze_count() == 0
        gc.collect()
        assert ref() is None, "the full collection after the thaw collects it"
