"""Rate limits: token buckets keyed by whoever is being limited (an instance, a token)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # the bucket's size
    remaining: int  # whole tokens left after this decision
    retry_after: float  # seconds until one token is back (0 when allowed)
    reset_at: float  # epoch seconds when the bucket is full again


class TokenBucket:
    """`rate_per_minute` tokens refill continuously into buckets of `burst`; per process."""

    def __init__(self, rate_per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated monotonic)
        self._max_keys = max_keys

    def take(self, key: str) -> Decision:
        """Spend one token of `key`'s bucket if there is one."""
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= self._max_keys and key not in self._buckets:
            self._buckets.clear()  # bounded memory; forgetting buckets only ever lets calls through
        self._buckets[key] = (tokens, now)
        missing = self.burst - tokens
        return Decision(
            allowed=allowed,
            limit=self.burst,
            remaining=math.floor(tokens),
            retry_after=0.0 if allowed else (1.0 - tokens) / self.rate,
            reset_at=time.time() + missing / self.rate,
        )
