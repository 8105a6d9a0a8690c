"""What can go wrong, in transport-neutral terms: error kinds with ZITADEL's error id and English text.

Every exception mailgate raises on purpose derives from MailgateError. The kinds under ApiError are
what a caller is told; each API's encoder turns them into its wire form (`api/status.py`: a
google.rpc.Status for ZITADEL's API and mailgate.v1 on every transport; `api/okta/errors.py`: Okta's
error object). Nothing here knows gRPC, HTTP or protobuf.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailgate.delivery.report import Stage, TestReport


class Code(enum.IntEnum):
    """The canonical error codes, numbered as google.rpc.Code; encoders map them to HTTP or Okta."""

    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    UNAUTHENTICATED = 16


class MailgateError(Exception):
    """The base of every exception mailgate raises on purpose."""


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field: its path in the request ("xoauth2.scopes[0]") and why it is invalid.

    `message` is the one-line form an API shows when this is the first violation (ZITADEL's
    "invalid AddEmailProviderSMTPRequest.Host: ..."); by default "<field>: <description>".
    """

    field: str
    description: str
    message: str = ""

    @property
    def summary(self) -> str:
        return self.message or f"{self.field}: {self.description}"


class ApiError(MailgateError):
    """An error a caller is told about: its kind's code, ZITADEL's error id (or None) and English text.

    With an id the message reads "<text> (<id>)", as ZITADEL writes it.
    """

    code: Code = Code.UNKNOWN

    def __init__(self, error_id: str | None, text: str) -> None:
        super().__init__(f"{text} ({error_id})" if error_id else text)
        self.error_id = error_id
        self.text = text

    @property
    def message(self) -> str:
        return str(self)


class NotFound(ApiError):
    code = Code.NOT_FOUND


class InvalidArgument(ApiError):
    """A request that can never succeed as it is; `violations` names every invalid field."""

    code = Code.INVALID_ARGUMENT

    def __init__(self, error_id: str | None, text: str, violations: Sequence[FieldViolation] = ()) -> None:
        super().__init__(error_id, text)
        self.violations = tuple(violations)

    @classmethod
    def fields(cls, violations: Sequence[FieldViolation]) -> InvalidArgument:
        """Validation errors: the first violation's one-line message, every violation listed, no id."""
        return cls(None, violations[0].summary, violations)


class FailedPrecondition(ApiError):
    """The request is valid, but the state it meets (or a policy) does not allow it."""

    code = Code.FAILED_PRECONDITION


class Conflict(ApiError):
    """A concurrent change won; the same call may succeed when retried."""

    code = Code.ABORTED


class StaleEtag(ApiError):
    """A write's precondition named another version of the provider than its current one; nothing
    changed. `current_etag` is the etag to read again (or to retry with, knowingly)."""

    code = Code.ABORTED

    def __init__(self, current_etag: str) -> None:
        super().__init__(STALE_ETAG_ID, "precondition failed: the provider changed since it was read")
        self.current_etag = current_etag


STALE_ETAG_ID = "MG-ETAG-MISMATCH"


class RateLimited(ApiError):
    """Too many calls of this kind; `retry_after` seconds until one more is allowed."""

    code = Code.RESOURCE_EXHAUSTED

    def __init__(self, error_id: str | None, text: str, retry_after: float) -> None:
        super().__init__(error_id, text)
        self.retry_after = retry_after


class DeadlineExceeded(ApiError):
    code = Code.DEADLINE_EXCEEDED


class Unauthenticated(ApiError):
    code = Code.UNAUTHENTICATED


class PermissionDenied(ApiError):
    code = Code.PERMISSION_DENIED


class Unimplemented(ApiError):
    """No such method (or not with this HTTP method)."""

    code = Code.UNIMPLEMENTED


class Unavailable(ApiError):
    """Something mailgate needs (its database) cannot be reached now; retrying later may succeed."""

    code = Code.UNAVAILABLE


class Internal(ApiError):
    """An unexpected fault: the caller gets only the correlation id, the log has the rest."""

    code = Code.INTERNAL

    def __init__(self, correlation_id: str) -> None:
        super().__init__(None, f"internal error (correlation id {correlation_id})")
        self.correlation_id = correlation_id


class TestFailed(ApiError):
    """A test email that failed: ZITADEL's code, id and text for the stage, and mailgate's report."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, code: Code, error_id: str | None, text: str, report: TestReport) -> None:
        super().__init__(error_id, text)
        self.code = code
        self.report = report

    @property
    def stage(self) -> Stage:
        """The stage the test email failed at."""
        return self.report.stage


def not_found(error_id: str, text: str = "SMTP configuration not found") -> NotFound:
    return NotFound(error_id, text)


def invalid(error_id: str, text: str) -> InvalidArgument:
    return InvalidArgument(error_id, text)


def precondition(error_id: str, text: str) -> FailedPrecondition:
    return FailedPrecondition(error_id, text)
