"""Apply Alembic migrations, from `mailgate migrate` and at every start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from mailgate.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every mailgate process sharing a database.
_PG_MIGRATION_LOCK = 0x6D61696C67617465


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(db: Database) -> bool:
    """Bring the schema to the newest revision; replicas starting together take turns.

    True when the database was new (no schema at all): the caller tells the user it made one.
    """
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        try:
            fresh = await conn.run_sync(_upgrade)
            await conn.commit()
        finally:
            if not db.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                await conn.commit()
    return fresh


def _upgrade(connection: Connection) -> bool:
    """Upgrade to head; True if there was no schema before."""
    fresh = MigrationContext.configure(connection).get_current_revision() is None
    command.upgrade(alembic_config(connection), "head")
    return fresh
