"""The read cache: one database read for a burst of misses, and never stale after this replica's write."""

from __future__ import annotations

import asyncio

from mailgate.store.cache import TtlCache


async def test_concurrent_misses_share_one_load():
    cache: TtlCache[str] = TtlCache(ttl=60)
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return "value"

    results = await asyncio.gather(*(cache.get_or_load("key", load) for _ in range(50)))
    assert results == ["value"] * 50
    assert loads == 1
    assert await cache.get_or_load("key", load) == "value" and loads == 1  # served from the cache


async def test_a_load_begun_before_a_write_does_not_fill_the_cache():
    cache: TtlCache[str] = TtlCache(ttl=60)
    started, release = asyncio.Event(), asyncio.Event()

    async def old_value() -> str:
        started.set()
        await release.wait()
        return "before the write"

    reader = asyncio.create_task(cache.get_or_load("key", old_value))
    await started.wait()
    cache.clear()  # a write on this replica

    async def new_value() -> str:
        return "after the write"

    assert await cache.get_or_load("key", new_value) == "after the write"
    release.set()
    assert await reader == "before the write"  # that caller asked before the write
    assert await cache.get_or_load("key", old_value) == "after the write"


async def test_unknown_keys_are_not_cached():
    cache: TtlCache[str] = TtlCache(ttl=60)
    answers = iter([None, "created since"])

    async def load() -> str | None:
        return next(answers)

    assert await cache.get_or_load("token", load) is None
    assert await cache.get_or_load("token", load) == "created since"
