"""The notification engine against real SMTP servers: every TLS mode and AUTH mechanism the test
email has, the exact message a server receives, several recipients, and faults of its own."""

from __future__ import annotations

import email.policy
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.report import Stage, TlsMode
from mailgate.outbox.model import Bodies, ReplyClass
from tests.delivery.conftest import Pki
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.secrets import assert_no_secrets
from tests.fixtures.smtp import SmtpServer

from .engine import make_engine, notification, plain, smtp_target, unique
from .sinks import RunningSink, counting_sink
from .test_smtp import jwt_bearer, xoauth2

Servers = dict[str, SmtpServer]
# The header set of every notification, in order, before its MIME headers.
LEADING = ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted"]


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[DeliveryEngine]:
    engine = make_engine(settings)
    yield engine
    await engine.close()


@pytest.fixture(params=[False, True], ids=["sequential", "pipelining"])
def sink(pki: Pki, request: pytest.FixtureRequest) -> Iterator[RunningSink]:
    """The counting sink, with and without PIPELINING: each rule holds for both conversations."""
    with counting_sink(pki.server, pipelining=request.param) as running:
        yield running


def parsed(envelope: Any) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(envelope.original_content)
    assert isinstance(message, EmailMessage)
    return message


async def test_starttls_and_auth_deliver_exactly_the_notification(
    engine: DeliveryEngine, sink: RunningSink, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = unique()
    sent = notification(receiver)
    result = await engine.send(sent, smtp_target(sink.host, tls=True, auth=plain()))

    assert result.reply_class is ReplyClass.DELIVERED, result.report
    report = result.report
    assert (report.stage, report.reply_code, report.tls_mode, report.auth_mechanism) == (
        Stage.DONE,
        250,
        TlsMode.STARTTLS,
        "PLAIN",
    )
    assert [step.stage for step in report.steps] == [
        Stage.RESOLVE,
        Stage.CONNECT,
        Stage.TLS,  # the server answers in plaintext: reconnect and require STARTTLS
        Stage.CONNECT,
        Stage.GREETING,
        Stage.EHLO,
        Stage.STARTTLS,
        Stage.EHLO,
        Stage.AUTH,
        Stage.MAIL_FROM,
        Stage.RCPT_TO,
        Stage.DATA,
    ]
    [envelope] = sink.sink.received(receiver)
    assert envelope.mail_from == "noreply@acme.example"
    message = parsed(envelope)
    assert list(message.keys()) == [*LEADING, "Content-Type", "Content-Transfer-Encoding", "MIME-Version"]
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("ACME Accounts", "noreply@acme.example")
    assert message["To"].addresses[0].addr_spec == receiver
    assert message["Subject"] == "Verify your email address"
    assert message["Message-ID"] == sent.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content().replace("\r\n", "\n") == "Your code is 123456.\n" and not message.defects
    assert_no_secrets(caplog, report)


@pytest.mark.parametrize(
    ("server", "tls", "mechanism", "mode"),
    [
        ("plain", False, "", TlsMode.NONE),
        ("login_only", False, "LOGIN", TlsMode.NONE),
        ("implicit", True, "PLAIN", TlsMode.IMPLICIT),
    ],
)
async def test_tls_modes_and_password_mechanisms(
    engine: DeliveryEngine, smtp_servers: Servers, server: str, tls: bool, mechanism: str, mode: TlsMode
) -> None:
    running, receiver = smtp_servers[server], unique()
    auth = plain() if mechanism else None
    result = await engine.send(notification(receiver), smtp_target(running.host, tls=tls, auth=auth))
    assert result.reply_class is ReplyClass.DELIVERED, result.report
    assert (result.report.tls_mode, result.report.auth_mechanism) == (mode, mechanism)
    assert len(running.received(receiver)) == 1


async def test_xoauth2_with_both_grants(
    engine: DeliveryEngine,
    smtp_servers: Servers,
    token_endpoint: TokenEndpoint,
    rsa_key: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = unique(), unique()
    plain_server, starttls = smtp_servers["plain"], smtp_servers["starttls"]
    by_secret = await engine.send(
        notification(first), smtp_target(plain_server.host, auth=xoauth2(token_endpoint))
    )
    by_key = await engine.send(
        notification(second),
        smtp_target(starttls.host, tls=True, auth=jwt_bearer(token_endpoint, rsa_key.pem)),
    )
    assert [by_secret.reply_class, by_key.reply_class] == [ReplyClass.DELIVERED] * 2
    assert by_secret.report.auth_mechanism == by_key.report.auth_mechanism == "XOAUTH2"
    assert len(plain_server.received(first)) == len(starttls.received(second)) == 1
    assertion = token_endpoint.requests[-1]["form"]["assertion"]
    assert_no_secrets(caplog, by_secret.report, by_key.report, extra=[*token_endpoint.issued, assertion])


MULTIPART = ["MIME-Version", "Content-Type"]
SINGLE = ["Content-Type", "Content-Transfer-Encoding", "MIME-Version"]


@pytest.mark.parametrize(
    ("bodies", "content_type", "mime"),
    [
        (Bodies("plain text\n", None), "text/plain", SINGLE),
        (Bodies(None, "<p>html</p>\n"), "text/html", SINGLE),
        (Bodies("plain text\n", "<p>html</p>\n"), "multipart/alternative", MULTIPART),
    ],
    ids=["text", "html", "both"],
)
async def test_bodies_and_the_headers_they_bring(
    engine: DeliveryEngine, smtp_servers: Servers, bodies: Bodies, content_type: str, mime: list[str]
) -> None:
    server, receiver = smtp_servers["plain"], unique()
    await engine.send(notification(receiver, bodies=bodies), smtp_target(server.host))
    [envelope] = server.received(receiver)
    message = parsed(envelope)
    assert list(message.keys()) == [*LEADING, *mime]
    assert message.get_content_type() == content_type
    if content_type == "multipart/alternative":
        text, html = message.iter_parts()
        assert [text.get_content_type(), html.get_content_type()] == ["text/plain", "text/html"]
        contents = [part.get_content().replace("\r\n", "\n") for part in (text, html)]
        assert contents == ["plain text\n", "<p>html</p>\n"]
        assert "MIME-Version" not in text and "MIME-Version" not in html


async def test_reply_to_and_allowlisted_headers(engine: DeliveryEngine, smtp_servers: Servers) -> None:
    server = smtp_servers["plain"]
    own, default = unique(), unique()
    headers = (("list-unsubscribe", "<https://acme.example/u/1>"), ("X-Tenant", "=?utf-8?q?Caf=C3=A9?="))
    target = smtp_target(server.host, reply_to_address="support@acme.example")
    await engine.send(notification(own, reply_to="help@acme.example", headers=headers), target)
    await engine.send(notification(default), target)

    message = parsed(server.received(own)[0])
    assert list(message.keys()) == [
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "List-Unsubscribe",
        "X-Tenant",
        *SINGLE,
    ]
    assert message["Reply-To"] == "help@acme.example"
    assert (message["List-Unsubscribe"], message["X-Tenant"]) == ("<https://acme.example/u/1>", "Café")
    assert parsed(server.received(default)[0])["Reply-To"] == "support@acme.example"


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "Hello\r\nBcc: victim@evil.test"},
        {"subject": "=?utf-8?b?eA0KQmNjOiBldmlsQGV2aWwudGVzdA==?="},  # "x", CRLF, "Bcc: evil@evil.test"
        {"headers": (("Bcc", "victim@evil.test"),)},
        {"headers": (("X-Note", "a\nBcc: victim@evil.test"),)},
        {"headers": (("X-A", "1"), ("x-a", "2"))},
        {"reply_to": "a@b.example\r\nBcc: victim@evil.test"},
        {"to": ("not an address",)},
        {"bodies": Bodies(None, None)},
        {"message_id": "<no at sign>"},
    ],
    ids=[
        "crlf subject",
        "encoded crlf",
        "bcc header",
        "crlf value",
        "twice",
        "reply-to",
        "to",
        "no body",
        "id",
    ],
)
async def test_a_message_that_cannot_be_written_is_permanent_and_sends_nothing(
    engine: DeliveryEngine, sink: RunningSink, fields: dict[str, Any]
) -> None:
    result = await engine.send(notification(**fields), smtp_target(sink.host, tls=True, auth=plain()))
    assert result.reply_class is ReplyClass.PERMANENT, result.report
    assert result.report.detail and sink.sink.tcp_connections == 0


