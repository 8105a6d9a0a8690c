"""A small read-through cache with a short lifetime, so replicas agree within `ttl` seconds.

Reads on the hot path (token checks, GetEmailProviderById) must not pay a database round trip
each; a write clears the cache at once on the replica that made it, and the lifetime bounds how
long another replica may serve the old value.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_TTL = 1.0


class TtlCache(Generic[V]):
    """Values for `ttl` seconds; concurrent misses of one key share a single load."""

    def __init__(
        self, ttl: float = DEFAULT_TTL, max_entries: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl  # 0 keeps nothing: every read loads
        self._max = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[V | None]] = {}
        self._generation = 0  # bumped by clear(): a load begun before it must not fill the cache

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, or `load()`'s (kept unless None); one load per key at a time.

        When an entry expires under load, every request for it would otherwise query the
        database at once, and the event loop would stall behind those round trips.
        """
        cached = self.get(key)
        if cached is not None:
            return cached
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._load(key, load, self._generation))
            self._loading[key] = pending
            pending.add_done_callback(lambda done: self._forget_load(key, done))
        # Shielded: a caller that gives up must not cancel the load others are waiting for.
        return await asyncio.shield(pending)

    async def _load(
        self, key: Hashable, load: Callable[[], Awaitable[V | None]], generation: int
    ) -> V | None:
        value = await load()
        if value is not None and generation == self._generation:
            self._put(key, value)
        return value

    def _forget_load(self, key: Hashable, done: asyncio.Future[V | None]) -> None:
        if self._loading.get(key) is done:  # not a newer load begun after a clear()
            del self._loading[key]

    def _put(self, key: Hashable, value: V) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()  # bounded memory; a miss only costs one read
        self._entries[key] = (self._clock() + self.ttl, value)

    def clear(self) -> None:
        """Forget everything, including what loads still in flight would bring."""
        self._generation += 1
        self._entries.clear()
        self._loading.clear()
