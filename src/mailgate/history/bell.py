"""Wakes watchers when events were committed, in this process or (via NOTIFY) another."""

from __future__ import annotations

import asyncio
import contextlib


class Bell:
    """`ring` wakes every current `wait`; a waiter that misses a ring re-reads the table anyway."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def ring(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, seconds: float) -> None:
        """Until the next ring, or `seconds` (a watcher then looks again regardless)."""
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()
