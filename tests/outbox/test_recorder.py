"""Outcomes that arrive together are written in one transaction, each still under its own lease,
and one outcome that cannot be written does not hold back the others."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from mailgate.delivery.report import Stage
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.outbox.recorder import Recorder
from mailgate.outbox.schedule import Next
from mailgate.store.attempts import attempt_row
from mailgate.store.leases import Claimed, LeaseStore, Outcome, Recorded
from tests.outbox.conftest import Clock, Store
from tests.outbox.rows import attempt_rows, insert_message, message

INSTANCE = "inst-recorder"
S = 1_000_000


def sent(held: Claimed, now: int, provider: object = "p1") -> Outcome:
    row = attempt_row(held.instance_id, held.id, 1, now, "p1", ReplyClass.DELIVERED, stage=Stage.DONE)
    row["provider_id"] = provider
    return Outcome(held, Next(MessageState.SENT), now, row)


def commits(store: Store) -> list[int]:
    seen: list[int] = []
    event.listen(store.db.engine.sync_engine, "commit", lambda _conn: seen.append(1))
    return seen


async def test_outcomes_arriving_together_share_one_commit(store: Store, clock: Clock) -> None:
    now = clock()
    for _ in range(20):
        await insert_message(store.db, store.box, INSTANCE, now)
    leases = LeaseStore(store.db)
    held = await leases.claim("me", 20, now, 30 * S)
    (lost,) = [await insert_message(store.db, store.box, INSTANCE, now)]
    (theirs,) = await leases.claim("other", 1, now, 30 * S)
    recorder = Recorder(leases, "me")
    seen = commits(store)

    results = await asyncio.gather(*(recorder.record(sent(m, now)) for m in [*held, theirs]))

    assert len(seen) == 1
    assert results[:-1] == [Recorded()] * 20
    assert results[-1] is None  # not this worker's: nothing written for it
    assert {(await message(store.db, INSTANCE, m.id))["state"] for m in held} == {"sent"}
    assert (await message(store.db, INSTANCE, lost))["state"] == "sending"
    assert await attempt_rows(store.db, INSTANCE, lost) == []


async def test_an_outcome_that_cannot_be_written_does_not_sink_the_others(store: Store, clock: Clock) -> None:
    now = clock()
    for _ in range(3):
        await insert_message(store.db, store.box, INSTANCE, now)
    leases = LeaseStore(store.db)
    good, bad, also_good = await leases.claim("me", 3, now, 30 * S)
    recorder = Recorder(leases, "me")
    results = await asyncio.gather(
        recorder.record(sent(good, now)),
        recorder.record(sent(bad, now, provider=None)),  # message_attempts.provider_id is NOT NULL
        recorder.record(sent(also_good, now)),
        return_exceptions=True,
    )
    assert results[0] == results[2] == Recorded()
    assert isinstance(results[1], Exception)
    assert [(await message(store.db, INSTANCE, m.id))["state"] for m in (good, bad, also_good)] == [
        "sent",
        "sending",  # still held: its lease ends and it is tried again
        "sent",
    ]


async def test_a_lone_outcome_is_written_at_once_and_its_failure_reaches_its_caller(
    store: Store, clock: Clock
) -> None:
    now = clock()
    for _ in range(2):
        await insert_message(store.db, store.box, INSTANCE, now)
    leases = LeaseStore(store.db)
    first, second = await leases.claim("me", 2, now, 30 * S)
    recorder = Recorder(leases, "me")
    assert await recorder.record(sent(first, now)) == Recorded()
    with pytest.raises(Exception):  # noqa: B017 (the database's own integrity error, either backend)
        await recorder.record(sent(second, now, provider=None))
    assert await recorder.record(sent(second, now)) == Recorded()  # the recorder goes on
