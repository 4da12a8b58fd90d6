"""The batch's collector policy: survivors of a slow full collection are frozen, and thawed at the end."""

from __future__ import annotations

import asyncio
import gc

from spola.drivers.pauses import CollectorPolicy


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


async def test_fast_collections_change_nothing() -> None:
    with CollectorPolicy(slow_s=60.0) as policy:
        gc.collect()
        await asyncio.sleep(0)
    assert policy.freezes == 0 and gc.get_freeze_count() == 0


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
