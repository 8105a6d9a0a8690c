"""Every way a call can fail, as a google.rpc.Status in ZITADEL's form."""

from __future__ import annotations

import logging
import secrets

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from mailgate.errors import ApiError
from mailgate.gen.zitadel import message_pb2
from mailgate.pipeline.validation import ValidationFailed
from mailgate.store import integrity
from mailgate.store.faults import loggable

log = logging.getLogger("mailgate.calls")

OK = status_pb2.Status(code=code_pb2.OK)
CONFLICT_ID = "MG-CONFLICT"
CONFLICT_TEXT = "a concurrent change to this instance won; retry the call"
UNDECODABLE_TEXT = "the request message cannot be parsed"
_RETRYABLE_SQLSTATES = {"40001": "serialization failure", "40P01": "deadlock detected"}


def _status(code: grpc.StatusCode, message: str, details: list[Message]) -> status_pb2.Status:
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return status_pb2.Status(code=code.value[0], message=message, details=packed)


def from_api_error(error: ApiError) -> status_pb2.Status:
    """ "<text> (<id>)" with a zitadel.v1.ErrorDetail first, then any details of our own."""
    details: list[Message] = []
    if error.error_id:
        details.append(message_pb2.ErrorDetail(id=error.error_id, message=error.text))
    details.extend(error.details)
    return _status(error.code, error.message, details)


def from_validation(error: ValidationFailed) -> status_pb2.Status:
    """The first violation's one-line message, and a BadRequest naming every violated field."""
    return _status(grpc.StatusCode.INVALID_ARGUMENT, str(error), [error.bad_request()])


def deadline_exceeded() -> status_pb2.Status:
    return _status(grpc.StatusCode.DEADLINE_EXCEEDED, "the call's deadline passed before it finished", [])


def undecodable() -> status_pb2.Status:
    """The request's bytes are not a message of the method's request type."""
    return _status(grpc.StatusCode.INVALID_ARGUMENT, UNDECODABLE_TEXT, [])


def from_unexpected(exc: BaseException, method: str) -> status_pb2.Status:
    """Database races a retry resolves become ABORTED; anything else INTERNAL with only a correlation id.

    Both are logged: a storm of conflicts must be visible, and a fault needs its traceback.
    """
    reason = _conflict_reason(exc)
    if reason is not None:
        log.warning("conflict: a concurrent change won", extra={"method": method, "reason": reason})
        return from_api_error(ApiError(grpc.StatusCode.ABORTED, CONFLICT_ID, CONFLICT_TEXT))
    correlation = secrets.token_hex(8)
    extra: dict[str, str | None] = {"method": method, "correlation_id": correlation}
    if isinstance(exc, IntegrityError):
        extra["constraint"] = integrity.violated_constraint(exc)
    log.error("unexpected failure", exc_info=loggable(exc), extra=extra)
    info = error_details_pb2.RequestInfo(request_id=correlation)
    return _status(grpc.StatusCode.INTERNAL, f"internal error (correlation id {correlation})", [info])


def _conflict_reason(exc: BaseException) -> str | None:
    """Why `exc` is a race a retry resolves (a constraint name, a lock, a serialization failure), or None."""
    if isinstance(exc, IntegrityError):
        constraint = integrity.violated_constraint(exc)
        return constraint if constraint in integrity.RACES else None
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        return "database is locked"  # SQLite's busy timeout ran out
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return _RETRYABLE_SQLSTATES.get(str(sqlstate))
    return None
