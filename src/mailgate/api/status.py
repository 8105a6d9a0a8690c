"""Error kinds as google.rpc.Status, in ZITADEL's form: ZITADEL's API and mailgate.v1, every transport.

The message is "<English text> (<id>)" and the first detail a zitadel.v1.ErrorDetail with the same
id; validation errors carry a google.rpc.BadRequest naming every field instead (ZITADEL sends no
ErrorDetail for them); then what mailgate adds: RetryInfo, RequestInfo (a fault's correlation id)
or the SmtpTestReport of a failed test email, or the EtagMismatch of a write whose If-Match
no longer holds.
"""

from __future__ import annotations

from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from mailgate.delivery.report import Stage, TestReport, TestStep
from mailgate.errors import (
    ApiError,
    FieldViolation,
    Internal,
    InvalidArgument,
    RateLimited,
    StaleEtag,
    TestFailed,
)
from mailgate.gen.mailgate.v1 import etag_pb2
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as pb
from mailgate.gen.zitadel import message_pb2


def encode(error: ApiError) -> status_pb2.Status:
    """`error` as the google.rpc.Status every transport of ZITADEL's API and mailgate.v1 sends."""
    details: list[Message] = []
    if error.error_id:
        details.append(message_pb2.ErrorDetail(id=error.error_id, message=error.text))
    match error:
        case InvalidArgument(violations=violations) if violations:
            details.append(bad_request(violations))
        case RateLimited(retry_after=seconds):
            delay = duration_pb2.Duration(seconds=max(1, round(seconds)))
            details.append(error_details_pb2.RetryInfo(retry_delay=delay))
        case Internal(correlation_id=correlation):
            details.append(error_details_pb2.RequestInfo(request_id=correlation))
        case TestFailed(report=report):
            details.append(smtp_test_report(report))
        case StaleEtag(current_etag=current):
            details.append(etag_pb2.EtagMismatch(current_etag=current))
    return status_pb2.Status(code=int(error.code), message=error.message, details=[_pack(d) for d in details])


def _pack(detail: Message) -> any_pb2.Any:
    holder = any_pb2.Any()
    holder.Pack(detail)
    return holder


def bad_request(violations: tuple[FieldViolation, ...]) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations
        ]
    )


def smtp_test_report(report: TestReport) -> pb.SmtpTestReport:
    """A test email's report as mailgate.v1.SmtpTestReport."""
    return pb.SmtpTestReport(
        stage=smtp_test_stage(report.stage),
        reply_code=report.reply_code,
        enhanced_status_code=report.enhanced_status_code,
        reply_text=report.reply_text,
        elapsed_ms=report.elapsed_ms,
        transcript=report.transcript,
        detail=report.detail,
        host=report.host,
        address=report.address,
        tls_mode=f"SMTP_TLS_MODE_{report.tls_mode.name}" if report.tls_mode is not None else None,
        auth_mechanism=report.auth_mechanism,
        steps=[smtp_test_step(step) for step in report.steps],
    )


def smtp_test_stage(stage: Stage) -> str:
    """A stage as its mailgate.v1.SmtpTestStage value name."""
    return f"SMTP_TEST_STAGE_{stage.name}"


def smtp_test_step(step: TestStep) -> pb.SmtpTestStep:
    """One stage of a timeline as mailgate.v1.SmtpTestStep (test reports and delivery attempts)."""
    return pb.SmtpTestStep(
        stage=smtp_test_stage(step.stage),
        started_ms=step.started_ms,
        duration_ms=step.duration_ms,
        reply_code=step.reply_code,
        enhanced_status_code=step.enhanced_status_code,
        reply_text=step.reply_text,
    )
