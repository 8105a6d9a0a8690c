"""Cross-replica cache invalidation on PostgreSQL: writers NOTIFY, every process LISTENs.

The caches' short lifetime already bounds staleness; this makes other replicas see a change at
once in the usual case. A lost listener connection clears every cache before listening again,
since notifications sent meanwhile are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger("mailgate.store")

CHANNEL = "mailgate_changes"
PROVIDERS = "providers"
TOKENS = "tokens"


async def announce(conn: AsyncConnection, what: str) -> None:
    """Tell every replica, when this transaction commits, that `what` changed (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_notify(:channel, :what)"), {"channel": CHANNEL, "what": what})


class ChangeListener:
    """Calls `on_change(what)` for each notification; `on_change(None)` when some may have been missed."""

    def __init__(self, dsn: str, on_change: Callable[[str | None], None]) -> None:
        self._dsn = dsn
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mailgate-change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("change listener cannot connect; retrying", extra={"error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            delay = 0.5
            try:
                await self._listen(conn)
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _listen(self, conn: asyncpg.Connection) -> None:
        """Deliver notifications until the connection is lost."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._on_change(payload))
        self._on_change(None)  # anything sent before we listened is unknown
        self.listening.set()
        await lost.wait()
