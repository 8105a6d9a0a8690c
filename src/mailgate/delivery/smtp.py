"""The test email: one SMTP conversation (delivery.conversation) from connect to QUIT, within
MAILGATE_SMTP_TEST_TIMEOUT, failing as ZITADEL's error for the stage it was at.

It never pipelines, even when the server offers PIPELINING: its report is a diagnostic timeline,
and each step's duration is that step's own round trip only when one command waits for its reply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mailgate.errors import TestFailed
from mailgate.providers.auth import NoAuth, OpenedAuth

from .conversation import Cause, Conversation, SmtpClient, StageFailed
from .message import MessageTextError, compose_test_email
from .redaction import Redactor
from .report import Recorder, Stage, TestReport, as_test_failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestEmail:
    """One test email: where to send it, how to secure and authenticate, and the addresses."""

    __test__ = False  # not a pytest test class, despite the name

    host: str  # "host:port" as stored (IPv6 in brackets)
    tls: bool
    sender_address: str
    sender_name: str
    receiver_address: str
    user: str = ""  # the provider's user: AUTH PLAIN and LOGIN, and XOAUTH2 unless a grant names its own
    auth: OpenedAuth = field(default_factory=NoAuth)
    # A stored secret is in use: a server offering no AUTH fails at stage AUTH rather than
    # receiving mail without it.
    secret_from_store: bool = False


class SmtpTester(SmtpClient):
    """Sends test emails. One per process is enough; it caches the TLS context and HELO name."""

    async def send_test(self, email: TestEmail) -> TestReport:
        """Send the test email; return the report (stage done) or raise TestFailed."""
        try:
            report = await _Test(self, email).run()
        except StageFailed as failed:
            error = as_test_failure(failed.report, xoauth2=failed.xoauth2, error=failed.error)
            _log_failure(email, error)
            raise error from None
        log.info("SMTP test to %s succeeded in %d ms", email.host, report.elapsed_ms)
        log.debug("SMTP test transcript:\n%s", "\n".join(report.transcript))
        return report


def _log_failure(email: TestEmail, failed: TestFailed) -> None:
    log.info(
        "SMTP test to %s failed at stage %s (%s) after %d ms: %s",
        email.host,
        failed.report.stage,
        failed.error_id or failed.code.name,
        failed.report.elapsed_ms,
        failed.report.detail or failed.report.reply_text,
    )
    log.debug("SMTP test transcript:\n%s", "\n".join(failed.report.transcript))


class _Test:
    """One test email: compose, then the whole conversation within the test deadline."""

    def __init__(self, tester: SmtpTester, email: TestEmail) -> None:
        self.email = email
        self.settings = tester.settings
        redactor = Redactor()
        if email.auth.secret is not None:
            redactor.add(email.auth.secret.value)
        self.conv = Conversation(
            tester,
            email.host,
            email.auth,
            email.user,
            Recorder(email.host, redactor),
            secret_from_store=email.secret_from_store,
        )

    async def run(self) -> TestReport:
        try:
            await self.conv.within(self.settings.smtp_test_timeout, "test", self.converse)
        finally:
            self.conv.close()
        return self.conv.rec.report(Stage.DONE)

    async def converse(self) -> None:
        email, conv = self.email, self.conv
        try:
            composed = compose_test_email(email.sender_address, email.sender_name, email.receiver_address)
        except MessageTextError as exc:  # checked before any connection: nothing is sent
            stage = Stage.RCPT_TO if exc.field == "receiver" else Stage.MAIL_FROM
            raise conv.fail(stage, str(exc), Cause.MESSAGE) from None
        await conv.open(email.tls)
        await conv.mail_from(composed.mail_from, composed.smtputf8)
        await conv.rcpt_to(composed.rcpt_to)
        await conv.data(composed.data, "the test email")
        await conv.quit()
