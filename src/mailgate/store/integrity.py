"""Which integrity violations are races that a retry resolves, named alike on SQLite and PostgreSQL.

Only a unique constraint that a concurrent writer can violate is a race. Any other violation (NOT
NULL, a foreign key, a check, a constraint this module does not know) is a fault in mailgate or
its schema: retrying would fail the same way, so callers must not be told to retry.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from mailgate.store.tables import ONE_ACTIVE_INDEX, instances, metadata, providers

_UNIQUE_VIOLATION = "23505"
# Two activations in different transactions, or two inserts that drew the same provider id (its
# random part is 22 bits per millisecond); the first insert of an instance's row (begin_change
# already absorbs that one, but a retry would resolve it too).
RACES = frozenset({ONE_ACTIVE_INDEX, f"{providers.name}_pkey", f"{instances.name}_pkey"})
_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
_SQLITE_PREFIX = "UNIQUE constraint failed: "


def _sqlite_names() -> dict[str, str]:
    """SQLite names a violated unique index by its columns: those columns -> PostgreSQL's name.

    PostgreSQL's default names: `<table>_pkey`, `<table>_<column>_key`; indexes keep their own.
    """
    names: dict[str, str] = {}

    def columns(table_name: str, column_names: list[str]) -> str:
        return ", ".join(f"{table_name}.{name}" for name in column_names)

    for table in metadata.tables.values():
        names[columns(table.name, [c.name for c in table.primary_key.columns])] = f"{table.name}_pkey"
        for column in table.columns:
            if column.unique:
                names[columns(table.name, [column.name])] = f"{table.name}_{column.name}_key"
        for index in table.indexes:
            if index.unique and index.name:
                names[columns(table.name, [c.name for c in index.columns])] = index.name
    return names


_SQLITE_NAMES = _sqlite_names()


def violated_constraint(error: IntegrityError) -> str | None:
    """The unique constraint `error` violated, by its PostgreSQL name on either backend; else None."""
    orig = error.orig
    errorname = getattr(orig, "sqlite_errorname", None)
    if errorname is not None:
        message = str(orig)
        if errorname not in _SQLITE_UNIQUE or not message.startswith(_SQLITE_PREFIX):
            return None
        named = message.removeprefix(_SQLITE_PREFIX)
        if named.startswith("index '") and named.endswith("'"):  # an index on expressions
            return named[len("index '") : -1]
        return _SQLITE_NAMES.get(named)
    if getattr(orig, "sqlstate", None) != _UNIQUE_VIOLATION:
        return None
    # SQLAlchemy's asyncpg adapter raises its own error from asyncpg's, which has the name.
    name = getattr(orig.__cause__, "constraint_name", None) if orig is not None else None
    return name if isinstance(name, str) else None
