"""The instances' ordered fallback providers, written inside a provider write (`store.providers`),
whose instance lock orders them after (or before) a concurrent removal of one of them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.store.tables import fallbacks


async def read_fallbacks(conn: AsyncConnection, instance_id: str) -> tuple[str, ...]:
    """The instance's fallback provider ids, in order."""
    rows = await conn.execute(
        select(fallbacks.c.provider_id)
        .where(fallbacks.c.instance_id == instance_id)
        .order_by(fallbacks.c.position)
    )
    return tuple(rows.scalars())


async def replace_fallbacks(conn: AsyncConnection, instance_id: str, provider_ids: Iterable[str]) -> None:
    await conn.execute(delete(fallbacks).where(fallbacks.c.instance_id == instance_id))
    rows = [
        {"instance_id": instance_id, "position": position, "provider_id": provider_id}
        for position, provider_id in enumerate(provider_ids)
    ]
    if rows:
        await conn.execute(insert(fallbacks), rows)


async def drop_fallback(conn: AsyncConnection, instance_id: str, provider_id: str) -> None:
    """Take a removed provider out of the instance's list (the others keep their order)."""
    await conn.execute(
        delete(fallbacks).where(
            fallbacks.c.instance_id == instance_id, fallbacks.c.provider_id == provider_id
        )
    )
