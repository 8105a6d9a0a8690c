"""Reply classes, one row of the SMTP table at a time, each against a real peer (aiosmtpd or a
scripted one) that answers as real servers do; HTTP statuses and retry hints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from mailgate.config import Settings
from mailgate.delivery.classify import (
    SMTP_FALLBACK,
    SMTP_RULES,
    Rule,
    http_class,
    retry_after,
    smtp_class,
    smtp_retry_after,
    smtp_rule,
)
from mailgate.delivery.conversation import Cause
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.report import Stage
from mailgate.delivery.sending import AttemptResult, OutgoingEmail, SmtpTarget
from mailgate.outbox.model import ReplyClass
from tests.delivery.conftest import MAIL_NAME
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.smtp import RawServer, SmtpServer

from .engine import make_engine, notification, plain, smtp_target, unique
from .test_smtp import xoauth2

PERMANENT, PROVIDER_FAULT, TRANSIENT = ReplyClass.PERMANENT, ReplyClass.PROVIDER_FAULT, ReplyClass.TRANSIENT


@dataclass
class Peers:
    """What a case may send to: the fixtures' servers, and engines with settings of its own."""

    engine: DeliveryEngine
    engines: Callable[..., DeliveryEngine]
    raw_server: Callable[..., Awaitable[RawServer]]
    smtp_servers: dict[str, SmtpServer]
    closed_port: int
    token_endpoint: TokenEndpoint

    async def scripted(self, replies: dict[str, str | bytes], **target: Any) -> AttemptResult:
        server = await self.raw_server("script", replies)
        return await self.engine.send(notification(), smtp_target(f"{MAIL_NAME}:{server.port}", **target))

    async def send(self, target: SmtpTarget, email: OutgoingEmail | None = None) -> AttemptResult:
        return await self.engine.send(email or notification(), target)


@pytest.fixture
async def peers(
    make_settings: Callable[..., Settings],
    raw_server: Callable[..., Awaitable[RawServer]],
    smtp_servers: dict[str, SmtpServer],
    closed_port: int,
    token_endpoint: TokenEndpoint,
) -> AsyncIterator[Peers]:
    made: list[DeliveryEngine] = []

    def engines(**settings: object) -> DeliveryEngine:
        made.append(make_engine(make_settings(**settings)))
        return made[-1]

    yield Peers(engines(), engines, raw_server, smtp_servers, closed_port, token_endpoint)
    for engine in made:
        await engine.close()


def row(start: str) -> Rule:
    """The one row of SMTP_RULES whose reason starts so."""
    [found] = [rule for rule in SMTP_RULES if rule.why.startswith(start)]
    return found


@dataclass(frozen=True)
class Case:
    row: Rule
    cause: Cause  # what the engine saw; the row must decide (stage, cause, code, enhanced code)
    stage: Stage
    code: int
    run: Callable[[Peers], Awaitable[AttemptResult]]


async def _trickle(peers: Peers) -> AttemptResult:
    engine = peers.engines(smtp_connect_timeout=30.0, smtp_command_timeout=30.0, delivery_timeout=1.0)
    server = await peers.raw_server("trickle")
    return await engine.send(notification(), smtp_target(f"{MAIL_NAME}:{server.port}"))


async def _hang(peers: Peers) -> AttemptResult:
    server = await peers.raw_server("hang")
    return await peers.send(smtp_target(f"{MAIL_NAME}:{server.port}"))


