"""A call's google.rpc.Status as Okta's error object: code, summary, link, id and one cause per problem."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

from mailgate.gen.mailgate.v1.smtp_test_report_pb2 import SmtpTestReport, SmtpTestStage
from mailgate.transports.okta.wire import OKTA_NAMES

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
    code_pb2.INVALID_ARGUMENT: _VALIDATION,
    code_pb2.FAILED_PRECONDITION: _VALIDATION,  # e.g. MG-SECRET-REENTRY: the request must change
    code_pb2.OUT_OF_RANGE: _VALIDATION,
    # A concurrent change won (MG-CONFLICT); Okta has no code of its own for it.
    code_pb2.ABORTED: _Kind(409, VALIDATION, "Api validation failed: {0}"),
    code_pb2.UNAUTHENTICATED: _Kind(401, UNAUTHORIZED, "Invalid token provided"),
    code_pb2.PERMISSION_DENIED: _Kind(
        403, FORBIDDEN, "You do not have permission to perform the requested action"
    ),
    code_pb2.NOT_FOUND: _Kind(404, NOT_FOUND, "Not found: Resource not found: {0} (EmailServer)"),
    code_pb2.UNIMPLEMENTED: _Kind(
        405, METHOD_NOT_ALLOWED, "The endpoint does not support the provided HTTP method"
    ),
    code_pb2.RESOURCE_EXHAUSTED: _Kind(
        429, RATE_LIMITED, "API call exceeded rate limit due to too many requests."
    ),
}


def _details(status: status_pb2.Status, kind: type[Message]) -> list[Any]:
    found = []
    for item in status.details:
        if item.Is(kind.DESCRIPTOR):
            message = kind()
            item.Unpack(message)
            found.append(message)
    return found


def _causes(status: status_pb2.Status) -> list[str]:
    """One cause per invalid field (Okta's property names), else the status message."""
    [request, *_] = _details(status, error_details_pb2.BadRequest) or [None]
    if request is not None:
        return [f"{OKTA_NAMES.get(v.field, v.field)}: {v.description}" for v in request.field_violations]
    return [status.message] if status.message else []


def _test_failure(report: SmtpTestReport, status: status_pb2.Status) -> tuple[str, list[str]]:
    """A failed test email: the stage, and the server's reply or what went wrong on our side."""
    stage_name = SmtpTestStage.Name(report.stage).removeprefix("SMTP_TEST_STAGE_").lower()
    reply = f"{report.reply_code} {report.reply_text}".strip() if report.reply_code else ""
    summary = f"the test email failed at stage {stage_name}: {reply or report.detail or status.message}"
    causes = [f"stage: {stage_name}"]
    if reply:
        causes.append(f"server reply: {reply}")
    if report.detail:
        causes.append(f"detail: {report.detail}")
    causes.append(status.message)
    return summary, causes


def envelope(status: status_pb2.Status, resource: str = "") -> tuple[int, dict[str, Any]]:
    """The HTTP status and Okta error object for a failed call; `resource` names what a 404 missed."""
    error_id = secrets.token_urlsafe(16)
    reports = _details(status, SmtpTestReport)
    if reports:  # a test email that failed: the request's server does not work, not ours
        summary, causes = _test_failure(reports[0], status)
        return 400, _body(VALIDATION, f"Api validation failed: {summary}", error_id, causes)
    kind = _KINDS.get(status.code)
    if kind is None:  # unexpected: only an id to find the log line by, never the fault itself
        infos = _details(status, error_details_pb2.RequestInfo)
        if infos and infos[0].request_id:
            error_id = infos[0].request_id
        return _INTERNAL.http_status, _body(_INTERNAL.code, _INTERNAL.summary, error_id, [])
    causes = _causes(status)
    detail = resource if kind.code == NOT_FOUND else (causes[0] if causes else status.message)
    return kind.http_status, _body(kind.code, kind.summary.format(detail), error_id, causes)


def _body(code: str, summary: str, error_id: str, causes: list[str]) -> dict[str, Any]:
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": error_id,
        "errorCauses": [{"errorSummary": cause} for cause in causes],
    }
