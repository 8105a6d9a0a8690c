"""Failover and recovery through a served mailgate (delivery.md decision 7): the active provider's
server starts refusing with 421, its breaker opens after MAILGATE_BREAKER_FAULTS provider faults
and mail goes to the fallback; once the server works again and the cool-down is over, one probe
closes the breaker and the next message is back on the active provider. One message, one
Message-ID, in the bytes every server received; and in the history each switch once, by mailgate
itself, the chain intact."""

from __future__ import annotations

import asyncio

import pytest

from mailgate.history.events import FAILED_BACK, FAILED_OVER
from mailgate.history.verify import verify_instance
from tests.e2e.conftest import Serve
from tests.e2e.tenant import Tenant, classes, data_lines, eventually, parsed, providers, state_name
from tests.fixtures.smtp import RawServers, SmtpServer, unique
from tests.history.helpers import events, payload

COOLDOWN = 4.0  # seconds; long enough that the test sees the breaker open, even on a busy machine


def history(caplog: pytest.LogCaptureFixture, tenant: Tenant) -> list[tuple[str, str]]:
    """The tenant's breaker changes and failovers as the log says them: (what, provider), in order."""
    return [
        (WORDS[record.getMessage()], str(record.__dict__["provider"]))
        for record in caplog.records
        if record.name == "mailgate.delivery"
        and record.getMessage() in WORDS
        and record.__dict__.get("instance") == tenant.server.instance
    ]


WORDS = {
    "provider breaker opened: its messages fail over": "opened",
    "delivery failed over to a fallback provider": "failed over",
    "provider breaker half-open: one message probes the provider": "half-open",
    "delivery back on the active provider": "back",
    "provider breaker closed": "closed",
}


async def test_failover_to_the_fallback_and_back_after_a_probe(
    serve: Serve, raw_server: RawServers, mailboxes: dict[str, SmtpServer], caplog: pytest.LogCaptureFixture
) -> None:
    tenant = await serve(MAILGATE_BREAKER_FAULTS="2", MAILGATE_BREAKER_COOLDOWN=str(COOLDOWN))
    # At first the active provider's server takes the whole message, then defers it for a second.
    replies: dict[str, str | bytes] = {".": "451 4.3.0 Temporary failure, please try again in 1 seconds"}
    peer = await raw_server("script", replies)
    active = await tenant.smtp_provider(f"127.0.0.1:{peer.port}", active=True)
    spare = mailboxes["plain"]
    fallback = await tenant.smtp_provider(spare.host)
    await tenant.fallbacks(fallback)

    erin = unique("erin")
    queued = await tenant.send(erin)
    await tenant.reached(queued.id, lambda message: message.attempt_count >= 1)
    # Then the server goes down: every connection is greeted with 421, the pooled one is gone.
    replies.clear()
    replies["GREETING"] = "421 4.3.2 Service not available, closing transmission channel"
    for writer in peer.writers:
        writer.close()

    message = await tenant.settled(queued.id)
    assert state_name(message.state) == "sent"
    assert classes(message) == ["transient", "provider_fault", "provider_fault", "delivered"]
    assert providers(message) == [active, active, active, fallback]
    assert history(caplog, tenant) == [("opened", active), ("failed over", fallback)]
    # The bytes of both attempts that carried the message: the same Message-ID, the API's.
    [at_active] = data_lines(peer.commands)
    assert parsed(at_active)["Message-ID"] == spare.message(erin)["Message-ID"] == queued.internet_message_id

    # While the breaker is open, new mail goes straight to the fallback.
    during = await tenant.settled((await tenant.send(unique("frank"))).id)
    assert (state_name(during.state), providers(during)) == ("sent", [fallback])

    # The server recovers; after the cool-down one probe closes the breaker, and mail is back.
    replies.clear()
    await asyncio.sleep(COOLDOWN)  # a lower bound the breaker keeps, not a measurement
    probe = await tenant.settled((await tenant.send(unique("gina"))).id)
    assert (state_name(probe.state), providers(probe)) == ("sent", [active])
    await eventually(lambda: len(history(caplog, tenant)) == 4, what="the breaker closed")
    assert history(caplog, tenant)[2:] == [("half-open", active), ("closed", active)]
    # The probe was one message; the next one is where mail goes again: back.
    after = await tenant.settled((await tenant.send(unique("hal"))).id)
    assert providers(after) == [active]
    assert history(caplog, tenant)[4:] == [("back", active)]
    assert len(data_lines(peer.commands)) == 3  # erin's first attempt, gina's and hal's

    # The history has each switch once, made by mailgate itself, and its chain holds.
    switches = await events(tenant.admin, event_types=[FAILED_OVER, FAILED_BACK], asc=True)
    assert [(e.type.type, payload(e)) for e in switches] == [
        (
            FAILED_OVER,
            {
                "fromProviderId": active,
                "toProviderId": fallback,
                "reason": "breaker_open",
                "breaker": "open",
                "consecutiveFaults": 2.0,
            },
        ),
        (FAILED_BACK, {"fromProviderId": fallback, "toProviderId": active, "reason": "breaker_closed"}),
    ]
    assert all(e.editor.service == "system" and e.editor.user_id == "" for e in switches)
    assert (await verify_instance(tenant.server.services.db, tenant.server.instance)).intact


async def test_a_recipient_refusal_on_the_fallback_does_not_send_it_back(
    serve: Serve, raw_server: RawServers, mailboxes: dict[str, SmtpServer], caplog: pytest.LogCaptureFixture
) -> None:
    """A fallback that refuses the recipient fails the message; the breaker of the active provider
    stays open and nothing else is tried."""
    tenant = await serve(MAILGATE_BREAKER_FAULTS="1", MAILGATE_BREAKER_COOLDOWN="60")
    down = await raw_server("script", {"GREETING": "421 4.3.2 Service not available"})
    active = await tenant.smtp_provider(f"127.0.0.1:{down.port}", active=True)
    spare = mailboxes["plain"]
    fallback = await tenant.smtp_provider(spare.host)
    await tenant.fallbacks(fallback)

    message = await tenant.settled((await tenant.send("reject@example.com", max_attempts=5)).id)
    assert state_name(message.state) == "failed"
    assert (classes(message), providers(message)) == (["provider_fault", "permanent"], [active, fallback])
    assert down.accepted == 1
    assert history(caplog, tenant) == [("opened", active), ("failed over", fallback)]
    [switch] = await events(tenant.admin, event_types=[FAILED_OVER, FAILED_BACK])
    assert payload(switch)["fromProviderId"] == active and payload(switch)["toProviderId"] == fallback