REACH, GREETING = row("the provider cannot be reached"), row("the greeting")
STARTTLS = {"EHLO": "250-scripted.test\r\n250 STARTTLS"}
CASES: dict[str, Case] = {
    "connection refused": Case(
        REACH,
        Cause.NETWORK,
        Stage.CONNECT,
        0,
        lambda p: p.send(smtp_target(f"{MAIL_NAME}:{p.closed_port}")),
    ),
    "unknown name": Case(
        REACH, Cause.RESOLVE, Stage.RESOLVE, 0, lambda p: p.send(smtp_target("nowhere.test:25"))
    ),
    "policy refuses metadata": Case(
        REACH, Cause.POLICY, Stage.POLICY, 0, lambda p: p.send(smtp_target("metadata.test:25"))
    ),
    "certificate for another name": Case(
        REACH,
        Cause.TLS,
        Stage.TLS,
        0,
        lambda p: p.send(smtp_target(p.smtp_servers["wrong_cert"].host, tls=True)),
    ),
    "421 at the greeting": Case(
        GREETING,
        Cause.REPLY,
        Stage.GREETING,
        421,
        lambda p: p.scripted({"GREETING": "421 4.7.0 too many connections"}),
    ),
    "no greeting": Case(GREETING, Cause.TIMEOUT, Stage.GREETING, 0, _hang),
    "the attempt's deadline": Case(
        row("the attempt's deadline"), Cause.DEADLINE, Stage.DEADLINE, 0, _trickle
    ),
    "CRLF in the subject": Case(
        row("the message cannot be written"),
        Cause.MESSAGE,
        Stage.DATA,
        0,
        lambda p: p.send(
            smtp_target(p.smtp_servers["plain"].host), notification(subject="Hi\r\nBcc: victim@evil.test")
        ),
    ),
    "CRLF in the sender name": Case(
        row("the provider's sender"),
        Cause.SENDER,
        Stage.MAIL_FROM,
        0,
        lambda p: p.send(smtp_target(p.smtp_servers["plain"].host, sender_name="Ops\nBcc: victim@evil.test")),
    ),
    "450 4.7.1 greylisted at RCPT": Case(
        row("4.7.x"),
        Cause.REPLY,
        Stage.RCPT_TO,
        450,
        lambda p: p.scripted({"RCPT": "450 4.7.1 Greylisted, please try again in 5 minutes"}),
    ),
    "451 4.7.0 at MAIL FROM": Case(
        row("4.7.x"),
        Cause.REPLY,
        Stage.MAIL_FROM,
        451,
        lambda p: p.scripted({"MAIL": "451 4.7.0 Rate limited"}),
    ),
    "452 4.2.2 mailbox full at RCPT": Case(
        row("any other 4xx"),
        Cause.REPLY,
        Stage.RCPT_TO,
        452,
        lambda p: p.scripted({"RCPT": "452 4.2.2 Mailbox full"}),
    ),
    "421 at MAIL FROM": Case(
        row("any other 4xx"),
        Cause.REPLY,
        Stage.MAIL_FROM,
        421,
        lambda p: p.scripted({"MAIL": "421 4.3.2 shutting down"}),
    ),
    "STARTTLS not offered": Case(
        row("STARTTLS"),
        Cause.UNSUPPORTED,
        Stage.STARTTLS,
        0,
        lambda p: p.send(smtp_target(p.smtp_servers["no_auth"].host, tls=True)),
    ),
    "STARTTLS answered in plaintext": Case(
        row("STARTTLS"),
        Cause.TLS,
        Stage.STARTTLS,
        0,
        lambda p: p.scripted({**STARTTLS, "STARTTLS": "220 go ahead\r\n500 not really"}, tls=True),
    ),
    "dropped during DATA": Case(
        row("no reply in time"),
        Cause.DROPPED,
        Stage.DATA,
        0,
        lambda p: p.send(smtp_target(p.smtp_servers["plain"].host), notification(unique("drop"))),
    ),
    "no answer after the message": Case(
        row("no reply in time"), Cause.TIMEOUT, Stage.DATA, 0, lambda p: p.scripted({".": b""})
    ),
    "a reply that is not SMTP": Case(
        row("a reply that is not SMTP"),
        Cause.UNREADABLE,
        Stage.RCPT_TO,
        0,
        lambda p: p.scripted({"RCPT": "-1 no"}),
    ),
    "SMTPUTF8 needed": Case(
        row("SMTPUTF8"),
        Cause.UNSUPPORTED,
        Stage.MAIL_FROM,
        0,
        lambda p: _utf8(p),
    ),
    "554 5.7.1 relay denied at RCPT": Case(
        row("5.7.x"),
        Cause.REPLY,
        Stage.RCPT_TO,
        554,
        lambda p: p.scripted({"RCPT": "554 5.7.1 <bob@example.com>: Relay access denied"}),
    ),
    "535 5.7.8 at AUTH": Case(
        row("5.7.x"),
        Cause.REPLY,
        Stage.AUTH,
        535,
        lambda p: p.send(smtp_target(p.smtp_servers["plain"].host, auth=plain("wrong-Passw0rd-000000"))),
    ),
    "550 5.7.1 spam at DATA": Case(
        row("5.7.x"),
        Cause.REPLY,
        Stage.DATA,
        550,
        lambda p: p.scripted({".": "550 5.7.1 Message rejected as spam"}),
    ),
    "530 at RCPT without an enhanced code": Case(
        row("530, 534, 535"),
        Cause.REPLY,
        Stage.RCPT_TO,
        530,
        lambda p: p.scripted({"RCPT": "530 Authentication required"}),
    ),
    "only CRAM-MD5 offered": Case(
        row("EHLO or AUTH"),
        Cause.UNSUPPORTED,
        Stage.AUTH,
        0,
        lambda p: p.scripted({"EHLO": "250-scripted.test\r\n250 AUTH CRAM-MD5"}, auth=plain()),
    ),
    "EHLO and HELO refused": Case(
        row("EHLO or AUTH"),
        Cause.REPLY,
        Stage.EHLO,
        500,
        lambda p: p.scripted({"EHLO": "500 5.5.1 what?", "HELO": "500 5.5.1 what?"}),
    ),
    "the token endpoint refuses the client": Case(
        row("EHLO or AUTH"),
        Cause.TOKEN,
        Stage.AUTH,
        0,
        lambda p: p.send(
            smtp_target(
                p.smtp_servers["plain"].host, auth=xoauth2(p.token_endpoint, secret="cs-Wr0ng-000000")
            )
        ),
    ),
    "553 5.1.8 sender refused": Case(
        row("MAIL FROM refused"),
        Cause.REPLY,
        Stage.MAIL_FROM,
        553,
        lambda p: p.scripted({"MAIL": "553 5.1.8 Sender address rejected: Domain not found"}),
    ),
    "550 5.1.1 unknown user at RCPT": Case(
        row("RCPT TO refused"),
        Cause.REPLY,
        Stage.RCPT_TO,
        550,
        lambda p: p.send(smtp_target(p.smtp_servers["plain"].host), notification("reject@example.com")),
    ),
    "550 without an enhanced code at RCPT": Case(
        row("RCPT TO refused"),
        Cause.REPLY,
        Stage.RCPT_TO,
        550,
        lambda p: p.scripted({"RCPT": "550 No such user"}),
    ),
    "552 5.3.4 too big at DATA": Case(
        row("the message refused at DATA"),
        Cause.REPLY,
        Stage.DATA,
        552,
        lambda p: p.scripted({".": "552 5.3.4 Message size exceeds fixed limit"}),
    ),
    "554 at DATA": Case(
        row("the message refused at DATA"),
        Cause.REPLY,
        Stage.DATA,
        554,
        lambda p: p.scripted({".": "554 Transaction failed"}),
    ),
}


