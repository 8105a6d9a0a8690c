"""Failed tests as API clients see them: ZITADEL's error plus our report, permissions and the rate
limit (the outbound-address policy: test_outbound_policy.py)."""

from __future__ import annotations

import socket
from typing import Any

import grpc
import pytest

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.pipeline.stages import TEST_EMAILS_LIMITED_ID as RATE_LIMITED_ID
from tests.fixtures.credentials import CLIENT_SECRET, PASSWORD, USER
from tests.fixtures.network import LOCAL
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.rpc import Admin, caller, plain
from tests.fixtures.servers import RunningServer, StartServer
from tests.fixtures.smtp import Listener, SmtpServer, unique

from .helpers import add_smtp, assert_no_leak, by_id, inline, legacy, xoauth2

Mailboxes = dict[str, SmtpServer]
INTERNAL = grpc.StatusCode.INTERNAL


async def test_bad_password_inline(
    admin: Admin, mailboxes: Mailboxes, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-Passw0rd-5150"
    server = mailboxes["starttls"]
    receiver = unique()
    failure = await admin.fail(
        "TestEmailProviderSMTP", inline(server.host, receiver, tls=True, user=USER, plain=plain(wrong))
    )
    assert failure.is_zitadel(INTERNAL, "EMAIL-s9kfs")
    assert failure.message.startswith(
        "could not add smtp auth, check if both your user and password are correct"
    )
    report = failure.report  # the second detail, after ZITADEL's ErrorDetail
    assert report.stage == report_pb.SMTP_TEST_STAGE_AUTH
    assert (report.reply_code, report.enhanced_status_code) == (535, "5.7.8")
    assert report.tls_mode == report_pb.SMTP_TLS_MODE_STARTTLS and report.auth_mechanism == "PLAIN"
    assert report.host == server.host and report.address == LOCAL
    assert "C: AUTH PLAIN [redacted]" in report.transcript
    assert server.received(receiver) == []
    assert_no_leak(caplog, failure, extra=[wrong, f"\0{USER}\0{wrong}"])


async def test_bad_stored_password(
    mail_server: RunningServer, admin: Admin, mailboxes: Mailboxes, caplog: pytest.LogCaptureFixture
) -> None:
    stored = "stored-Wr0ng-Passw0rd-77"
    provider_id = await add_smtp(admin, mailboxes["plain"].host, user=USER, plain=plain(stored))
    failure = await admin.fail("TestSMTPConfigById", by_id("TestSMTPConfigById", provider_id, unique()))
    assert failure.is_zitadel(INTERNAL, "EMAIL-s9kfs")
    assert failure.report.stage == report_pb.SMTP_TEST_STAGE_AUTH
    assert_no_leak(caplog, failure, extra=[stored, f"\0{USER}\0{stored}"])


async def test_bad_stored_client_secret(
    admin: Admin, mailboxes: Mailboxes, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "cs-Wr0ng-S3cret-31337"
    url = token_endpoint.url(LOCAL)
    provider_id = await add_smtp(
        admin, mailboxes["plain"].host, user=USER, xoauth2=xoauth2(url, client_secret=wrong)
    )
    failure = await admin.fail(
        "TestEmailProviderSMTPById", by_id("TestEmailProviderSMTPById", provider_id, unique())
    )
    assert failure.is_zitadel(INTERNAL, "EMAIL-av88SB")
    assert failure.report.stage == report_pb.SMTP_TEST_STAGE_AUTH
    assert "401: invalid_client: bad client credentials" in failure.report.detail
    assert_no_leak(caplog, failure, extra=[wrong, CLIENT_SECRET])


async def test_connection_refused(admin: Admin, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind((LOCAL, 0))
        port = sock.getsockname()[1]
    failure = await admin.fail("TestEmailProviderSMTP", inline(f"{LOCAL}:{port}", user=USER, plain=plain()))
    assert failure.is_zitadel(INTERNAL, "EMAIL-skwos")
    assert failure.report.stage == report_pb.SMTP_TEST_STAGE_CONNECT
    assert "connection refused" in failure.report.detail.lower()
    assert_no_leak(caplog, failure)


def _requests(provider_id: str, host: str) -> dict[str, Any]:
    receiver = unique()
    return {
        "TestEmailProviderSMTP": inline(host, receiver, user=USER, plain=plain()),
        "TestSMTPConfig": legacy(host, receiver, user=USER, password=PASSWORD),
        "TestEmailProviderSMTPById": by_id("TestEmailProviderSMTPById", provider_id, receiver),
        "TestSMTPConfigById": by_id("TestSMTPConfigById", provider_id, receiver),
    }


async def test_readers_may_not_send_test_emails(
    mail_server: RunningServer, admin: Admin, listener: Listener
) -> None:
    target = await listener()
    host = f"{LOCAL}:{target.port}"
    provider_id = await add_smtp(admin, host, user=USER, plain=plain())
    reader = await caller(mail_server, "iam.read")
    for rpc, request in _requests(provider_id, host).items():
        failure = await reader.fail(rpc, request)
        assert failure.code == grpc.StatusCode.PERMISSION_DENIED, rpc
    assert target.accepted == 0


async def test_rate_limit_per_instance(start_mail_server: StartServer, mailboxes: Mailboxes) -> None:
    server = await start_mail_server(MAILGATE_TEST_BURST="2", MAILGATE_TEST_RATE="10")
    admin = await caller(server)
    host = mailboxes["plain"].host
    provider_id = await add_smtp(admin, host)
    requests = _requests(provider_id, host)
    await admin("TestEmailProviderSMTP", requests["TestEmailProviderSMTP"])
    await admin("TestSMTPConfigById", requests["TestSMTPConfigById"])
    receiver = unique()
    failure = await admin.fail("TestSMTPConfig", legacy(host, receiver))
    assert failure.is_zitadel(grpc.StatusCode.RESOURCE_EXHAUSTED, RATE_LIMITED_ID)
    # 10 per minute: one comes back within six seconds.
    assert 1 <= failure.retry_info.retry_delay.seconds <= 6
    assert mailboxes["plain"].received(receiver) == []
    # Other calls and other instances are not limited.
    await admin("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=provider_id))
    neighbour = await caller(server, instance=server.instance + "-neighbour")
    await neighbour("TestSMTPConfig", legacy(host, receiver))
    assert len(mailboxes["plain"].received(receiver)) == 1
