"""Retention: a finished message's bodies go after one bound, its row and attempts after a longer one.

Only final messages (sent, failed, expired, canceled: `final_us` set) are touched. The work is done
in small transactions so a large backlog never holds locks for long; on PostgreSQL each batch takes
a transaction-scoped advisory lock first, so one replica sweeps at a time and the others skip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.store import history
from mailgate.store.database import Database
from mailgate.store.tables import attempts, messages

BATCH = 500
_LOCK = 0x6D61696C67617465  # "mailgate": the advisory lock of the retention sweep


@dataclass(frozen=True)
class Swept:
    bodies: int  # messages whose bodies were deleted
    messages: int  # messages deleted with their attempts
    skipped: bool = False  # another replica was sweeping
    events: int = 0  # history events older than the history retention


class Retention:
    """Sweeps the outbox: bodies older than `bodies_us` since final, rows older than `rows_us`."""

    def __init__(
        self, db: Database, bodies_us: int, rows_us: int, batch: int = BATCH, history_us: int | None = None
    ) -> None:
        self._db = db
        self._bodies_us = bodies_us
        self._rows_us = rows_us
        self._history_us = history_us
        self._batch = batch
        # Bodies of messages final before this were all deleted by an earlier sweep of this process,
        # so later sweeps do not read those rows again.
        self._bodies_done_us = 0

    async def sweep(self, now_us: int) -> Swept:
        """Delete what retention allows, batch by batch, until nothing is left (or another sweeps)."""
        bodies = rows = 0
        body_cutoff = now_us - self._bodies_us
        while True:
            count = await self._batch_of(self._clear_bodies, body_cutoff)
            if count is None:
                return Swept(bodies, rows, skipped=True)
            bodies += count
            if count < self._batch:
                break
        self._bodies_done_us = body_cutoff
        while True:
            count = await self._batch_of(self._delete_rows, now_us - self._rows_us)
            if count is None:
                return Swept(bodies, rows, skipped=True)
            rows += count
            if count < self._batch:
                break
        events = await self._sweep_history(now_us)
        return Swept(bodies, rows, skipped=events is None, events=events or 0)

    async def _sweep_history(self, now_us: int) -> int | None:
        """Delete each instance's events older than the history retention, oldest first, moving the
        instance's anchor along (so `history verify` starts at the oldest event kept)."""
        if self._history_us is None:
            return 0
        cutoff = now_us - self._history_us
        async with self._db.read() as conn:
            instance_ids = await history.instance_ids(conn)
        deleted = 0
        for instance_id in instance_ids:
            while True:
                async with self._db.write() as conn:
                    if not await self._locked(conn):
                        return None
                    count = await history.delete_before(conn, instance_id, cutoff, self._batch)
                deleted += count
                if count < self._batch:
                    break
        return deleted

    async def _batch_of(
        self, step: Callable[[AsyncConnection, int], Awaitable[int]], cutoff: int
    ) -> int | None:
        """`step`'s count in one transaction, or None when another replica holds the sweep's lock."""
        async with self._db.write() as conn:
            if not await self._locked(conn):
                return None
            return await step(conn, cutoff)

    @staticmethod
    async def _locked(conn: AsyncConnection) -> bool:
        if conn.dialect.name != "postgresql":
            return True  # SQLite: the write lock taken at BEGIN already excludes every other writer
        return bool(await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK}))

    async def _clear_bodies(self, conn: AsyncConnection, cutoff: int) -> int:
        keys = (
            select(messages.c.instance_id, messages.c.id)
            .where(
                messages.c.final_us > self._bodies_done_us,
                messages.c.final_us <= cutoff,
                or_(messages.c.text_sealed.isnot(None), messages.c.html_sealed.isnot(None)),
            )
            .limit(self._batch)
        )
        found = [tuple(key) for key in await conn.execute(keys)]
        if found:
            await conn.execute(
                update(messages)
                .where(tuple_(messages.c.instance_id, messages.c.id).in_(found))
                .values(text_sealed=None, html_sealed=None)
            )
        return len(found)

    async def _delete_rows(self, conn: AsyncConnection, cutoff: int) -> int:
        keys = (
            select(messages.c.instance_id, messages.c.id)
            .where(messages.c.final_us <= cutoff)
            .limit(self._batch)
        )
        found = [tuple(key) for key in await conn.execute(keys)]
        if found:
            await conn.execute(
                delete(attempts).where(tuple_(attempts.c.instance_id, attempts.c.message_id).in_(found))
            )
            await conn.execute(
                delete(messages).where(tuple_(messages.c.instance_id, messages.c.id).in_(found))
            )
        return len(found)