async def test_a_sender_name_that_cannot_be_written_is_the_providers_fault(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    target = smtp_target(sink.host, tls=True, auth=plain(), sender_name="Ops\r\nBcc: victim@evil.test")
    result = await engine.send(notification(), target)
    assert (result.reply_class, result.report.stage) == (ReplyClass.PROVIDER_FAULT, Stage.MAIL_FROM)
    assert "sender_name" in result.report.detail and sink.sink.tcp_connections == 0


async def test_every_attempt_carries_the_messages_one_message_id(
    engine: DeliveryEngine, smtp_servers: Servers
) -> None:
    server, receiver = smtp_servers["plain"], unique()
    sent = notification(receiver)
    for _ in range(2):  # a retry after a lost acknowledgement: a duplicate receivers can drop
        await engine.send(sent, smtp_target(server.host))
    assert [parsed(envelope)["Message-ID"] for envelope in server.received(receiver)] == [sent.message_id] * 2


# --- several recipients ----------------------------------------------------------------------------


async def test_permanent_refusals_leave_the_others_delivered(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    first, second = unique(), unique()
    sent = notification(first, "reject@example.com", second)
    result = await engine.send(sent, smtp_target(sink.host, tls=True, auth=plain()))
    assert result.reply_class is ReplyClass.DELIVERED
    assert result.report.detail == (
        "delivered to 2 of 3 recipients; refused: reject@example.com "
        "(550 5.1.1 <reject@example.com>: Recipient address rejected: User unknown)"
    )
    [envelope] = sink.sink.messages
    assert envelope.rcpt_tos == [first, second]


async def test_a_refusal_that_may_pass_later_sends_to_nobody(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    sent = notification(unique(), "full@example.com", "reject@example.com")
    result = await engine.send(sent, smtp_target(sink.host, tls=True, auth=plain()))
    assert result.reply_class is ReplyClass.TRANSIENT
    report = result.report
    assert (report.stage, report.reply_code, report.enhanced_status_code) == (Stage.RCPT_TO, 452, "4.2.2")
    assert result.retry_after == 120.0  # "try again in 2 minutes"
    assert report.detail.endswith("sent to none") and sink.sink.messages == []
    # The connection is fine: the next message reuses it, after RSET.
    again = await engine.send(notification(unique()), smtp_target(sink.host, tls=True, auth=plain()))
    assert again.reply_class is ReplyClass.DELIVERED
    assert (sink.sink.connections, sink.sink.rsets) == (1, 1), again.report.transcript


async def test_every_recipient_refused_permanently(engine: DeliveryEngine, sink: RunningSink) -> None:
    sent = notification("reject@example.com", "reject2@example.com")
    result = await engine.send(sent, smtp_target(sink.host, tls=True, auth=plain()))
    assert (result.reply_class, result.report.reply_code) == (ReplyClass.PERMANENT, 550)
    assert result.retry_after is None and sink.sink.messages == []


# --- faults ------------------------------------------------------------------------------------------


async def test_the_outbound_policy_applies(make_settings: Callable[..., Settings], sink: RunningSink) -> None:
    engine = make_engine(make_settings(outbound_allow=()))
    try:
        result = await engine.send(notification(), smtp_target(sink.host, tls=True, auth=plain()))
    finally:
        await engine.close()
    assert (result.reply_class, result.report.stage) == (ReplyClass.PROVIDER_FAULT, Stage.POLICY)
    assert "MAILGATE_OUTBOUND_ALLOW=127.0.0.0/8" in result.report.detail
    assert sink.sink.tcp_connections == 0


async def test_an_unexpected_fault_is_a_logged_transient_result(
    engine: DeliveryEngine, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    broken = notification(bodies=Bodies(text=12345, html=None))  # type: ignore[arg-type]  # a caller's bug
    result = await engine.send(broken, smtp_target(smtp_servers["plain"].host, auth=plain()))
    assert result.reply_class is ReplyClass.TRANSIENT
    assert "unexpected error in mailgate (correlation id" in result.report.detail
    [record] = [record for record in caplog.records if record.levelno == logging.ERROR]
    correlation = result.report.detail.split("correlation id ")[1][:16]
    assert correlation in record.getMessage() and getattr(record, "correlation_id", "") == correlation
    assert getattr(record, "error", "").startswith("Traceback") and "builtins.int" in record.error
    assert_no_secrets(caplog, result.report)
