"""The instances' delivery routes (`instances.delivery_route`): the provider each instance's
messages are being sent through, moved with its failover or failback event in one transaction.

The move locks the instance's row (the history's chain head is on it too) and decides from what is
stored then, so of several replicas that see the same switch exactly one records it, once, and one
whose view of the breakers is stale records nothing. One write per switch, never one per message.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.history.actor import SYSTEM
from mailgate.history.events import Draft
from mailgate.outbox.switches import Keep, Move, switch
from mailgate.store import history
from mailgate.store.database import Database
from mailgate.store.health import read_breakers
from mailgate.store.tables import instances


async def reset_route(conn: AsyncConnection, instance_id: str) -> None:
    """Forget the instance's route (its active provider or fallbacks changed): the next message
    sets it afresh, counting from the first candidate."""
    await conn.execute(update(instances).where(instances.c.id == instance_id).values(delivery_route=None))


class RouteStore:
    """Moves an instance's route when the router sends its messages elsewhere."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def move(self, instance_id: str, to: str, order: tuple[str, ...]) -> Draft | None:
        """Make `to` the instance's route (`order`: its candidates as the router saw them) unless it
        is already, or the stored breakers say otherwise; the event recorded with it, if any."""
        async with self._db.write() as conn:
            query = select(instances.c.delivery_route).where(instances.c.id == instance_id)
            if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE holds the write lock
                query = query.with_for_update()
            found = (await conn.execute(query)).first()
            if found is None or found[0] == to:
                return None
            match switch(found[0], to, order, await read_breakers(conn, instance_id, order)):
                case Keep():
                    return None
                case Move(event=event):
                    await conn.execute(
                        update(instances).where(instances.c.id == instance_id).values(delivery_route=to)
                    )
                    if event is not None:
                        await history.append(conn, instance_id, SYSTEM, [event])
                    return event
