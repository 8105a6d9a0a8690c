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

from mailgate.errors import ApiError, Conflict, Internal, Unavailable
from mailgate.store import faults, integrity
from mailgate.store.faults import loggable

log = logging.getLogger("mailgate.calls")

CONFLICT_ID = "MG-CONFLICT"
CONFLICT_TEXT = "a concurrent change to this instance won; retry the call"
UNAVAILABLE_ID = "MG-UNAVAILABLE"
UNAVAILABLE_TEXT = "the database cannot be reached or is overloaded; retry the call later"
_RETRYABLE_SQLSTATES = {"40001": "serialization failure", "40P01": "deadlock detected"}


def classify(exc: BaseException, method: str) -> ApiError:
    """The error to answer for `exc`, logged: races and outages as warnings, faults as errors."""
    reason = _conflict_reason(exc)
    if reason is not None:
        log.warning("conflict: a concurrent change won", extra={"method": method, "reason": reason})
        return Conflict(CONFLICT_ID, CONFLICT_TEXT)
    outage = faults.outage(exc)
    if outage is not None:
        log.warning("database unavailable", extra={"method": method, "reason": outage})
        return Unavailable(UNAVAILABLE_ID, UNAVAILABLE_TEXT)
    correlation = secrets.token_hex(8)
    extra: dict[str, str | None] = {"method": method, "correlation_id": correlation}
    if isinstance(exc, IntegrityError):
        extra["constraint"] = integrity.violated_constraint(exc)
    log.error("unexpected failure", exc_info=loggable(exc), extra=extra)
    return Internal(correlation)


def _conflict_reason(exc: BaseException) -> str | None:
    """Why `exc` is a race a retry resolves (a constraint name, a lock, a serialization failure), or None."""
    if isinstance(exc, IntegrityError):
        constraint = integrity.violated_constraint(exc)
        return constraint if constraint in integrity.RACES else None
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        return "database is locked"  # SQLite's busy timeout ran out
    if isinstance(exc, DBAPIError):
        return _RETRYABLE_SQLSTATES.get(faults.sqlstate(exc))
    return None
