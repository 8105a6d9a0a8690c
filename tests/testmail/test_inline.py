"""TestEmailProviderSMTP and TestSMTPConfig with inline settings, through the real gRPC server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.rpc import SENDER, Admin, plain
from tests.fixtures.smtp import SmtpServer, unique

from .helpers import SENDER_NAME, TEST_TEXT, inline, legacy

Mailboxes = dict[str, SmtpServer]


def check_message(server: SmtpServer, receiver: str) -> None:
    """The delivered test email, as the receiver's mail client would read it."""
    [envelope] = server.received(receiver)
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [receiver])
    message = server.message(receiver)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (SENDER_NAME, SENDER)
    assert [to.addr_spec for to in message["To"].addresses] == [receiver]
    assert message["Subject"] == "Test email"
    assert abs(message["Date"].datetime - datetime.now(UTC)) < timedelta(minutes=1)
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert message.get_content_type() == "text/plain"
    assert TEST_TEXT in message.get_content()


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
async def test_plain_auth_over_tls_delivers_the_test_email(
    admin: Admin, mailboxes: Mailboxes, mode: str
) -> None:
    server = mailboxes[mode]
    receiver = unique()
    request = inline(server.host, receiver, tls=True, user=USER, plain=plain())
    assert await admin("TestEmailProviderSMTP", request) == pb.TestEmailProviderSMTPResponse()
    check_message(server, receiver)


async def test_none_sends_no_auth(admin: Admin, mailboxes: Mailboxes) -> None:
    receiver = unique()
    await admin("TestEmailProviderSMTP", inline(mailboxes["plain"].host, receiver, none=pb.SMTPNoAuth()))
    check_message(mailboxes["plain"], receiver)
    # A server that insists on AUTH refuses the sender, which shows none was attempted.
    failure = await admin.fail(
        "TestEmailProviderSMTP", inline(mailboxes["auth_required"].host, user=USER, none=pb.SMTPNoAuth())
    )
    assert failure.is_zitadel(grpc.StatusCode.INTERNAL, "EMAIL-s3is3")
    assert failure.report.stage == report_pb.SMTP_TEST_STAGE_MAIL_FROM
    assert failure.report.reply_code == 530
    assert failure.report.auth_mechanism == ""


def without_oneof(rpc: str, host: str, receiver: str, **fields: Any) -> Any:
    """An older client's request: user/password fields, no Auth oneof."""
    if rpc == "TestSMTPConfig":
        return legacy(host, receiver, **fields)
    return inline(host, receiver, **fields)


RPCS = ["TestEmailProviderSMTP", "TestSMTPConfig"]


@pytest.mark.parametrize("rpc", RPCS)
async def test_legacy_rule_user_and_password_mean_plain_auth(
    admin: Admin, mailboxes: Mailboxes, rpc: str
) -> None:
    server = mailboxes["auth_required"]
    receiver = unique()
    await admin(rpc, without_oneof(rpc, server.host, receiver, user=USER, password=PASSWORD))
    assert len(server.received(receiver)) == 1


@pytest.mark.parametrize("rpc", RPCS)
async def test_legacy_rule_no_user_and_no_password_mean_no_auth(
    admin: Admin, mailboxes: Mailboxes, rpc: str
) -> None:
    # Decision 9.14: TestSMTPConfig too, where ZITADEL answers SMTP-p9kj.
    receiver = unique()
    await admin(rpc, without_oneof(rpc, mailboxes["plain"].host, receiver))
    assert len(mailboxes["plain"].received(receiver)) == 1
    failure = await admin.fail(rpc, without_oneof(rpc, mailboxes["auth_required"].host, unique()))
    assert failure.is_zitadel(grpc.StatusCode.INTERNAL, "EMAIL-s3is3")
    assert failure.report.auth_mechanism == "" and failure.report.reply_code == 530


@pytest.mark.parametrize("rpc", RPCS)
async def test_legacy_rule_user_without_password_needs_a_stored_one(
    admin: Admin, mailboxes: Mailboxes, rpc: str
) -> None:
    failure = await admin.fail(rpc, without_oneof(rpc, mailboxes["plain"].host, unique(), user=USER))
    assert failure.is_zitadel(grpc.StatusCode.INVALID_ARGUMENT, "SMTP-p9kj")
    assert failure.message == "Password for test not found (SMTP-p9kj)"


async def test_empty_password_without_id(admin: Admin, mailboxes: Mailboxes) -> None:
    failure = await admin.fail(
        "TestEmailProviderSMTP", inline(mailboxes["plain"].host, user=USER, plain=plain(""))
    )
    assert failure.is_zitadel(grpc.StatusCode.INVALID_ARGUMENT, "SMTP-p9kj")
    assert len(failure.status.details) == 1  # nothing was sent, so there is no report


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
async def test_tls_tests_back_to_back(admin: Admin, mailboxes: Mailboxes, mode: str) -> None:
    server = mailboxes[mode]
    # Whether the stale transport is still there depends on timing; eight tests hit it reliably.
    for _ in range(8):
        receiver = unique()
        await admin(
            "TestEmailProviderSMTP", inline(server.host, receiver, tls=True, user=USER, plain=plain())
        )
        assert len(server.received(receiver)) == 1
