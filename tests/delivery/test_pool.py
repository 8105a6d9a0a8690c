"""The SMTP connection pool's rules, each against a real aiosmtpd server (STARTTLS and AUTH) that
counts its sessions, RSETs and QUITs: reuse with RSET, messages per connection, idle close, the
per-provider limit, the settings fingerprint, discarding what failed, close()."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.pool import fingerprint
from mailgate.delivery.report import Stage
from mailgate.outbox.model import ReplyClass
from tests.delivery.conftest import MAIL_NAME, Pki
from tests.fixtures.secrets import assert_no_secrets
from tests.fixtures.smtp import RawServer

from .engine import make_engine, notification, plain, smtp_target, unique
from .sinks import OTHER_PASSWORD, RunningSink, counting_sink, wait_until

Engines = Callable[..., Awaitable[DeliveryEngine]]


@pytest.fixture
def sink(pki: Pki) -> Iterator[RunningSink]:
    with counting_sink(pki.server) as running:
        yield running


@pytest.fixture
async def engines(make_settings: Callable[..., Settings]) -> AsyncIterator[Engines]:
    """Engines with pool settings of the test's choosing; all closed at the end."""
    made: list[DeliveryEngine] = []

    async def make(**settings: object) -> DeliveryEngine:
        engine = make_engine(make_settings(**settings))
        made.append(engine)
        return engine

    yield make
    for engine in made:
        await engine.close()


async def test_messages_reuse_one_connection_with_rset_between(
    engines: Engines, sink: RunningSink, caplog: pytest.LogCaptureFixture
) -> None:
    engine = await engines()
    target = smtp_target(sink.host, tls=True, auth=plain())
    results = [await engine.send(notification(unique()), target) for _ in range(5)]

    assert [result.reply_class for result in results] == [ReplyClass.DELIVERED] * 5
    assert (sink.sink.connections, sink.sink.rsets, len(sink.sink.messages)) == (1, 4, 5)
    reused = results[1].report
    # The timeline shows what this attempt did: no connect, TLS or AUTH of its own.
    assert [step.stage for step in reused.steps] == [Stage.MAIL_FROM, Stage.RCPT_TO, Stage.DATA]
    assert reused.transcript[:2] == ("* reusing the connection to 127.0.0.1 (message 2 on it)", "C: RSET")
    assert (reused.address, reused.auth_mechanism) == ("127.0.0.1", "PLAIN")
    assert_no_secrets(caplog, *(result.report for result in results))


async def test_a_connection_carries_at_most_its_share_of_messages(
    engines: Engines, sink: RunningSink
) -> None:
    engine = await engines(smtp_pool_messages=3)
    target = smtp_target(sink.host, tls=True, auth=plain())
    for _ in range(7):
        assert (await engine.send(notification(), target)).reply_class is ReplyClass.DELIVERED
    # 3 + 3 + 1 messages; RSET before the 2nd and 3rd message of each; a full one says QUIT.
    assert (sink.sink.connections, sink.sink.rsets) == (3, 4)
    await wait_until(lambda: sink.sink.quits == 2 and len(sink.sink.live) == 1)


async def test_an_idle_connection_is_closed_after_the_idle_timeout(
    engines: Engines, sink: RunningSink
) -> None:
    engine = await engines(smtp_pool_idle_timeout=0.2)
    target = smtp_target(sink.host, tls=True, auth=plain())
    await engine.send(notification(), target)
    assert engine.pool.counts("p-1") == (1, 1, 0)

    await wait_until(lambda: sink.sink.quits == 1 and not sink.sink.live)
    assert engine.pool.counts("p-1") == (0, 0, 0)
    assert (await engine.send(notification(), target)).reply_class is ReplyClass.DELIVERED
    assert (sink.sink.connections, sink.sink.rsets) == (2, 0)


async def test_sends_beyond_the_per_provider_limit_wait_for_a_connection(
    engines: Engines, sink: RunningSink
) -> None:
    engine = await engines(smtp_pool_size=2)
    target = smtp_target(sink.host, tls=True, auth=plain())
    sink.sink.hold.clear()  # the server keeps every DATA waiting
    sends = [asyncio.create_task(engine.send(notification(), target)) for _ in range(6)]

    await wait_until(lambda: sink.sink.holding == 2 and engine.pool.counts("p-1") == (2, 0, 4))
    assert len(sink.sink.live) == 2
    sink.sink.hold.set()
    results = await asyncio.gather(*sends)

    assert [result.reply_class for result in results] == [ReplyClass.DELIVERED] * 6
    assert (sink.sink.connections, sink.sink.most_at_once, len(sink.sink.messages)) == (2, 2, 6)
    waited = [result for result in results if any("waited" in line for line in result.report.transcript)]
    assert len(waited) == 4


