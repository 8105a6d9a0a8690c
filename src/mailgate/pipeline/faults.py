"""An exception no layer expected, as the error its caller is told; every one is logged.

Three answers: a database race that a retry resolves (Conflict), a database that cannot be reached
or is overloaded (Unavailable), and anything else (Internal: a correlation id for the caller, the
traceback for the log). Telling them apart matters: a client retries the first two and must not
retry a fault forever.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mailgate.errors import ApiError, Conflict, Internal, Unavailable
from mailgate.store import integrity
from mailgate.store.database import DatabaseUnreachable
from mailgate.store.faults import loggable

log = logging.getLogger("mailgate.calls")

CONFLICT_ID = "MG-CONFLICT"
CONFLICT_TEXT = "a concurrent change to this instance won; retry the call"
UNAVAILABLE_ID = "MG-UNAVAILABLE"
UNAVAILABLE_TEXT = "the database cannot be reached or is overloaded; retry the call later"
_RETRYABLE_SQLSTATES = {"40001": "serialization failure", "40P01": "deadlock detected"}
# PostgreSQL's "connection exception" class, too many connections, and a server shutting down or
# starting up: the database is not there for this call, the call itself is fine.
_UNAVAILABLE_SQLSTATES = {"53300", "57P01", "57P02", "57P03"}


def classify(exc: BaseException, method: str) -> ApiError:
    """The error to answer for `exc`, logged: races and outages as warnings, faults as errors."""
    reason = _conflict_reason(exc)
    if reason is not None:
        log.warning("conflict: a concurrent change won", extra={"method": method, "reason": reason})
        return Conflict(CONFLICT_ID, CONFLICT_TEXT)
    outage = _outage(exc)
    if outage is not None:
        log.warning("database unavailable", extra={"method": method, "reason": outage})
        return Unavailable(UNAVAILABLE_ID, UNAVAILABLE_TEXT)
    correlation = secrets.token_hex(8)
    extra: dict[str, str | None] = {"method": method, "correlation_id": correlation}
    if isinstance(exc, IntegrityError):
        extra["constraint"] = integrity.violated_constraint(exc)
    log.error("unexpected failure", exc_info=loggable(exc), extra=extra)
    return Internal(correlation)


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")


def _conflict_reason(exc: BaseException) -> str | None:
    """Why `exc` is a race a retry resolves (a constraint name, a lock, a serialization failure), or None."""
    if isinstance(exc, IntegrityError):
        constraint = integrity.violated_constraint(exc)
        return constraint if constraint in integrity.RACES else None
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        return "database is locked"  # SQLite's busy timeout ran out
    if isinstance(exc, DBAPIError):
        return _RETRYABLE_SQLSTATES.get(_sqlstate(exc))
    return None


def _outage(exc: BaseException) -> str | None:
    """Why the database is not there for this call (no connection, too many, shutting down), or None."""
    if isinstance(exc, PoolTimeout):
        return "no database connection became free in time"
    if isinstance(exc, DatabaseUnreachable):
        return str(exc)
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = _sqlstate(exc)
    if exc.connection_invalidated or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES:
        return f"{type(exc.orig).__name__} (sqlstate {sqlstate or 'none'})"
    return None
