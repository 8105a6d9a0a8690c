"""store/tables.py names exactly what the migrations build, on SQLite and PostgreSQL.

Alembic's autogenerate comparison finds tables, columns, types, nullability, indexes and unique
constraints that differ; it ignores partial-index predicates, and SQLite's unnamed unique
constraints, so those are compared here too.
Server defaults are not compared on purpose: 0002 gives its new columns server defaults to fill
the rows that exist when it runs, while tables.py gives them Python defaults for new rows.
"""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import UniqueConstraint, inspect
from sqlalchemy.engine import Connection

from mailgate.config import Settings
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from mailgate.store.tables import metadata


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
    return list(compare_metadata(context, metadata))


def _normalized(table: str, predicate: object) -> str | None:
    if predicate is None:
        return None
    return re.sub(r"[\s()]", "", str(predicate).replace(f"{table}.", "")).lower()


def _built_predicates(conn: Connection) -> dict[str, str | None]:
    """Each index of the database with its WHERE clause (None for a full index)."""
    where = f"{conn.dialect.name}_where"
    inspector = inspect(conn)
    return {
        index["name"]: _normalized(table, index.get("dialect_options", {}).get(where))
        for table in metadata.tables
        for index in inspector.get_indexes(table)
        if not index.get("duplicates_constraint")  # PostgreSQL lists a unique constraint's index too
    }


def _declared_predicates(conn: Connection) -> dict[str, str | None]:
    """Each index tables.py declares, with its WHERE clause for this database's dialect."""
    declared = {}
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options[conn.dialect.name]["where"]
            text = None
            if where is not None:
                text = str(where.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            declared[str(index.name)] = _normalized(table.name, text)
    return declared


def _built_unique(conn: Connection) -> dict[str, set[tuple[str, ...]]]:
    """Each table's unique constraints, as their column lists."""
    inspector = inspect(conn)
    return {
        table: {tuple(found["column_names"]) for found in inspector.get_unique_constraints(table)}
        for table in metadata.tables
    }


def _declared_unique() -> dict[str, set[tuple[str, ...]]]:
    return {
        name: {
            tuple(column.name for column in constraint.columns)
            for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)
        }
        for name, table in metadata.tables.items()
    }


async def test_tables_py_is_what_the_migrations_build(empty_env: dict[str, str]) -> None:
    db = Database(Settings.from_env(empty_env))
    try:
        await migrate(db)
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(_differences)
            built = await conn.run_sync(_built_predicates)
            declared = await conn.run_sync(_declared_predicates)
            built_unique = await conn.run_sync(_built_unique)
    finally:
        await db.close()

    assert differences == []
    assert built == declared
    assert declared["one_active_provider_per_instance"] == "state=1"
    assert built_unique == _declared_unique()
