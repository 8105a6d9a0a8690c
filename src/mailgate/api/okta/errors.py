"""Error kinds as Okta's error object: code, summary, link, id and one cause per problem."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mailgate.api.okta.bodies import OKTA_NAMES
from mailgate.delivery.report import TestReport
from mailgate.errors import ApiError, Code, Internal, InvalidArgument, StaleEtag, TestFailed

VALIDATION = "E0000001"
UNAUTHORIZED = "E0000011"
FORBIDDEN = "E0000006"
NOT_FOUND = "E0000007"
METHOD_NOT_ALLOWED = "E0000022"
RATE_LIMITED = "E0000047"
INTERNAL = "E0000009"


@dataclass(frozen=True)
class _Kind:
    http_status: int
    code: str
    summary: str


_VALIDATION = _Kind(400, VALIDATION, "Api validation failed: {0}")
_INTERNAL = _Kind(500, INTERNAL, "Internal Server Error")
_KINDS = {
    Code.INVALID_ARGUMENT: _VALIDATION,
    Code.FAILED_PRECONDITION: _VALIDATION,  # e.g. MG-SECRET-REENTRY: the request must change
    # A concurrent change won (MG-CONFLICT); Okta has no code of its own for it.
    Code.ABORTED: _Kind(409, VALIDATION, "Api validation failed: {0}"),
    Code.UNAUTHENTICATED: _Kind(401, UNAUTHORIZED, "Invalid token provided"),
    Code.PERMISSION_DENIED: _Kind(
        403, FORBIDDEN, "You do not have permission to perform the requested action"
    ),
    Code.NOT_FOUND: _Kind(404, NOT_FOUND, "Not found: Resource not found: {0} (EmailServer)"),
    Code.UNIMPLEMENTED: _Kind(
        405, METHOD_NOT_ALLOWED, "The endpoint does not support the provided HTTP method"
    ),
    Code.RESOURCE_EXHAUSTED: _Kind(
        429, RATE_LIMITED, "API call exceeded rate limit due to too many requests."
    ),
    # The database cannot be reached (MG-UNAVAILABLE): Okta has no code of its own; 503 says retry.
    Code.UNAVAILABLE: _Kind(503, INTERNAL, "Service unavailable: {0}"),
}


def _causes(error: ApiError) -> list[str]:
    """One cause per invalid field (Okta's property names), else the error's message."""
    if isinstance(error, InvalidArgument) and error.violations:
        return [f"{OKTA_NAMES.get(v.field, v.field)}: {v.description}" for v in error.violations]
    return [error.message] if error.message else []


def _test_failure(report: TestReport, error: ApiError) -> tuple[str, list[str]]:
    """A failed test email: the stage, and the server's reply or what went wrong on our side."""
    stage_name = report.stage.value
    reply = f"{report.reply_code} {report.reply_text}".strip() if report.reply_code else ""
    summary = f"the test email failed at stage {stage_name}: {reply or report.detail or error.message}"
    causes = [f"stage: {stage_name}"]
    if reply:
        causes.append(f"server reply: {reply}")
    if report.detail:
        causes.append(f"detail: {report.detail}")
    causes.append(error.message)
    return summary, causes


def envelope(error: ApiError, resource: str = "") -> tuple[int, dict[str, object]]:
    """The HTTP status and Okta error object for a failed call; `resource` names what a 404 missed."""
    error_id = secrets.token_urlsafe(16)
    match error:
        case TestFailed(report=report):  # a test email that failed: the request's server does not work
            summary, causes = _test_failure(report, error)
            return 400, _body(VALIDATION, f"Api validation failed: {summary}", error_id, causes)
        case Internal(correlation_id=correlation):  # only an id to find the log line by
            return _INTERNAL.http_status, _body(_INTERNAL.code, _INTERNAL.summary, correlation, [])
        case StaleEtag(current_etag=current):
            # Okta has no code of its own for it; E0000001 is its "the endpoint's precondition was
            # violated". 412 as RFC 7232 answers a failed If-Match; the ETag header has the current tag.
            cause = f"If-Match: the email server's current ETag is {current}"
            summary = f"Api validation failed: {error.message}"
            return 412, _body(VALIDATION, summary, error_id, [cause])
    kind = _KINDS.get(error.code, _INTERNAL)
    causes = _causes(error)
    detail = resource if kind.code == NOT_FOUND else (causes[0] if causes else error.message)
    return kind.http_status, _body(kind.code, kind.summary.format(detail), error_id, causes)


def _body(code: str, summary: str, error_id: str, causes: list[str]) -> dict[str, object]:
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": error_id,
        "errorCauses": [{"errorSummary": cause} for cause in causes],
    }
