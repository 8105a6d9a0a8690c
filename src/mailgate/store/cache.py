"""A small read-through cache with a short lifetime, so replicas agree within `ttl` seconds.

Reads on the hot path (token checks, GetEmailProviderById) must not pay a database round trip
each; a write invalidates its keys at once on the replica that made it, and the lifetime bounds
how long another replica may serve the old value.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_TTL = 1.0


class TtlCache(Generic[V]):
    def __init__(self, ttl: float = DEFAULT_TTL, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Hashable, value: V) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()  # bounded memory; a miss only costs one read
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def invalidate(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
