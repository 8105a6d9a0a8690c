"""The retention sweep, run in every process with workers; the store's lock lets one sweep at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from mailgate.store.clock import now_us
from mailgate.store.retention import Retention

log = logging.getLogger("mailgate.delivery")

SWEEP_EVERY = 600.0  # seconds: retention is measured in hours and days


class RetentionSweeper:
    """Sweeps at start and then every `every` seconds until stopped."""

    def __init__(
        self, retention: Retention, every: float = SWEEP_EVERY, clock: Callable[[], int] = now_us
    ) -> None:
        self._retention = retention
        self._every = every
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                swept = await self._retention.sweep(self._clock())
            except Exception as exc:  # the next sweep tries again
                log.warning("retention sweep failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            else:
                if swept.bodies or swept.messages or swept.events:
                    log.info(
                        "retention sweep",
                        extra={
                            "bodies_deleted": swept.bodies,
                            "messages_deleted": swept.messages,
                            "history_events_deleted": swept.events,
                        },
                    )
            await asyncio.sleep(self._every)
