"""RFC 2920 pipelining of a notification's envelope, against real servers that offer it: an aiosmtpd
sink (STARTTLS and AUTH) and scripted peers that answer a command group only once all of it has
arrived, so only a pipelining client gets its replies. What a server without PIPELINING receives
stays the sequential conversation."""

from __future__ import annotations

import email.policy
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.report import Stage, TestReport
from mailgate.delivery.smtp import SmtpTester, TestEmail
from mailgate.outbox.model import Bodies, ReplyClass
from tests.delivery.conftest import MAIL_NAME, Pki
from tests.fixtures.secrets import assert_no_secrets
from tests.fixtures.smtp import Hold, RawServer

from .engine import make_engine, notification, plain, smtp_target, unique
from .sinks import RunningSink, counting_sink, wait_until

Scripted = Callable[..., Awaitable[RawServer]]
PIPELINING_EHLO = "250-scripted.test\r\n250-PIPELINING\r\n250 AUTH PLAIN"
SENDER = "noreply@acme.example"


def until(last: str, count: int = 1) -> Hold:
    """A group is complete once it holds `count` commands starting with `last`."""
    return lambda group: sum(command.startswith(last) for command in group) == count


def replies(report: TestReport) -> dict[Stage, tuple[int, str]]:
    """Each stage's reply code and enhanced status code, as the timeline shows them."""
    return {step.stage: (step.reply_code, step.enhanced_status_code) for step in report.steps}


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[DeliveryEngine]:
    engine = make_engine(settings)
    yield engine
    await engine.close()


@pytest.fixture
def sink(pki: Pki) -> Iterator[RunningSink]:
    with counting_sink(pki.server, pipelining=True) as running:
        yield running


async def pipelining_peer(
    raw_server: Scripted, script: dict[str, str | bytes] | None = None, hold: Hold | None = None
) -> RawServer:
    """A scripted peer whose EHLO offers PIPELINING; `script` may change between sends."""
    script = {} if script is None else script
    script.setdefault("EHLO", PIPELINING_EHLO)
    return await raw_server("script", script, hold=hold)


def at(server: RawServer) -> str:
    return f"{MAIL_NAME}:{server.port}"


def after_data(commands: list[str]) -> list[str]:
    """What a scripted peer received after the last DATA."""
    last = len(commands) - 1 - commands[::-1].index("DATA")
    return commands[last + 1 :]


# --- the envelope in one write -------------------------------------------------------------------


