"""Test emails through the APIs: sender text that would add a header line or a body is refused
before anything is sent (INVALID_ARGUMENT naming the field, Okta's 400 naming `fromAddress`),
and what the SMTP server receives has exactly the test email's headers."""

from __future__ import annotations

from email.message import EmailMessage

import grpc
import httpx
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.headers import HEADERS, INJECTIONS
from tests.fixtures.network import LOCAL_ALLOW_ENV
from tests.fixtures.rpc import Admin, caller
from tests.fixtures.servers import RunningServer, StartServer
from tests.fixtures.smtp import Listener, SmtpServer, unique

from .helpers import add_smtp, inline, legacy

ENCODED_ADDRESS = "=?utf-8?q?x=0D=0A=42cc=3A_evil=40evil.test?=.jörg@example.com"
RPCS = ["TestEmailProviderSMTP", "TestSMTPConfig"]


@pytest.fixture
async def server(start_mail_server: StartServer) -> RunningServer:
    return await start_mail_server(MAILGATE_OUTBOUND_ALLOW=LOCAL_ALLOW_ENV)


@pytest.fixture
async def admin(server: RunningServer) -> Admin:
    return await caller(server)


def request(
    rpc: str, host: str, receiver: str, **fields: str
) -> pb.TestEmailProviderSMTPRequest | pb.TestSMTPConfigRequest:
    return (
        inline(host, receiver, **fields)
        if rpc == "TestEmailProviderSMTP"
        else legacy(host, receiver, **fields)
    )


@pytest.mark.parametrize("rpc", RPCS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sender_name", INJECTIONS["b-word"]),
        ("sender_name", INJECTIONS["q-word with body"]),
        ("sender_address", "noreply@example.com\r\nBcc: evil@evil.test"),
        ("sender_address", ENCODED_ADDRESS),
    ],
)
async def test_inline_tests_refuse_injecting_sender_fields(
    admin: Admin, listener: Listener, rpc: str, field: str, value: str
) -> None:
    relay = await listener()
    failure = await admin.fail(rpc, request(rpc, f"127.0.0.1:{relay.port}", unique(), **{field: value}))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, failure.message
    assert failure.error_id == "MG-TEXT-CONTROL" and field in failure.message
    assert relay.accepted == 0  # refused before connecting


@pytest.mark.parametrize("rpc", RPCS)
async def test_the_server_receives_exactly_the_test_headers(
    admin: Admin, mailboxes: dict[str, SmtpServer], rpc: str
) -> None:
    mailbox, receiver = mailboxes["plain"], unique()
    name = '=?utf-8?q?Caf=C3=A9?= "Ops" <Bcc: evil@evil.test>'
    await admin(rpc, request(rpc, mailbox.host, receiver, sender_name=name))

    message = mailbox.message(receiver)  # parsed from the bytes aiosmtpd received
    assert isinstance(message, EmailMessage)
    assert list(message.keys()) == HEADERS
    assert message["From"].addresses[0].display_name == 'Café "Ops" <Bcc: evil@evil.test>'
    assert message["Bcc"] is None


async def test_okta_test_refuses_a_from_address_with_an_encoded_word(
    server: RunningServer, admin: Admin, mailboxes: dict[str, SmtpServer]
) -> None:
    mailbox, receiver = mailboxes["plain"], unique()
    provider_id = await add_smtp(admin, mailbox.host)
    headers = {"Authorization": f"SSWS {await server.token()}"}
    body = {"fromAddress": ENCODED_ADDRESS, "toAddress": receiver}
    async with httpx.AsyncClient(base_url=server.http_base) as http:
        response = await http.post(f"/api/v1/email-servers/{provider_id}/test", json=body, headers=headers)

    assert response.status_code == 400, response.text
    assert response.json()["errorCauses"] == [{"errorSummary": "fromAddress: must be a valid email address"}]
    assert mailbox.received(receiver) == []
