"""Through the API: a token endpoint that echoes the request's Basic credentials and body, and an
SMTP relay that wraps an echoed password over two reply lines, leave no secret in the answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from tests.fixtures.credentials import ODD_SECRET, PASSWORD, USER
from tests.fixtures.network import LOCAL, LOCAL_ALLOW_ENV
from tests.fixtures.oauth import TokenEndpoint, echo_everything
from tests.fixtures.rpc import Admin, caller, plain
from tests.fixtures.secrets import client_secret_forms
from tests.fixtures.servers import RunningServer, StartServer
from tests.fixtures.smtp import SmtpServer, unique

from .helpers import assert_no_leak, inline, xoauth2


@pytest.fixture
async def admin(start_mail_server: StartServer) -> Admin:
    server: RunningServer = await start_mail_server(MAILGATE_OUTBOUND_ALLOW=LOCAL_ALLOW_ENV)
    return await caller(server)


async def test_token_endpoint_echoing_basic_credentials(
    admin: Admin,
    mailboxes: dict[str, SmtpServer],
    token_endpoint: TokenEndpoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token_endpoint.echo_back = echo_everything
    auth = xoauth2(token_endpoint.url(LOCAL), client_secret=ODD_SECRET)
    failure = await admin.fail(
        "TestEmailProviderSMTP", inline(mailboxes["plain"].host, user=USER, xoauth2=auth)
    )

    assert failure.is_zitadel(grpc.StatusCode.INTERNAL, "EMAIL-av88SB")
    assert "authorization Basic [redacted]" in failure.report.detail
    assert_no_leak(caplog, failure, extra=client_secret_forms(ODD_SECRET))


@pytest.fixture
async def echoing_relay() -> AsyncIterator[int]:
    """A relay that answers AUTH by quoting the password, wrapped over two reply lines."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 relay.test ESMTP\r\n")
        while line := await reader.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                writer.write(b"250-relay.test\r\n250 AUTH PLAIN\r\n")
            elif verb == b"AUTH":
                first, second = PASSWORD[:8], PASSWORD[8:]
                writer.write(f"535-5.7.8 bad password {first}\r\n535 5.7.8 {second}\r\n".encode())
            else:
                writer.write(b"221 bye\r\n")
                break
        writer.close()

    server = await asyncio.start_server(serve, LOCAL, 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_relay_wrapping_the_password_over_reply_lines(
    admin: Admin, echoing_relay: int, caplog: pytest.LogCaptureFixture
) -> None:
    request = inline(f"{LOCAL}:{echoing_relay}", unique(), user=USER, plain=plain())
    failure = await admin.fail("TestEmailProviderSMTP", request)

    assert failure.is_zitadel(grpc.StatusCode.INTERNAL, "EMAIL-s9kfs")
    assert failure.report.stage == report_pb.SMTP_TEST_STAGE_AUTH
    assert failure.report.reply_text == "5.7.8 bad password [redacted]\n5.7.8 [redacted]"
    assert_no_leak(caplog, failure, extra=[PASSWORD[:8], PASSWORD[8:]])