async def test_the_envelope_arrives_as_one_group_and_each_reply_is_recorded_at_its_stage(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    # The peer answers nothing of a group until its DATA arrived: a client waiting for MAIL's
    # reply before sending RCPT would wait forever.
    server = await raw_server("script", {"EHLO": PIPELINING_EHLO}, hold=until("DATA"))
    target = smtp_target(f"{MAIL_NAME}:{server.port}", auth=plain())
    first, second = unique(), unique()
    results = [
        await engine.send(notification(first), target),
        await engine.send(notification(second), target),
    ]

    assert [result.reply_class for result in results] == [ReplyClass.DELIVERED] * 2
    assert server.groups == [
        [f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{first}>", "DATA"],
        ["RSET", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{second}>", "DATA"],  # the pooled connection
    ]
    assert server.accepted == 1 and server.commands.count(".") == 2
    reused = results[1].report
    assert [step.stage for step in reused.steps] == [Stage.MAIL_FROM, Stage.RCPT_TO, Stage.DATA]
    assert replies(reused) == {
        Stage.MAIL_FROM: (250, "2.1.0"),
        Stage.RCPT_TO: (250, "2.1.5"),
        Stage.DATA: (250, "2.0.0"),
    }
    transcript = list(reused.transcript)
    start = transcript.index("* the server offers PIPELINING: RSET, MAIL, RCPT, DATA in one write")
    sending = transcript[start + 9]
    assert sending.startswith("* sending the message (") and sending.endswith(" bytes) and the final '.'")
    assert transcript[start + 1 :] == [
        "C: RSET",
        f"C: MAIL FROM:<{SENDER}>",
        f"C: RCPT TO:<{second}>",
        "C: DATA",
        "S: 250 2.1.0 ok",  # the script answers RSET as it answers MAIL
        "S: 250 2.1.0 ok",
        "S: 250 2.1.5 ok",
        "S: 354 go ahead",
        sending,
        "S: 250 2.0.0 queued",
    ]


async def test_an_aiosmtpd_server_offering_pipelining_gets_every_message_over_one_connection(
    engine: DeliveryEngine, sink: RunningSink, caplog: pytest.LogCaptureFixture
) -> None:
    target = smtp_target(sink.host, tls=True, auth=plain())
    receivers = [unique() for _ in range(5)]
    results = [await engine.send(notification(receiver), target) for receiver in receivers]

    assert [result.reply_class for result in results] == [ReplyClass.DELIVERED] * 5
    assert (sink.sink.connections, sink.sink.rsets) == (1, 4)
    assert [envelope.rcpt_tos for envelope in sink.sink.messages] == [[receiver] for receiver in receivers]
    assert all(envelope.mail_from == SENDER for envelope in sink.sink.messages)
    first = results[0].report  # a new connection: MAIL, RCPT and DATA, no RSET
    assert "* the server offers PIPELINING: MAIL, RCPT, DATA in one write" in first.transcript
    assert replies(results[1].report) == {
        Stage.MAIL_FROM: (250, ""),
        Stage.RCPT_TO: (250, "2.1.5"),
        Stage.DATA: (250, "2.0.0"),
    }
    assert_no_secrets(caplog, *results)


async def test_the_message_after_a_pipelined_envelope_arrives_exactly(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    # The message goes out after the pipelined DATA's 354: CRLF line ends, leading dots doubled.
    text = ".a line that starts with a dot\n..and one with two\nand the end.\n"
    sent = notification(unique(), bodies=Bodies(text, None))
    result = await engine.send(sent, smtp_target(sink.host, tls=True, auth=plain()))

    assert result.reply_class is ReplyClass.DELIVERED
    [envelope] = sink.sink.messages
    message = BytesParser(policy=email.policy.default).parsebytes(envelope.original_content)
    assert isinstance(message, EmailMessage) and not message.defects
    assert message["Message-ID"] == sent.message_id
    assert message.get_content().replace("\r\n", "\n") == text


# --- refusals inside the group ---------------------------------------------------------------------


async def test_a_bad_mailbox_is_permanent_sends_nothing_and_keeps_the_connection(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    target = smtp_target(sink.host, tls=True, auth=plain())
    result = await engine.send(notification("reject@example.com"), target)

    assert result.reply_class is ReplyClass.PERMANENT
    report = result.report
    assert (report.stage, report.reply_code, report.enhanced_status_code) == (Stage.RCPT_TO, 550, "5.1.1")
    assert [step.stage for step in report.steps][-2:] == [Stage.MAIL_FROM, Stage.RCPT_TO]
    assert report.detail.endswith("sent to none")
    # DATA went with the group; aiosmtpd refused it, and that reply decides nothing.
    assert report.transcript[-1] == "S: 503 Error: need RCPT command"
    assert sink.sink.messages == []
    again = await engine.send(notification(), target)
    assert again.reply_class is ReplyClass.DELIVERED
    assert (sink.sink.connections, sink.sink.rsets) == (1, 1)


async def test_a_transient_recipient_refusal_sends_nothing(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    script: dict[str, str | bytes] = {
        "RCPT": "451 4.3.0 Temporary recipient lookup failure",
        "DATA": "503 5.5.1 No valid recipients",
    }
    server = await pipelining_peer(raw_server, script, hold=until("DATA"))
    result = await engine.send(notification(), smtp_target(at(server), auth=plain()))

    assert result.reply_class is ReplyClass.TRANSIENT
    report = result.report
    assert (report.stage, report.reply_code, report.enhanced_status_code) == (Stage.RCPT_TO, 451, "4.3.0")
    assert "." not in server.commands
    assert report.transcript[-1] == "S: 503 5.5.1 No valid recipients"


async def test_data_accepted_after_the_only_recipient_was_refused_ends_with_a_lone_dot(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    # RFC 2920 3.1: a client may not count on DATA being refused when no RCPT was accepted.
    script: dict[str, str | bytes] = {
        "RCPT": "550 5.1.1 No such user",
        ".": "554 5.5.1 No valid recipients",
    }
    server = await pipelining_peer(raw_server, script, hold=until("DATA"))
    target = smtp_target(at(server), auth=plain())
    result = await engine.send(notification(), target)

    assert (result.reply_class, result.report.stage) == (ReplyClass.PERMANENT, Stage.RCPT_TO)
    assert after_data(server.commands) == ["."]  # no message at all
    assert result.report.transcript[-3:] == (
        "* the server accepted DATA although no recipient was: ending it with a lone '.'",
        "C: .",
        "S: 554 5.5.1 No valid recipients",
    )
    script.clear()  # the connection is still in step: the next message uses it
    script["EHLO"] = PIPELINING_EHLO
    again = await engine.send(notification(), target)
    assert again.reply_class is ReplyClass.DELIVERED
    assert server.accepted == 1 and server.groups[-1][0] == "RSET"


async def test_a_refused_sender_decides_and_the_connection_stays(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    later = smtp_target(sink.host, tls=True, auth=plain(), sender_address="later@acme.example")
    result = await engine.send(notification(), later)

    assert result.reply_class is ReplyClass.TRANSIENT
    report = result.report
    assert (report.stage, report.reply_code, report.enhanced_status_code) == (Stage.MAIL_FROM, 451, "4.3.0")
    assert report.steps[-1].stage is Stage.MAIL_FROM
    # RCPT and DATA were sent with MAIL; aiosmtpd refused them, which decides nothing.
    assert report.transcript[-2:] == ("S: 503 Error: need MAIL command", "S: 503 Error: need RCPT command")
    assert sink.sink.messages == []
    again = await engine.send(notification(), smtp_target(sink.host, tls=True, auth=plain()))
    assert again.reply_class is ReplyClass.DELIVERED
    assert (sink.sink.connections, sink.sink.rsets) == (1, 1)


async def test_a_server_that_refuses_the_sender_but_takes_data_gets_no_message_at_all(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    # MAIL refused, RCPT accepted, DATA 354: a "." would send an empty message to that recipient.
    server = await pipelining_peer(raw_server, {"MAIL": "550 5.7.1 Sender not allowed"}, hold=until("DATA"))
    target = smtp_target(at(server), auth=plain())
    result = await engine.send(notification(), target)

    report = result.report
    assert (result.reply_class, report.stage, report.reply_code) == (
        ReplyClass.PROVIDER_FAULT,
        Stage.MAIL_FROM,
        550,
    )
    assert "* the server accepted DATA and a recipient after a refusal: closing the connection" in (
        report.transcript
    )
    assert after_data(server.commands) == []
    assert engine.pool.counts("p-1") == (0, 0, 0)


async def test_data_refused_sends_no_message(engine: DeliveryEngine, raw_server: Scripted) -> None:
    server = await pipelining_peer(
        raw_server, {"DATA": "554 5.3.4 Message too big for system"}, hold=until("DATA")
    )
    result = await engine.send(notification(), smtp_target(at(server), auth=plain()))

    report = result.report
    assert (result.reply_class, report.stage, report.reply_code, report.enhanced_status_code) == (
        ReplyClass.PERMANENT,
        Stage.DATA,
        554,
        "5.3.4",
    )
    assert replies(report)[Stage.RCPT_TO] == (250, "2.1.5")
    assert after_data(server.commands) == []


async def test_a_server_hanging_up_at_the_message_is_transient_and_discarded(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    target = smtp_target(sink.host, tls=True, auth=plain())
    dropped = await engine.send(notification(unique("drop")), target)
    assert (dropped.reply_class, dropped.report.stage) == (ReplyClass.TRANSIENT, Stage.DATA)
    assert engine.pool.counts("p-1") == (0, 0, 0)


async def test_replies_that_arrive_together_are_each_read_whole(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    # The group's replies come in one write; MAIL's has two lines.
    script: dict[str, str | bytes] = {"MAIL": b"250-2.1.0 Sender ok\r\n250 2.1.0 Go on\r\n"}
    server = await pipelining_peer(raw_server, script, hold=until("DATA"))
    result = await engine.send(notification(), smtp_target(at(server), auth=plain()))

    assert result.reply_class is ReplyClass.DELIVERED
    transcript = result.report.transcript
    at_mail = transcript.index("S: 250-2.1.0 Sender ok")
    assert transcript[at_mail : at_mail + 3] == (
        "S: 250-2.1.0 Sender ok",
        "S: 250 2.1.0 Go on",
        "S: 250 2.1.5 ok",
    )


@pytest.mark.parametrize("pipelining", [True, False])
async def test_a_reply_that_is_not_smtp_fails_its_stage_alike_either_way(
    engine: DeliveryEngine, raw_server: Scripted, pipelining: bool
) -> None:
    script: dict[str, str | bytes] = {"RCPT": b"what is this\r\n"}
    if pipelining:
        server = await pipelining_peer(raw_server, script)
    else:
        server = await raw_server("script", script)
    result = await engine.send(notification(), smtp_target(at(server), auth=plain()))

    report = result.report
    assert (result.reply_class, report.stage, report.detail) == (
        ReplyClass.PROVIDER_FAULT,
        Stage.RCPT_TO,
        "the server's reply is not valid SMTP: Malformed SMTP response line: what is this\r\n",
    )
    assert engine.pool.counts("p-1") == (0, 0, 0)


# --- several recipients ----------------------------------------------------------------------------


async def test_several_recipients_are_judged_before_data_is_sent(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    server = await pipelining_peer(raw_server, hold=until("RCPT", 2))
    first, second = unique(), unique()
    result = await engine.send(notification(first, second), smtp_target(at(server), auth=plain()))

    assert result.reply_class is ReplyClass.DELIVERED
    assert server.groups == [[f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{first}>", f"RCPT TO:<{second}>"]]
    assert server.commands.count("DATA") == 1 and server.commands.count(".") == 1
    assert "* the server offers PIPELINING: MAIL, RCPT in one write" in result.report.transcript


# --- the pooled connection ---------------------------------------------------------------------------


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    engine: DeliveryEngine, sink: RunningSink
) -> None:
    target = smtp_target(sink.host, tls=True, auth=plain())
    await engine.send(notification(), target)
    sink.sink.kick()
    await wait_until(lambda: not sink.sink.live)

    result = await engine.send(notification(), target)
    assert result.reply_class is ReplyClass.DELIVERED
    assert "* the pooled connection is no longer usable: opening a new one" in result.report.transcript
    assert (sink.sink.connections, len(sink.sink.messages)) == (2, 2)


async def test_a_refused_rset_in_the_group_opens_a_new_connection(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    server = await pipelining_peer(
        raw_server, {"RSET": "421 4.4.2 idle too long, closing"}, hold=until("DATA")
    )
    target = smtp_target(at(server), auth=plain())
    first, second = unique(), unique()
    results = [
        await engine.send(notification(first), target),
        await engine.send(notification(second), target),
    ]

    assert [result.reply_class for result in results] == [ReplyClass.DELIVERED] * 2
    assert server.accepted == 2 and server.commands.count(".") == 2
    mail = f"MAIL FROM:<{SENDER}>"
    assert server.groups == [
        [mail, f"RCPT TO:<{first}>", "DATA"],
        ["RSET", mail, f"RCPT TO:<{second}>", "DATA"],  # answered 421 first: no message follows
        [mail, f"RCPT TO:<{second}>", "DATA"],  # on the new connection
    ]
    transcript = results[1].report.transcript
    assert "S: 421 4.4.2 idle too long, closing" in transcript
    assert "* the pooled connection is no longer usable: opening a new one" in transcript


async def test_each_reply_is_awaited_within_the_command_timeout(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    server = await pipelining_peer(raw_server, hold=lambda group: False)  # never answers a group
    result = await engine.send(notification(), smtp_target(at(server), auth=plain()))

    report = result.report
    assert (result.reply_class, report.stage, report.detail) == (
        ReplyClass.TRANSIENT,
        Stage.MAIL_FROM,
        "no reply within 1s",
    )
    assert engine.pool.counts("p-1") == (0, 0, 0)


# --- without PIPELINING, and the test email ------------------------------------------------------


async def test_a_server_without_pipelining_gets_the_sequential_conversation(
    engine: DeliveryEngine, raw_server: Scripted
) -> None:
    server = await raw_server("script")  # its EHLO offers AUTH PLAIN only
    target = smtp_target(at(server), auth=plain())
    first, second = unique(), unique()
    results = [
        await engine.send(notification(first), target),
        await engine.send(notification(second), target),
    ]

    assert [result.reply_class for result in results] == [ReplyClass.DELIVERED] * 2
    second_message = server.commands[server.commands.index("RSET") :]
    assert second_message[:4] == ["RSET", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{second}>", "DATA"]
    transcript = results[1].report.transcript
    assert transcript[:8] == (
        "* reusing the connection to 127.0.0.1 (message 2 on it)",
        "C: RSET",
        "S: 250 2.1.0 ok",
        f"C: MAIL FROM:<{SENDER}>",
        "S: 250 2.1.0 ok",
        f"C: RCPT TO:<{second}>",
        "S: 250 2.1.5 ok",
        "C: DATA",
    )
    assert not any("PIPELINING" in line for line in transcript)


async def test_the_test_email_stays_step_by_step(tester: SmtpTester, raw_server: Scripted) -> None:
    # Its report is a timeline of each step's own latency: one command, one reply, in turn.
    server = await pipelining_peer(raw_server)
    report = await tester.send_test(
        TestEmail(
            host=at(server),
            tls=False,
            sender_address=SENDER,
            sender_name="ACME",
            receiver_address="bob@example.com",
        )
    )
    assert report.stage is Stage.DONE
    transcript = list(report.transcript)
    mail = transcript.index(f"C: MAIL FROM:<{SENDER}>")
    assert transcript[mail : mail + 5] == [
        f"C: MAIL FROM:<{SENDER}>",
        "S: 250 2.1.0 ok",
        "C: RCPT TO:<bob@example.com>",
        "S: 250 2.1.5 ok",
        "C: DATA",
    ]
    assert not any("in one write" in line for line in transcript)
