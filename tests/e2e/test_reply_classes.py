"""Reply classes decide a message's fate (delivery.md decision 6), through a served mailgate: the
platform's SendEmail, the workers, real SMTP peers that refuse as real servers do, and the status
the API then shows. Recipient-permanent fails at once without failover; provider faults and
transient replies are retried; no retry lands past the expiry."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from google.protobuf import duration_pb2

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from tests.e2e.conftest import Serve
from tests.e2e.tenant import classes, data_lines, parsed, providers, state_name
from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.rpc import plain
from tests.fixtures.smtp import HANG_UP, RawServers, SmtpServer, unique

STAGE = report_pb.SmtpTestStage


def at(peer_port: int) -> str:
    return f"127.0.0.1:{peer_port}"


async def test_a_bad_mailbox_fails_at_once_without_failover_or_breaker(
    serve: Serve, raw_server: RawServers, mailboxes: dict[str, SmtpServer]
) -> None:
    tenant = await serve(MAILGATE_BREAKER_FAULTS="1")  # one provider fault would open it
    replies = {"RCPT": "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"}
    peer = await raw_server("script", replies)
    active = await tenant.smtp_provider(at(peer.port), active=True)
    spare = mailboxes["plain"]
    await tenant.fallbacks(await tenant.smtp_provider(spare.host))

    nobody = unique("nobody")
    queued = await tenant.send(nobody, max_attempts=5)
    message = await tenant.settled(queued.id)
    assert state_name(message.state) == "failed"
    assert (classes(message), providers(message)) == (["permanent"], [active])
    last = message.last_attempt
    assert (last.stage, last.reply_code, last.enhanced_status_code) == (
        STAGE.SMTP_TEST_STAGE_RCPT_TO,
        550,
        "5.1.1",
    )
    assert "User unknown" in last.reply_text
    assert not message.HasField("next_attempt_time")
    assert spare.received(nobody) == []  # no failover for the recipient's fault

    # Nor did it count against the provider: the next message goes through it.
    replies.clear()
    again = await tenant.settled((await tenant.send(unique("carol"))).id)
    assert (state_name(again.state), providers(again)) == ("sent", [active])


PROVIDER_FAULTS: dict[str, tuple[str, dict[str, str], dict[str, Any], int, int]] = {
    # case: (peer behaviour, its replies, the provider's auth, the stage and code every attempt ends at)
    "421 at the greeting": (
        "script",
        {"GREETING": "421 4.3.2 Service not available, closing transmission channel"},
        {},
        STAGE.SMTP_TEST_STAGE_GREETING,
        421,
    ),
    "535 at AUTH": (
        "script",
        {"AUTH": "535 5.7.8 Authentication credentials invalid"},
        {"user": USER, "plain": plain(PASSWORD)},
        STAGE.SMTP_TEST_STAGE_AUTH,
        535,
    ),
    "a peer that never greets": ("hang", {}, {}, STAGE.SMTP_TEST_STAGE_GREETING, 0),
}


@pytest.mark.parametrize("case", list(PROVIDER_FAULTS))
async def test_provider_faults_are_retried_until_the_attempts_run_out(
    case: str, serve: Serve, raw_server: RawServers
) -> None:
    behaviour, replies, auth, stage, code = PROVIDER_FAULTS[case]
    tenant = await serve()
    peer = await raw_server(behaviour, replies)
    active = await tenant.smtp_provider(at(peer.port), active=True, **auth)

    queued = await tenant.send(unique(), max_attempts=3)
    message = await tenant.settled(queued.id)
    assert state_name(message.state) == "failed"
    assert classes(message) == ["provider_fault"] * 3
    assert providers(message) == [active] * 3
    assert {(attempt.stage, attempt.reply_code) for attempt in message.attempts} == {(stage, code)}
    assert peer.accepted >= 3  # every attempt reached the peer, none was sent
    assert "DATA" not in peer.commands


TRANSIENT: dict[str, tuple[dict[str, str | bytes], int, int]] = {
    # case: (the peer's replies until it recovers, the stage and code the failed attempts end at)
    "451 at RCPT TO": ({"RCPT": "451 4.3.0 Temporary lookup failure"}, STAGE.SMTP_TEST_STAGE_RCPT_TO, 451),
    "452 at MAIL FROM": (
        {"MAIL": "452 4.3.1 Insufficient system storage"},
        STAGE.SMTP_TEST_STAGE_MAIL_FROM,
        452,
    ),
    "hanging up after the message": ({".": HANG_UP}, STAGE.SMTP_TEST_STAGE_DATA, 0),
    "silent after the message": ({".": b""}, STAGE.SMTP_TEST_STAGE_DATA, 0),
}


@pytest.mark.parametrize("case", list(TRANSIENT))
async def test_transient_failures_are_retried_until_the_peer_takes_the_message(
    case: str, serve: Serve, raw_server: RawServers
) -> None:
    failing, stage, code = TRANSIENT[case]
    tenant = await serve()
    replies = dict(failing)
    peer = await raw_server("script", replies)
    active = await tenant.smtp_provider(at(peer.port), active=True)

    queued = await tenant.send(unique(), max_attempts=50)  # more than a slow test needs to see two
    await tenant.reached(queued.id, lambda message: message.attempt_count >= 2)
    replies.clear()  # the peer recovers
    message = await tenant.settled(queued.id)
    assert state_name(message.state) == "sent"
    *failed, delivered = message.attempts
    assert len(failed) >= 2 and delivered.reply_class == pb.REPLY_CLASS_DELIVERED
    assert {(a.reply_class, a.stage, a.reply_code) for a in failed} == {
        (pb.REPLY_CLASS_TRANSIENT, stage, code)
    }
    assert set(providers(message)) == {active}
    # Every copy the peer received, the failed attempts' too, carries the one Message-ID.
    copies = data_lines(peer.commands)
    assert len(copies) >= (len(failed) + 1 if stage == STAGE.SMTP_TEST_STAGE_DATA else 1)
    assert {parsed(copy)["Message-ID"] for copy in copies} == {queued.internet_message_id}


async def test_a_retry_hint_is_honoured(serve: Serve, raw_server: RawServers) -> None:
    tenant = await serve()
    replies = {"RCPT": "450 4.7.1 Greylisted, please try again in 1 seconds"}
    peer = await raw_server("script", replies)
    await tenant.smtp_provider(at(peer.port), active=True)

    queued = await tenant.send(unique())
    await tenant.reached(queued.id, lambda message: message.attempt_count >= 1)
    replies.clear()
    message = await tenant.settled(queued.id)
    *greylisted, delivered = classes(message)
    assert (state_name(message.state), set(greylisted), delivered) == ("sent", {"transient"}, "delivered")
    starts = [attempt.start_time.ToDatetime() for attempt in message.attempts]
    # The hint is a floor under the back-off (0.05 to 0.2 s here) before every retry.
    assert all(later - earlier >= timedelta(seconds=1) for earlier, later in pairwise(starts))


async def test_a_retry_that_would_land_past_the_expiry_expires_the_message(
    serve: Serve, raw_server: RawServers
) -> None:
    tenant = await serve()
    peer = await raw_server("script", {"RCPT": "450 4.7.1 Greylisted, please try again in 5 minutes"})
    await tenant.smtp_provider(at(peer.port), active=True)

    queued = await tenant.send(unique(), expires_after=duration_pb2.Duration(seconds=60))
    message = await tenant.settled(queued.id)
    assert (state_name(message.state), classes(message)) == ("expired", ["transient"])
    assert not message.HasField("next_attempt_time") and not message.HasField("send_time")
    assert message.expire_time.ToDatetime() - message.create_time.ToDatetime() == timedelta(seconds=60)
    assert [command for command in peer.commands if command.startswith("RCPT")] == [
        f"RCPT TO:<{queued.to[0]}>"
    ]
