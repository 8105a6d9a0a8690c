"""The workers: each due message goes through the engine once per attempt, its outcome decides
what comes next (sent, retried when, failed, expired), failover follows the breakers, and stopping
finishes or hands back what was held. Real SQLite and PostgreSQL; the engine is scripted."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from mailgate.delivery.sending import HttpTarget, SmtpTarget
from mailgate.history.actor import SYSTEM
from mailgate.history.bell import Bell
from mailgate.history.events import FAILED_BACK, FAILED_OVER
from mailgate.history.query import HistoryFilter, HistoryRange
from mailgate.history.service import HistoryLog
from mailgate.history.verify import verify_instance
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.outbox.worker import NO_PROVIDER_WAIT, DeliveryWorker
from mailgate.providers.commands import ProviderCommands
from mailgate.secrets import SecretBox
from mailgate.store.leases import Claimed, LeaseStore
from mailgate.store.providers import ProviderRepository
from tests.outbox.conftest import Clock, Store
from tests.outbox.harness import BASE, S, new_worker, running, until
from tests.outbox.rows import add_smtp, attempt_rows, health_row, insert_message, message, set_fallbacks
from tests.outbox.senders import ScriptedSender, result

INSTANCE = "inst-worker"
SENT, DEFERRED, FAILED, EXPIRED = (
    MessageState.SENT,
    MessageState.DEFERRED,
    MessageState.FAILED,
    MessageState.EXPIRED,
)


async def state_of(store: Store, key: str) -> str:
    return str((await message(store.db, INSTANCE, key))["state"])


async def reaches(store: Store, key: str, state: MessageState) -> None:
    async def there() -> bool:
        return await state_of(store, key) == state.value

    await until(there)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_a_due_message_is_sent_once_through_the_active_provider(store: Store, clock: Clock) -> None:
    active = await add_smtp(store.db, store.box, INSTANCE, active=True)
    await add_smtp(store.db, store.box, INSTANCE, active=False)  # not a fallback: never used
    key = await insert_message(
        store.db, store.box, INSTANCE, clock(), subject="Welcome", text="Hi there", html="<p>Hi</p>"
    )
    sender = ScriptedSender()
    worker, registry = new_worker(store, clock, sender)
    async with running(worker):
        await reaches(store, key, SENT)

    (sent,) = sender.calls
    assert sent.email.message_id == f"<{key}@mailgate.test>"
    assert (sent.email.subject, sent.email.bodies.text, sent.email.bodies.html) == (
        "Welcome",
        "Hi there",
        "<p>Hi</p>",
    )
    assert sent.email.to == ("alice@example.com",)
    assert isinstance(sent.target, SmtpTarget) and sent.target.provider_id == active
    assert sent.target.settings.sender_address == "noreply@example.com"
    (attempt,) = await attempt_rows(store.db, INSTANCE, key)
    assert (attempt["number"], attempt["provider_id"], attempt["reply_class"], attempt["stage"]) == (
        1,
        active,
        "delivered",
        "done",
    )
    assert (attempt["reply_code"], attempt["enhanced_status_code"], attempt["at_us"]) == (
        250,
        "2.0.0",
        clock(),
    )
    row = await message(store.db, INSTANCE, key)
    assert (row["attempts_made"], row["provider_id"], row["claimed_by"], row["sent_us"]) == (
        1,
        active,
        None,
        clock(),
    )
    labels = {"reply_class": "delivered", "provider": active}
    assert sample(registry, "mailgate_delivery_attempts_total", **labels) == 1
    assert sample(registry, "mailgate_delivery_latency_seconds_count") == 1
    assert sender.closed is False  # the engine belongs to the process, not to the worker


async def test_a_transient_failure_is_retried_after_the_back_off_and_a_hint_is_a_floor(
    store: Store, clock: Clock
) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    answers = [
        result(ReplyClass.TRANSIENT),
        result(ReplyClass.TRANSIENT, retry_after=120.0),
        ReplyClass.DELIVERED,
    ]
    sender = ScriptedSender(lambda _e, _t: answers.pop(0))
    key = await insert_message(store.db, store.box, INSTANCE, clock())
    worker, _ = new_worker(store, clock, sender)
    async with running(worker):
        await reaches(store, key, DEFERRED)
        first_due = (await message(store.db, INSTANCE, key))["next_attempt_us"]
        assert first_due == clock() + round(BASE * S)  # jitter drawn at its top: the whole cap
        clock.advance(BASE - 0.001)
        worker.wake()
        await asyncio.sleep(0.05)  # a chance to claim too early (it must not)
        assert len(sender.calls) == 1
        clock.advance(0.001)
        await until(lambda: _calls(sender, 2))
        await reaches(store, key, DEFERRED)
        # The second cap is 10 s; the provider asked for 120 s: the hint wins.
        assert (await message(store.db, INSTANCE, key))["next_attempt_us"] == clock() + 120 * S
        clock.advance(120)
        await reaches(store, key, SENT)
    numbers = [(a["number"], a["reply_class"]) for a in await attempt_rows(store.db, INSTANCE, key)]
    assert numbers == [(1, "transient"), (2, "transient"), (3, "delivered")]


async def _calls(sender: ScriptedSender, count: int) -> bool:
    return len(sender.calls) >= count


async def test_a_recipient_refusal_fails_at_once_without_failover_or_breaker(
    store: Store, clock: Clock
) -> None:
    active = await add_smtp(store.db, store.box, INSTANCE, active=True)
    fallback = await add_smtp(store.db, store.box, INSTANCE, active=False)
    await set_fallbacks(store.db, INSTANCE, [fallback])
    sender = ScriptedSender(lambda _e, _t: ReplyClass.PERMANENT)
    keys = [await insert_message(store.db, store.box, INSTANCE, clock()) for _ in range(5)]
    worker, _ = new_worker(store, clock, sender, faults=1)
    async with running(worker):
        for key in keys:
            await reaches(store, key, FAILED)
    assert sender.providers() == [active] * 5
    assert await health_row(store.db, INSTANCE, active) is None
    row = await message(store.db, INSTANCE, keys[0])
    assert (row["attempts_made"], row["final_us"], row["next_attempt_us"]) == (1, clock(), None)


async def test_max_attempts_ends_a_message_that_keeps_failing(store: Store, clock: Clock) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender(lambda _e, _t: ReplyClass.TRANSIENT)
    key = await insert_message(store.db, store.box, INSTANCE, clock(), max_attempts=3)
    worker, _ = new_worker(store, clock, sender)
    async with running(worker):
        for made in (1, 2):
            await until(lambda made=made: _calls(sender, made))
            await reaches(store, key, DEFERRED)
            clock.advance(900)
        await reaches(store, key, FAILED)
    assert len(await attempt_rows(store.db, INSTANCE, key)) == 3


async def test_a_retry_that_would_land_past_expiry_expires_the_message(store: Store, clock: Clock) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender(lambda _e, _t: ReplyClass.TRANSIENT)
    key = await insert_message(store.db, store.box, INSTANCE, clock(), expires_us=clock() + round(BASE * S))
    worker, _ = new_worker(store, clock, sender)
    async with running(worker):
        await reaches(store, key, EXPIRED)
    (attempt,) = await attempt_rows(store.db, INSTANCE, key)
    assert attempt["reply_class"] == "transient"


async def test_a_message_found_past_expiry_expires_without_an_attempt(store: Store, clock: Clock) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender()
    key = await insert_message(store.db, store.box, INSTANCE, clock() - 10 * S, expires_us=clock())
    worker, _ = new_worker(store, clock, sender)
    async with running(worker):
        await reaches(store, key, EXPIRED)
    assert sender.calls == []
    assert await attempt_rows(store.db, INSTANCE, key) == []
    assert (await message(store.db, INSTANCE, key))["final_us"] == clock()


async def test_without_any_provider_a_message_waits_then_expires_unsent(store: Store, clock: Clock) -> None:
    sender = ScriptedSender()
    key = await insert_message(store.db, store.box, INSTANCE, clock(), expires_us=clock() + 45 * S)
    worker, _ = new_worker(store, clock, sender)
    async with running(worker):
        await reaches(store, key, DEFERRED)
        row = await message(store.db, INSTANCE, key)
        assert (row["next_attempt_us"], row["attempts_made"]) == (clock() + round(NO_PROVIDER_WAIT * S), 0)
        clock.advance(NO_PROVIDER_WAIT)
        await until(lambda: _due_at(store, key, clock() + 15 * S))  # the next look is the expiry itself
        clock.advance(15)
        await reaches(store, key, EXPIRED)
    assert sender.calls == []
    assert await attempt_rows(store.db, INSTANCE, key) == []


async def _due_at(store: Store, key: str, due_us: int) -> bool:
    row = await message(store.db, INSTANCE, key)
    return row["state"] == "deferred" and row["next_attempt_us"] == due_us


async def test_failover_when_the_active_breaker_opens_and_back_after_a_probe(
    store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "mailgate.delivery")
    active = await add_smtp(store.db, store.box, INSTANCE, active=True, host="127.0.0.1:2525")
    first = await add_smtp(store.db, store.box, INSTANCE, active=False, host="127.0.0.1:2526")
    second = await add_smtp(store.db, store.box, INSTANCE, active=False, host="127.0.0.1:2527")
    await set_fallbacks(store.db, INSTANCE, [first, second])
    broken = {active}

    def plan(_email: object, target: SmtpTarget | HttpTarget) -> ReplyClass:
        return ReplyClass.PROVIDER_FAULT if target.provider_id in broken else ReplyClass.DELIVERED

    sender = ScriptedSender(plan)
    worker, _ = new_worker(store, clock, sender, faults=2, cooldown=60.0, concurrency=1)
    async with running(worker):
        key = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        await reaches(store, key, DEFERRED)
        clock.advance(BASE)
        await until(lambda: _calls(sender, 2))
        await reaches(store, key, DEFERRED)  # the second fault in a row opened the active breaker
        health = await health_row(store.db, INSTANCE, active)
        assert health is not None and (health["state"], health["open_until_us"]) == ("open", clock() + 60 * S)
        clock.advance(10)
        await reaches(store, key, SENT)
        assert sender.providers() == [active, active, first]

        # New mail goes straight to the first fallback while the breaker is open.
        later = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        await reaches(store, later, SENT)
        assert sender.providers()[-1] == first

        # After the cool-down one message probes the active provider; it works again: closed.
        broken.clear()
        clock.advance(60)
        probe = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        await reaches(store, probe, SENT)
        assert sender.providers()[-1] == active
        health = await health_row(store.db, INSTANCE, active)
        assert health is not None and (health["state"], health["consecutive_faults"]) == ("closed", 0)
        # A probe is not where mail goes yet: the message after it is, and that is the way back.
        back = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        await reaches(store, back, SENT)
        assert sender.providers()[-1] == active

    said = [record.getMessage() for record in caplog.records]
    assert "provider breaker opened: its messages fail over" in said
    assert said.count("delivery failed over to a fallback provider") == 1  # once, not per message
    assert "provider breaker half-open: one message probes the provider" in said
    assert "provider breaker closed" in said
    assert said.count("delivery back on the active provider") == 1
    # In the history: once each way, by mailgate itself, the chain intact.
    switches = await HistoryLog(store.db, Bell()).window(
        INSTANCE, HistoryFilter(type_prefix="mailgate.delivery."), HistoryRange(100, True)
    )
    assert [(e.type, e.provider_id, e.payload) for e in switches] == [
        (
            FAILED_OVER,
            active,
            {
                "fromProviderId": active,
                "toProviderId": first,
                "reason": "breaker_open",
                "breaker": "open",
                "consecutiveFaults": 2,
            },
        ),
        (FAILED_BACK, active, {"fromProviderId": first, "toProviderId": active, "reason": "breaker_closed"}),
    ]
    assert all(e.actor == SYSTEM for e in switches)
    assert (await verify_instance(store.db, INSTANCE)).intact
    opened = next(r for r in caplog.records if r.getMessage().startswith("provider breaker opened"))
    assert (opened.provider, opened.instance, opened.consecutive_faults) == (active, INSTANCE, 2)  # type: ignore[attr-defined]


async def test_activating_the_fallback_during_an_outage_is_no_failover(store: Store, clock: Clock) -> None:
    active = await add_smtp(store.db, store.box, INSTANCE, active=True)
    fallback = await add_smtp(store.db, store.box, INSTANCE, active=False)
    await set_fallbacks(store.db, INSTANCE, [fallback])
    sender = ScriptedSender(
        lambda _e, t: ReplyClass.PROVIDER_FAULT if t.provider_id == active else ReplyClass.DELIVERED
    )
    worker, _ = new_worker(store, clock, sender, faults=1, cooldown=60.0, concurrency=1)
    async with running(worker):
        first = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        await reaches(store, first, DEFERRED)
        clock.advance(BASE)
        await reaches(store, first, SENT)
        # The admin makes the fallback the active provider: mail goes there by configuration now.
        await ProviderCommands(ProviderRepository(store.db), store.box).activate(INSTANCE, fallback)
        second = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        await reaches(store, second, SENT)
    assert sender.providers() == [active, fallback, fallback]

    recorded = await HistoryLog(store.db, Bell()).window(INSTANCE, HistoryFilter(), HistoryRange(100, True))
    switches = [
        (e.type, e.payload["toProviderId"]) for e in recorded if e.type.startswith("mailgate.delivery.")
    ]
    assert switches == [(FAILED_OVER, fallback)]  # the activation has its own event
    assert "instance.smtp.config.activated" in [e.type for e in recorded]


async def test_when_every_provider_is_open_a_message_waits_for_the_first_probe(
    store: Store, clock: Clock
) -> None:
    active = await add_smtp(store.db, store.box, INSTANCE, active=True)
    fallback = await add_smtp(store.db, store.box, INSTANCE, active=False)
    await set_fallbacks(store.db, INSTANCE, [fallback])
    sender = ScriptedSender(lambda _e, _t: ReplyClass.PROVIDER_FAULT)
    worker, _ = new_worker(store, clock, sender, faults=1, cooldown=60.0, concurrency=1)
    async with running(worker):
        opener = await insert_message(store.db, store.box, INSTANCE, clock(), max_attempts=1)
        worker.wake()
        await reaches(store, opener, FAILED)  # opened the active breaker
        clock.advance(20)
        second = await insert_message(store.db, store.box, INSTANCE, clock(), max_attempts=1)
        worker.wake()
        await reaches(store, second, FAILED)  # went to the fallback, and opened its breaker
        assert sender.providers() == [active, fallback]

        waiting = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        # The active provider's breaker allows a probe first: 40 s from now. No attempt meanwhile.
        await until(lambda: _due_at(store, waiting, clock() + 40 * S))
        assert len(sender.calls) == 2
        assert await attempt_rows(store.db, INSTANCE, waiting) == []
        assert (await message(store.db, INSTANCE, waiting))["attempts_made"] == 0


async def test_no_more_attempts_at_once_than_the_workers(store: Store, clock: Clock) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    gate = asyncio.Event()
    sender = ScriptedSender(gate=gate)
    keys = [await insert_message(store.db, store.box, INSTANCE, clock()) for _ in range(10)]
    worker, registry = new_worker(store, clock, sender, concurrency=3)
    async with running(worker):
        await until(lambda: _calls(sender, 3))
        await asyncio.sleep(0.05)  # a chance to start a fourth (it must not)
        assert len(sender.calls) == 3 and worker.in_flight == 3
        assert sample(registry, "mailgate_delivery_in_flight") == 3
        states = [await state_of(store, key) for key in keys]
        # As many again are claimed ahead, waiting for a slot; the rest stays for other replicas.
        assert states.count("sending") == 6 and states.count("queued") == 4
        assert worker.held == 6
        gate.set()
        for key in keys:
            await reaches(store, key, SENT)
    assert len(sender.calls) == 10


async def test_an_enqueue_wakes_the_workers_at_once(store: Store, clock: Clock) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender()
    worker, _ = new_worker(store, clock, sender, poll=3600)
    async with running(worker):
        await asyncio.sleep(0.05)  # the loop has looked and found nothing: it now waits an hour
        key = await insert_message(store.db, store.box, INSTANCE, clock())
        worker.wake()
        await reaches(store, key, SENT)


async def test_stopping_lets_attempts_in_flight_finish_and_claims_nothing_more(
    store: Store, clock: Clock
) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    gate = asyncio.Event()
    sender = ScriptedSender(gate=gate)
    first, second = [await insert_message(store.db, store.box, INSTANCE, clock()) for _ in range(2)]
    worker, _ = new_worker(store, clock, sender, concurrency=2)
    worker.start()
    await until(lambda: _calls(sender, 2))
    waiting = await insert_message(store.db, store.box, INSTANCE, clock())
    stopping = asyncio.create_task(worker.stop(grace=30))
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the attempts in flight
    gate.set()
    await stopping
    assert [await state_of(store, key) for key in (first, second, waiting)] == ["sent", "sent", "queued"]
    assert len(sender.calls) == 2


async def test_attempts_still_running_after_the_grace_are_stopped_and_released(
    store: Store, clock: Clock
) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender(gate=asyncio.Event())  # never opens: a hung server
    retried = await insert_message(store.db, store.box, INSTANCE, clock(), state=DEFERRED, attempts_made=1)
    fresh = await insert_message(store.db, store.box, INSTANCE, clock())
    worker, _ = new_worker(store, clock, sender, concurrency=2)
    worker.start()
    await until(lambda: _calls(sender, 2))
    await worker.stop(grace=0.01)
    assert sender.cancelled == 2
    for key, state, made in ((retried, "deferred", 1), (fresh, "queued", 0)):
        row = await message(store.db, INSTANCE, key)
        assert (row["state"], row["claimed_by"], row["attempts_made"]) == (state, None, made)
        assert await attempt_rows(store.db, INSTANCE, key) == []
    # Due for another replica at once.
    assert len(await LeaseStore(store.db).claim("other", 5, clock(), 30 * S)) == 2


async def test_a_long_attempt_keeps_its_lease(store: Store, clock: Clock) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    gate = asyncio.Event()
    sender = ScriptedSender(gate=gate)
    key = await insert_message(store.db, store.box, INSTANCE, clock())
    worker, _ = new_worker(store, clock, sender, lease=0.3)
    async with running(worker):
        await until(lambda: _calls(sender, 1))
        for _ in range(5):  # the attempt outlives its first lease many times over
            clock.advance(0.2)
            await until(lambda: _lease_ends(store, key, clock() + round(0.3 * S)))
        assert await LeaseStore(store.db).claim("other", 5, clock(), 30 * S) == []
        gate.set()
        await reaches(store, key, SENT)
    assert len(sender.calls) == 1


async def _lease_ends(store: Store, key: str, until_us: int) -> bool:
    return (await message(store.db, INSTANCE, key))["claimed_until_us"] == until_us


async def test_an_attempt_whose_lease_was_taken_over_is_stopped_and_records_nothing(
    store: Store, clock: Clock
) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender(gate=asyncio.Event())
    key = await insert_message(store.db, store.box, INSTANCE, clock())
    worker, _ = new_worker(store, clock, sender, lease=0.3)
    async with running(worker):
        await until(lambda: _calls(sender, 1))
        clock.advance(1)  # its lease ended (the process stalled): another replica takes over
        other = LeaseStore(store.db)
        taken: list[Claimed] = []

        async def took_over() -> bool:
            taken.extend(await other.claim("other", 5, clock(), 30 * S))
            return bool(taken)

        # On one of its polls: a renewal under way holds the row for a moment, and claims skip it.
        await until(took_over)
        assert [claimed.id for claimed in taken] == [key]
        await until(lambda: _cancelled(sender))
    row = await message(store.db, INSTANCE, key)
    assert (row["state"], row["claimed_by"], row["attempts_made"]) == ("sending", "other", 0)
    assert await attempt_rows(store.db, INSTANCE, key) == []


async def _cancelled(sender: ScriptedSender) -> bool:
    return sender.cancelled == 1


async def test_an_http_provider_gets_its_opened_signing_key(store: Store, clock: Clock) -> None:
    commands = ProviderCommands(ProviderRepository(store.db), store.box)
    _, provider_id, signing_key = await commands.add_http(INSTANCE, "https://hooks.example.com/mail", "hook")
    await commands.activate(INSTANCE, provider_id)
    sender = ScriptedSender()
    key = await insert_message(store.db, store.box, INSTANCE, clock(), idempotency_key="welcome-42")
    worker, _ = new_worker(store, clock, sender)
    async with running(worker):
        await reaches(store, key, SENT)
    (sent,) = sender.calls
    assert isinstance(sent.target, HttpTarget)
    assert (sent.target.endpoint, sent.target.signing_key.value) == (
        "https://hooks.example.com/mail",
        signing_key,
    )
    assert sent.email.idempotency_key == "welcome-42"


async def test_a_provider_secret_that_cannot_be_opened_is_a_provider_fault(
    store: Store, clock: Clock
) -> None:
    from mailgate.providers.auth import PlainAuth
    from mailgate.providers.inputs import SmtpInput

    commands = ProviderCommands(ProviderRepository(store.db), store.box)
    data = SmtpInput("noreply@example.com", "", "127.0.0.1:2525", False, "mailer", "", "", PlainAuth("pw"))
    provider = await commands.create_smtp(INSTANCE, data, activate=True)
    other_box = SecretBox(b"o" * 32)  # the master key was replaced without keeping the old one
    key = await insert_message(store.db, other_box, INSTANCE, clock(), max_attempts=1)
    sender = ScriptedSender()
    worker, _ = new_worker(store, clock, sender, box=other_box)
    async with running(worker):
        await reaches(store, key, FAILED)
    assert sender.calls == []
    (attempt,) = await attempt_rows(store.db, INSTANCE, key)
    assert (attempt["provider_id"], attempt["reply_class"]) == (provider.id, "provider_fault")
    assert "secret cannot be opened" in attempt["detail"]


async def test_a_message_whose_body_cannot_be_opened_fails_without_an_attempt(
    store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    key = await insert_message(
        store.db, SecretBox(b"o" * 32), INSTANCE, clock(), text="the secret code 98765"
    )
    sender = ScriptedSender()
    worker, _ = new_worker(store, clock, sender)
    async with running(worker):
        await reaches(store, key, FAILED)
    assert sender.calls == []
    assert await attempt_rows(store.db, INSTANCE, key) == []
    assert "98765" not in caplog.text


async def test_messages_claimed_ahead_are_released_unstarted_on_stop(store: Store, clock: Clock) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender(gate=asyncio.Event())
    keys = [await insert_message(store.db, store.box, INSTANCE, clock()) for _ in range(3)]
    worker, _ = new_worker(store, clock, sender, concurrency=1)
    worker.start()
    await until(lambda: _calls(sender, 1))
    await until(lambda: _held(worker, 2))  # one in flight, one waiting for the slot
    await worker.stop(grace=0.01)
    assert len(sender.calls) == 1
    rows = [await message(store.db, INSTANCE, key) for key in keys]
    assert [(row["state"], row["claimed_by"]) for row in rows] == [("queued", None)] * 3


async def _held(worker: DeliveryWorker, count: int) -> bool:
    return worker.held == count


async def test_a_message_claimed_ahead_whose_lease_was_lost_is_never_started(
    store: Store, clock: Clock
) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    gate = asyncio.Event()
    sender = ScriptedSender(gate=gate)
    first = await insert_message(store.db, store.box, INSTANCE, clock() - S)
    ahead = await insert_message(store.db, store.box, INSTANCE, clock())
    worker, _ = new_worker(store, clock, sender, concurrency=1, lease=0.3)
    async with running(worker):
        await until(lambda: _calls(sender, 1))
        await until(lambda: _held(worker, 2))
        clock.advance(1)  # both leases ended; another replica takes both over
        taken = await LeaseStore(store.db).claim("other", 5, clock(), 30 * S)
        assert {message.id for message in taken} == {first, ahead}
        await until(lambda: _held(worker, 0))
        gate.set()
        await asyncio.sleep(0.05)  # a chance to start the lost one (it must not)
    assert [sent.email.message_id for sent in sender.calls] == [f"<{first}@mailgate.test>"]
    for key in (first, ahead):
        row = await message(store.db, INSTANCE, key)
        assert (row["state"], row["claimed_by"]) == ("sending", "other")