async def test_the_wait_for_a_connection_ends_at_the_attempts_deadline(
    engines: Engines, sink: RunningSink
) -> None:
    engine = await engines(smtp_pool_size=1, delivery_timeout=0.5)
    target = smtp_target(sink.host, tls=True, auth=plain())
    held = await engine.pool.acquire("p-1", fingerprint(target))  # the provider's one place, taken

    result = await engine.send(notification(), target)
    assert (result.reply_class, result.report.stage) == (ReplyClass.TRANSIENT, Stage.DEADLINE)
    assert result.report.detail == (
        "the attempt did not finish within 0.5s; it was waiting for a free connection to the provider "
        "(MAILGATE_SMTP_POOL_SIZE)"
    )
    assert engine.pool.counts("p-1") == (1, 0, 0)  # the deadline left no waiter behind
    assert sink.sink.tcp_connections == 0

    engine.pool.release(held, None, healthy=False)
    assert (await engine.send(notification(), target)).reply_class is ReplyClass.DELIVERED


async def test_changed_settings_or_secret_never_reuse_a_connection(
    engines: Engines, sink: RunningSink
) -> None:
    engine = await engines()
    before = smtp_target(sink.host, tls=True, auth=plain())
    changed = smtp_target(sink.host, tls=True, auth=plain(OTHER_PASSWORD))
    other_provider = smtp_target(sink.host, tls=True, auth=plain(), provider_id="p-2")

    await engine.send(notification(), before)
    await engine.send(notification(), changed)  # a new secret: a new connection, the old one goes
    await wait_until(lambda: sink.sink.quits == 1)
    await engine.send(notification(), changed)  # the same again: reused
    await engine.send(notification(), other_provider)  # the same settings, another provider
    assert (sink.sink.connections, sink.sink.rsets) == (3, 1)
    assert engine.pool.counts("p-1") == (1, 1, 0) and engine.pool.counts("p-2") == (1, 1, 0)


async def test_a_connection_that_failed_is_discarded(engines: Engines, sink: RunningSink) -> None:
    engine = await engines()
    target = smtp_target(sink.host, tls=True, auth=plain())
    dropped = await engine.send(notification(unique("drop")), target)  # the server hangs up during DATA
    assert (dropped.reply_class, dropped.report.stage) == (ReplyClass.TRANSIENT, Stage.DATA)
    assert engine.pool.counts("p-1") == (0, 0, 0)

    assert (await engine.send(notification(), target)).reply_class is ReplyClass.DELIVERED
    assert (sink.sink.connections, sink.sink.rsets) == (2, 0)  # a new connection: nothing to reset


async def test_a_provider_fault_in_the_transaction_leaves_no_connection_behind(
    engines: Engines, raw_server: Callable[..., Awaitable[RawServer]]
) -> None:
    engine = await engines()
    # An XOAUTH2 session whose token expired answers so: a new connection (a new AUTH) may help.
    server = await raw_server("script", {"MAIL": "530 5.7.0 Authentication required"})
    target = smtp_target(f"{MAIL_NAME}:{server.port}", auth=plain())
    for _ in range(2):
        result = await engine.send(notification(), target)
        assert (result.reply_class, result.report.stage) == (ReplyClass.PROVIDER_FAULT, Stage.MAIL_FROM)
    assert server.accepted == 2 and "RSET" not in server.commands
    assert engine.pool.counts("p-1") == (0, 0, 0)


async def test_a_connection_the_server_closed_while_idle_is_replaced_within_the_attempt(
    engines: Engines, sink: RunningSink
) -> None:
    engine = await engines()
    target = smtp_target(sink.host, tls=True, auth=plain())
    await engine.send(notification(), target)
    sink.sink.kick()  # the provider ends the idle connection
    await wait_until(lambda: not sink.sink.live)

    result = await engine.send(notification(), target)
    assert result.reply_class is ReplyClass.DELIVERED
    assert "* the pooled connection is no longer usable: opening a new one" in result.report.transcript
    assert (sink.sink.connections, len(sink.sink.messages)) == (2, 2)


async def test_a_refused_rset_opens_a_new_connection(
    engines: Engines, raw_server: Callable[..., Awaitable[RawServer]]
) -> None:
    engine = await engines()
    server = await raw_server("script", {"RSET": "421 4.4.2 idle too long, closing"})
    target = smtp_target(f"{MAIL_NAME}:{server.port}", auth=plain())
    first = await engine.send(notification(), target)
    second = await engine.send(notification(), target)
    assert [first.reply_class, second.reply_class] == [ReplyClass.DELIVERED] * 2
    assert server.accepted == 2 and server.commands.count(".") == 2
    assert "S: 421 4.4.2 idle too long, closing" in second.report.transcript


async def test_close_says_quit_on_every_idle_connection(engines: Engines, sink: RunningSink) -> None:
    engine = await engines(smtp_pool_size=3)
    target = smtp_target(sink.host, tls=True, auth=plain())
    sink.sink.hold.clear()
    sends = [asyncio.create_task(engine.send(notification(), target)) for _ in range(3)]
    await wait_until(lambda: sink.sink.holding == 3)
    sink.sink.hold.set()
    await asyncio.gather(*sends)
    assert engine.pool.counts("p-1") == (3, 3, 0)

    await engine.close()
    assert sink.sink.quits == 3
    await wait_until(lambda: not sink.sink.live)
    assert engine.pool.counts("p-1") == (0, 0, 0)