async def _utf8(peers: Peers) -> AttemptResult:
    server = await peers.raw_server("script")  # offers no SMTPUTF8
    return await peers.send(smtp_target(f"{MAIL_NAME}:{server.port}"), notification("jörg@example.com"))


@pytest.mark.parametrize("name", CASES)
async def test_each_row_of_the_smtp_table(peers: Peers, name: str) -> None:
    case = CASES[name]
    result = await case.run(peers)
    report = result.report
    assert (result.reply_class, report.stage, report.reply_code) == (
        case.row.reply_class,
        case.stage,
        case.code,
    ), report
    assert smtp_rule(report.stage, case.cause, report.reply_code, report.enhanced_status_code) is case.row


def test_every_row_has_a_case() -> None:
    assert {id(case.row) for case in CASES.values()} == {id(rule) for rule in SMTP_RULES}


def test_what_no_row_decides_is_retried() -> None:
    assert SMTP_FALLBACK is TRANSIENT
    assert smtp_class(Stage.QUIT, Cause.REPLY, 500, "5.5.2") is TRANSIENT


async def test_a_greylisting_hint_is_honoured(peers: Peers) -> None:
    result = await CASES["450 4.7.1 greylisted at RCPT"].run(peers)
    assert result.retry_after == 300.0


@pytest.mark.parametrize(
    ("code", "text", "seconds"),
    [
        (450, "4.7.1 Greylisted, please try again in 5 minutes", 300.0),
        (451, "4.7.0 Try again after 90 seconds", 90.0),
        (421, "4.7.0 come back in 1 hour", 3600.0),
        (451, "4.7.0 Temporary failure, retry later", None),
        (550, "5.1.1 try again in 5 minutes", None),  # a permanent reply has no "again"
        (452, "4.2.2 try again in 99999 hours", 86400.0),  # capped at a day
    ],
)
def test_smtp_retry_hints(code: int, text: str, seconds: float | None) -> None:
    assert smtp_retry_after(code, text) == seconds


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, ReplyClass.DELIVERED),
        (202, ReplyClass.DELIVERED),
        (204, ReplyClass.DELIVERED),
        (408, TRANSIENT),
        (425, TRANSIENT),
        (429, TRANSIENT),
        (500, TRANSIENT),
        (503, TRANSIENT),
        (400, PERMANENT),
        (401, PERMANENT),
        (404, PERMANENT),
        (422, PERMANENT),
        (301, PROVIDER_FAULT),
        (302, PROVIDER_FAULT),
        (600, PROVIDER_FAULT),
    ],
)
def test_http_classes(status: int, expected: ReplyClass) -> None:
    assert http_class(status) is expected


NOW = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Mon, 04 May 2026 12:01:30 GMT", 90.0),
        ("Monday, 04-May-26 12:00:10 GMT", 10.0),  # the obsolete RFC 850 form
        ("Mon, 04 May 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, NOW) == seconds
