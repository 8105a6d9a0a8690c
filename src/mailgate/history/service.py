"""Reading the history: bounded windows, and a watch that catches up from the table, then follows."""

from __future__ import annotations

from collections.abc import AsyncIterator

from mailgate.history.bell import Bell
from mailgate.history.events import Event
from mailgate.history.query import HistoryFilter, HistoryRange
from mailgate.store import history as rows
from mailgate.store.database import Database

WATCH_BATCH = 100
# A watcher looks again this often even without a ring: a NOTIFY lost with a dropped listener
# connection delays an event by at most this much, it never loses one.
WATCH_POLL_SECONDS = 2.0


class HistoryLog:
    """The instances' events as readers see them; every read is bounded by its window's limit."""

    def __init__(self, db: Database, bell: Bell) -> None:
        self._db = db
        self.bell = bell
        self._closed = False

    def close(self) -> None:
        """End every watch (the server is stopping): each returns at its next look."""
        self._closed = True
        self.bell.ring()

    async def window(self, instance_id: str, where: HistoryFilter, span: HistoryRange) -> list[Event]:
        async with self._db.read() as conn:
            return await rows.window(conn, instance_id, where, span)

    async def watch(self, instance_id: str, where: HistoryFilter, after: int) -> AsyncIterator[Event]:
        """Every matching event after sequence `after`, in order, then each new one as it commits.

        Events of one instance commit in sequence order (the instance's row orders writers), so
        reading "after the last one seen" from the table never skips one. A client that goes away
        ends the generator at its next await; nothing is held for it in between.
        """
        while not self._closed:
            batch = await self.window(instance_id, where, HistoryRange(WATCH_BATCH, True, after=after))
            for event in batch:
                yield event
                after = event.sequence
            if len(batch) < WATCH_BATCH and not self._closed:
                await self.bell.wait(WATCH_POLL_SECONDS)
