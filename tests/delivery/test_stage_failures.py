"""Every way a misbehaving SMTP peer can fail a test ends as that stage's error, with its report.

Scripted peers send what aiosmtplib cannot read (an endless line, a line over its limit, no reply
code, a negative code, bytes that are not UTF-8) at each stage of the conversation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from mailgate.api.status import smtp_test_report
from mailgate.config import Settings
from mailgate.delivery.report import Stage, TestReport, TlsMode
from mailgate.delivery.smtp import SmtpTester, TestEmail
from mailgate.errors import Code, TestFailed
from mailgate.providers.auth import PlainAuth
from mailgate.providers.sealing import Secret
from tests.delivery.conftest import fake_resolver
from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.network import LOCAL_ALLOW
from tests.fixtures.pki import MAIL_NAME, Pki
from tests.fixtures.smtp import RawServer

Scripted = Callable[..., Awaitable[RawServer]]
INTERNAL = Code.INTERNAL
ENDLESS = b"220 " + b"x" * 40_000  # more than aiosmtplib buffers for one reply, and no line end
TOO_LONG = "x" * 10_000  # one line over aiosmtplib's 8192-byte limit
# ZITADEL's code and id for a failure at each stage (DATA has none: the server's text is the message).
EXPECTED = {
    Stage.GREETING: (INTERNAL, "EMAIL-skwos"),
    Stage.EHLO: (INTERNAL, "EMAIL-skwos"),
    Stage.STARTTLS: (INTERNAL, "EMAIL-guvsQ"),
    Stage.AUTH: (INTERNAL, "EMAIL-s9kfs"),
    Stage.MAIL_FROM: (INTERNAL, "EMAIL-s3is3"),
    Stage.RCPT_TO: (INTERNAL, "EMAIL-s4is4"),
    Stage.DATA: (Code.UNKNOWN, None),
    Stage.QUIT: (Code.UNKNOWN, None),
}


@pytest.fixture
def tester(make_settings: Callable[..., Settings]) -> SmtpTester:
    return SmtpTester(make_settings(outbound_allow=LOCAL_ALLOW), resolver=fake_resolver)


async def fail(tester: SmtpTester, port: int, *, tls: bool = False) -> TestFailed:
    with pytest.raises(TestFailed) as info:
        await tester.send_test(make_test_email(port, tls))
    return info.value


def make_test_email(port: int, tls: bool = False) -> TestEmail:
    return TestEmail(
        host=f"{MAIL_NAME}:{port}",
        tls=tls,
        sender_address="noreply@example.com",
        sender_name="Mailgate Tests",
        receiver_address="bob@example.com",
        user=USER,
        auth=PlainAuth(password=Secret(PASSWORD)),
    )


def assert_stage_failure(failed: TestFailed, stage: Stage) -> TestReport:
    """The stage's code and id, the report as the one detail, naming the stage."""
    code, error_id = EXPECTED[stage]
    assert (failed.code, failed.error_id, failed.stage) == (code, error_id, stage), failed.report
    report = failed.report
    assert report.stage is stage and report.transcript and report.detail
    smtp_test_report(report).SerializeToString()  # what the transports send: must not raise
    return report


PEERS = {
    "greeting is one endless line": (Stage.GREETING, {"GREETING": ENDLESS}, "Response too long"),
    "greeting line over the limit": (Stage.GREETING, {"GREETING": "220 " + TOO_LONG}, "Response too long"),
    "greeting without a code": (Stage.GREETING, {"GREETING": "hello, who are you?"}, "Malformed"),
    "greeting with a negative code": (Stage.GREETING, {"GREETING": "-12 weird"}, ""),
    "ehlo reply over the limit": (Stage.EHLO, {"EHLO": "250-scripted.test\r\n250 " + TOO_LONG}, "too long"),
    "ehlo reply with a negative code": (Stage.EHLO, {"EHLO": "-50 what", "HELO": "-50 what"}, ""),
    "auth reply without a code": (Stage.AUTH, {"AUTH": "Authentication failed"}, "Malformed"),
    "auth reply endless": (Stage.AUTH, {"AUTH": ENDLESS}, "Response too long"),
    "mail reply over the limit": (Stage.MAIL_FROM, {"MAIL": "250 " + TOO_LONG}, "Response too long"),
    "rcpt reply with a negative code": (Stage.RCPT_TO, {"RCPT": "-1 no"}, ""),
    "data reply without a code": (Stage.DATA, {"DATA": "go ahead"}, "Malformed"),
    "final data reply over the limit": (Stage.DATA, {".": "250 " + TOO_LONG}, "Response too long"),
    "quit reply endless": (Stage.QUIT, {"QUIT": ENDLESS}, "Response too long"),
}


@pytest.mark.parametrize(("stage", "replies", "problem"), PEERS.values(), ids=PEERS.keys())
async def test_unreadable_replies_fail_their_stage_with_a_report(
    tester: SmtpTester,
    raw_server: Scripted,
    stage: Stage,
    replies: dict[str, str | bytes],
    problem: str,
) -> None:
    server = await raw_server("script", replies)
    report = assert_stage_failure(await fail(tester, server.port), stage)
    assert problem in report.detail
    assert report.reply_code < 1000


async def test_endless_greeting_after_implicit_tls(
    tester: SmtpTester, raw_server: Scripted, pki: Pki
) -> None:
    server = await raw_server("script", {"GREETING": ENDLESS}, tls=pki.server)
    report = assert_stage_failure(await fail(tester, server.port, tls=True), Stage.GREETING)
    assert report.tls_mode == TlsMode.IMPLICIT
    assert "Response too long" in report.detail


async def test_starttls_answered_without_tls(tester: SmtpTester, raw_server: Scripted) -> None:
    # The server says go ahead, then answers the handshake in plaintext.
    replies = {"EHLO": "250-scripted.test\r\n250 STARTTLS", "STARTTLS": "220 go ahead\r\n500 not really"}
    server = await raw_server("script", replies)
    report = assert_stage_failure(await fail(tester, server.port, tls=True), Stage.STARTTLS)
    assert "TLS handshake failed" in report.detail


async def test_reply_bytes_that_are_not_utf8_are_reported(tester: SmtpTester, raw_server: Scripted) -> None:
    replies: dict[str, str | bytes] = {
        "GREETING": b"220 scripted.test \xff\xfe ESMTP\r\n",
        "RCPT": b"550 5.1.1 unknown \xc3\x28 user\r\n",
    }
    server = await raw_server("script", replies)
    report = assert_stage_failure(await fail(tester, server.port), Stage.RCPT_TO)
    assert report.reply_text == "5.1.1 unknown \ufffd( user"
    assert "S: 220 scripted.test \ufffd\ufffd ESMTP" in report.transcript


async def test_success_report_with_a_greeting_that_is_not_utf8(
    tester: SmtpTester, raw_server: Scripted
) -> None:
    server = await raw_server("script", {"GREETING": b"220 scripted.test \xff ESMTP\r\n"})
    report = await tester.send_test(make_test_email(server.port))
    assert report.stage == Stage.DONE
    assert "S: 220 scripted.test \ufffd ESMTP" in report.transcript
