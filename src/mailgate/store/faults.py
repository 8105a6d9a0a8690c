"""Database errors as a log may show them: what failed and where, never a value from a row.

PostgreSQL quotes row values in its errors ("DETAIL: Failing row contains (...)", "Key (id)=(...)",
"invalid input syntax for type integer: ..."), and SQLAlchemy puts that text in the exception.
Bound parameters are hidden by the engine (hide_parameters); this hides the server's own quotes.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mailgate.errors import MailgateError
from mailgate.store.database import DatabaseUnreachable

# asyncpg's attributes that name (never quote) what an error is about.
_NAMES = ("sqlstate", "constraint_name", "table_name", "column_name")


class DatabaseFault(MailgateError):
    """A database error without its server text: driver error class, names and the statement."""


def loggable(exc: BaseException) -> BaseException:
    """`exc` itself, or for a database error a stand-in with the same traceback and no quoted values."""
    if not isinstance(exc, DBAPIError):
        return exc
    orig = exc.orig
    names = [f"{name} {value}" for name in _NAMES if (value := getattr(orig, name, None))]
    sqlite = getattr(orig, "sqlite_errorname", None)
    if sqlite is not None:
        # SQLite's constraint messages name tables and columns, not values.
        names.append(f"{sqlite}: {orig}")
    text = f"{type(orig).__name__} ({'; '.join(names) or 'no details'}) in: {exc.statement}"
    return DatabaseFault(text).with_traceback(exc.__traceback__)


# PostgreSQL's "connection exception" class (08...), too many connections, and a server shutting
# down or starting up: the database is not there for this work; the work itself is fine.
_UNAVAILABLE_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03"})


def sqlstate(exc: DBAPIError) -> str:
    """The SQLSTATE of a PostgreSQL error ("" for SQLite's)."""
    return str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")


def outage(exc: BaseException) -> str | None:
    """Why the database is not there (no connection, none free, too many, shutting down), or None."""
    if isinstance(exc, PoolTimeout):
        return "no database connection became free in time"
    if isinstance(exc, DatabaseUnreachable):
        return str(exc)
    if not isinstance(exc, DBAPIError):
        return None
    state = sqlstate(exc)
    if exc.connection_invalidated or state.startswith("08") or state in _UNAVAILABLE_SQLSTATES:
        return f"{type(exc.orig).__name__} (sqlstate {state or 'none'})"
    return None
