"""Retention: bodies of finished messages go after MAILGATE_MESSAGE_RETENTION, their rows and
attempts after MAILGATE_MESSAGE_METADATA_RETENTION; pending messages are never touched."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text

from mailgate.delivery.report import Stage
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.store.attempts import attempt_row
from mailgate.store.retention import Retention, Swept
from mailgate.store.tables import attempts, messages
from tests.outbox.conftest import Clock, Store
from tests.outbox.rows import attempt_rows, insert_message, message

INSTANCE = "inst-retention"
S = 1_000_000
HOUR, DAY = 3600 * S, 86_400 * S


async def finished(store: Store, now: int, final_us: int, state: MessageState = MessageState.SENT) -> str:
    key = await insert_message(
        store.db,
        store.box,
        INSTANCE,
        final_us - S,
        state=state,
        due_us=None,
        final_us=final_us,
        html="<b>x</b>",
    )
    async with store.db.write() as conn:
        await conn.execute(
            insert(attempts).values(
                attempt_row(INSTANCE, key, 1, final_us, "p1", ReplyClass.DELIVERED, stage=Stage.DONE)
            )
        )
    return key


async def test_bodies_then_rows_go_once_their_retention_passed(store: Store, clock: Clock) -> None:
    now = clock()
    retention = Retention(store.db, bodies_us=7 * DAY, rows_us=30 * DAY, batch=2)
    fresh = await finished(store, now, now - 7 * DAY + 1)
    old = [
        await finished(store, now, now - 7 * DAY - i, state)
        for i, state in enumerate(MessageState)
        if state.final
    ]
    ancient = [await finished(store, now, now - 30 * DAY - i) for i in range(3)]
    pending = [
        await insert_message(store.db, store.box, INSTANCE, now - 60 * DAY, state=state)
        for state in (MessageState.QUEUED, MessageState.DEFERRED, MessageState.SENDING)
    ]

    swept = await retention.sweep(now)

    assert swept == Swept(bodies=len(old) + len(ancient), messages=len(ancient))
    for key in old:
        row = await message(store.db, INSTANCE, key)
        assert (row["text_sealed"], row["html_sealed"]) == (None, None)
        assert row["subject_sealed"]  # the subject is metadata: it stays with the row
        assert len(await attempt_rows(store.db, INSTANCE, key)) == 1
    assert (await message(store.db, INSTANCE, fresh))["html_sealed"]
    for key in (fresh, *pending):
        assert (await message(store.db, INSTANCE, key))["text_sealed"]
    async with store.db.read() as conn:
        left = set(await conn.scalars(select(messages.c.id)))
        attempts_left = await conn.scalar(select(func.count()).select_from(attempts))
    assert left == {fresh, *old, *pending}
    assert attempts_left == 1 + len(old)

    assert await retention.sweep(now) == Swept(0, 0)
    # A day later the fresh one's bodies go too.
    assert await retention.sweep(now + DAY) == Swept(bodies=1, messages=0)


@pytest.mark.parametrize("backend", ["postgres"])
async def test_one_replica_sweeps_at_a_time(store: Store, clock: Clock) -> None:
    now = clock()
    key = await finished(store, now, now - 8 * DAY)
    retention = Retention(store.db, bodies_us=7 * DAY, rows_us=30 * DAY)
    async with store.db.engine.connect() as other, other.begin():
        # Another replica's sweep holds the lock.
        await other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x6D61696C67617465})
        assert await retention.sweep(now) == Swept(0, 0, skipped=True)
    assert (await message(store.db, INSTANCE, key))["text_sealed"] is not None
    assert await retention.sweep(now) == Swept(1, 0)
