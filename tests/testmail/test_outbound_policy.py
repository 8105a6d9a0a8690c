"""The outbound-address policy as API clients see it: a real mailgate with the shipped default
refuses loopback in every spelling before connecting, so no byte of the listener's banner can be in
the answer; MAILGATE_OUTBOUND_ALLOW opens it."""

from __future__ import annotations

import grpc
import pytest

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.credentials import CLIENT_SECRET, USER
from tests.fixtures.network import SPELLINGS
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.rpc import Admin, Failure, caller, plain
from tests.fixtures.servers import StartServer
from tests.fixtures.smtp import Banner, RawServer, SmtpServer, unique

from .helpers import add_smtp, assert_no_leak, by_id, inline, xoauth2

REFUSED = grpc.StatusCode.FAILED_PRECONDITION


def assert_refused_before_connecting(failure: Failure, target: RawServer, address: str) -> None:
    assert failure.is_zitadel(REFUSED, "MG-OUTBOUND-REFUSED"), failure.message
    for text in (failure.message, failure.report.detail):
        assert address in text and "MAILGATE_OUTBOUND_ALLOW=" in text, text
    assert failure.report.stage == report_pb.SMTP_TEST_STAGE_POLICY
    assert failure.report.address == "" and failure.report.reply_code == 0
    assert target.token.encode() not in failure.status.SerializeToString() + failure.message.encode()
    assert target.accepted == 0


async def test_every_spelling_of_loopback_is_refused_by_default(
    start_mail_server: StartServer,
    banner: Banner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await start_mail_server(MAILGATE_OUTBOUND_ALLOW="")  # the policy as shipped
    admin = await caller(server)
    for spelling, address in SPELLINGS:
        target = await banner(address)
        host = f"{spelling}:{target.port}"
        failure = await admin.fail("TestEmailProviderSMTP", inline(host, user=USER, plain=plain()))
        assert_refused_before_connecting(failure, target, address)
        assert_no_leak(caplog, failure)
    # A stored provider is checked when tested, never when saved.
    target = await banner("127.0.0.1")
    provider_id = await add_smtp(admin, f"127.1:{target.port}")
    failure = await admin.fail(
        "TestEmailProviderSMTPById", by_id("TestEmailProviderSMTPById", provider_id, unique())
    )
    assert_refused_before_connecting(failure, target, "127.0.0.1")


async def test_loopback_is_reached_in_every_spelling_when_allowed(
    admin: Admin, mailboxes: dict[str, SmtpServer]
) -> None:
    # The mail server of these tests has MAILGATE_OUTBOUND_ALLOW=127.0.0.0/8,::1/128 (conftest).
    mailbox = mailboxes["plain"]
    for spelling, address in SPELLINGS:
        if address != "127.0.0.1":
            continue  # the mailboxes listen on IPv4 (tests/delivery/test_outbound.py covers ::1)
        receiver = unique()
        request = inline(f"{spelling}:{mailbox.port}", receiver, user=USER, plain=plain())
        assert await admin("TestEmailProviderSMTP", request) == pb.TestEmailProviderSMTPResponse(), spelling
        assert len(mailbox.received(receiver)) == 1, spelling


async def test_the_token_endpoint_is_refused_by_default(
    start_mail_server: StartServer,
    mailboxes: dict[str, SmtpServer],
    token_endpoint: TokenEndpoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The SMTP server's one address is allowed; the token endpoint's loopback address is not.
    server = await start_mail_server(MAILGATE_OUTBOUND_ALLOW="127.0.0.1/32")
    admin = await caller(server)
    url = token_endpoint.url("127.0.0.2")
    failure = await admin.fail(
        "TestEmailProviderSMTP",
        inline(mailboxes["plain"].host, user=USER, xoauth2=xoauth2(url, client_secret=CLIENT_SECRET)),
    )
    assert failure.is_zitadel(REFUSED, "MG-OUTBOUND-REFUSED")
    assert failure.report.stage == report_pb.SMTP_TEST_STAGE_POLICY
    for text in (failure.message, failure.report.detail):
        assert text.startswith("token endpoint: 127.0.0.2, in 127.0.0.0/8 (loopback)"), text
        assert "MAILGATE_OUTBOUND_ALLOW=127.0.0.0/8" in text
    assert token_endpoint.requests == []
    assert_no_leak(caplog, failure)


async def test_a_deny_range_closes_part_of_an_allowed_one(
    start_mail_server: StartServer, mailboxes: dict[str, SmtpServer]
) -> None:
    server = await start_mail_server(
        MAILGATE_OUTBOUND_ALLOW="127.0.0.0/8", MAILGATE_OUTBOUND_DENY="127.0.0.1/32"
    )
    admin = await caller(server)
    mailbox = mailboxes["plain"]
    failure = await admin.fail("TestEmailProviderSMTP", inline(mailbox.host, unique()))
    assert failure.is_zitadel(REFUSED, "MG-OUTBOUND-REFUSED")
    assert "127.0.0.1, in 127.0.0.1/32" in failure.message and "MAILGATE_OUTBOUND_DENY" in failure.message
