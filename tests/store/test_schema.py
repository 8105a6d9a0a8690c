"""The database itself keeps "at most one active provider per instance", on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from mailgate.config import Settings
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from mailgate.store.tables import providers


def _row(provider_id: str, state: int) -> dict[str, object]:
    return {
        "instance_id": "schema-test",
        "id": provider_id,
        "kind": "http",
        "state": state,
        "description": "",
        "creation_sequence": 1,
        "sequence": 1,
        "created_us": 0,
        "changed_us": 0,
        "endpoint": "https://relay.example.com",
    }


async def test_second_active_provider_is_refused_by_the_database(settings_env):
    db = Database(Settings.from_env(settings_env))
    try:
        await migrate(db)
        await migrate(db)  # idempotent: a second start finds nothing to do
        async with db.write() as conn:
            await conn.execute(insert(providers).values([_row("a", 1), _row("b", 2)]))
        with pytest.raises(IntegrityError):
            async with db.write() as conn:
                await conn.execute(update(providers).where(providers.c.id == "b").values(state=1))
        async with db.read() as conn:
            rows = await conn.execute(
                select(providers.c.id, providers.c.state).where(providers.c.instance_id == "schema-test")
            )
            states = dict(rows.all())
        assert states == {"a": 1, "b": 2}
    finally:
        await db.close()
