"""What a real SMTP server (aiosmtpd) receives: exactly the test email's headers, whatever the
sender name or address, and nothing at all when they would add a header line or a body."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailgate.config import Settings
from mailgate.delivery.message import BODY
from mailgate.delivery.report import Stage
from mailgate.delivery.smtp import SmtpTester, TestEmail
from mailgate.errors import Code, TestFailed
from tests.delivery.conftest import fake_resolver
from tests.fixtures.headers import HEADERS, INJECTIONS
from tests.fixtures.network import LOCAL_ALLOW
from tests.fixtures.smtp import SmtpServer, unique

Servers = dict[str, SmtpServer]


@pytest.fixture
def tester(make_settings: Callable[..., Settings]) -> SmtpTester:
    return SmtpTester(make_settings(outbound_allow=LOCAL_ALLOW), resolver=fake_resolver)


def email_to(server: SmtpServer, receiver: str, name: str, sender: str = "noreply@example.com") -> TestEmail:
    return TestEmail(server.host, False, sender, name, receiver)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Mailgate Tests", "Mailgate Tests"),
        ("=?utf-8?q?Caf=C3=A9?= Ops", "Café Ops"),
        ('Bcc: "x" <evil@evil.test>, Ops', 'Bcc: "x" <evil@evil.test>, Ops'),
        ("Zoë Müller (Ops)", "Zoë Müller (Ops)"),
    ],
)
async def test_the_server_receives_exactly_the_test_headers(
    tester: SmtpTester, smtp_servers: Servers, name: str, shown: str
) -> None:
    server, receiver = smtp_servers["plain"], unique()
    await tester.send_test(email_to(server, receiver, name))
    message = server.message(receiver)
    assert list(message.keys()) == HEADERS
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (shown, "noreply@example.com")
    assert message.get_content().replace("\r\n", "\n") == BODY and not message.defects


@pytest.mark.parametrize("name", INJECTIONS.values(), ids=INJECTIONS.keys())
async def test_injecting_sender_names_send_nothing(
    tester: SmtpTester, smtp_servers: Servers, name: str
) -> None:
    server, receiver = smtp_servers["plain"], unique()
    with pytest.raises(TestFailed) as info:
        await tester.send_test(email_to(server, receiver, name))
    failed = info.value
    assert (failed.code, failed.error_id, failed.stage) == (
        Code.INTERNAL,
        "EMAIL-s3is3",
        Stage.MAIL_FROM,
    )
    assert "sender_name must not contain control characters" in failed.report.detail
    assert server.received(receiver) == []


async def test_an_encoded_word_in_the_sender_address_sends_nothing(
    tester: SmtpTester, smtp_servers: Servers
) -> None:
    # A non-ASCII local part starting with an encoded word: the email package decoded it into the From line.
    server, receiver = smtp_servers["plain"], unique()
    sender = "=?utf-8?q?x=0D=0A=42cc=3A_evil=40evil.test?=.jörg@example.com"
    with pytest.raises(TestFailed) as info:
        await tester.send_test(email_to(server, receiver, "Ops", sender))
    assert info.value.stage is Stage.MAIL_FROM and "encoded word" in info.value.report.detail
    assert server.received(receiver) == []
