"""Claims are leases: due messages go to one claimer at a time, a dead claimer's are taken over
once its lease ends (not before), and a claimer that lost its lease records nothing.

Claimers race in processes of their own against the real database; time is passed in, so a
lease "ends" because the test says what time it is, not because the test waited.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select, text

from mailgate.delivery.report import Stage
from mailgate.outbox import breaker
from mailgate.outbox.breaker import BreakerPolicy, BreakerState
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.outbox.schedule import Next
from mailgate.store import changes
from mailgate.store.attempts import attempt_row
from mailgate.store.database import Database, listener_dsn
from mailgate.store.leases import BreakerChange, Claimed, LeaseStore, Outcome
from mailgate.store.tables import messages
from tests.outbox.conftest import Clock, Store
from tests.outbox.rows import DAY_US, attempt_rows, health_row, insert_message, message

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = "inst-leases"
S = 1_000_000
LEASE = 30 * S
POLICY = BreakerPolicy(faults=2, cooldown_us=60 * S, probe_us=LEASE)


class Claimer:
    """A claiming process: `claim()` asks it for messages; `kill()` is a crash (SIGKILL)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, env: dict[str, str], worker: str) -> Claimer:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.outbox.claimer",
            worker,
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        claimer = cls(process)
        assert await claimer._answer() == "ready"
        return claimer

    async def send(self, limit: int, now_us: int, lease_us: int = LEASE) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"claim {limit} {now_us} {lease_us}\n".encode())
        await self.process.stdin.drain()

    async def _answer(self) -> object:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        assert line, "the claimer died"
        return json.loads(line)

    async def claim(self, limit: int, now_us: int, lease_us: int = LEASE) -> list[str]:
        await self.send(limit, now_us, lease_us)
        found = await self._answer()
        assert isinstance(found, list)
        return found

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            await self.process.wait()


@pytest.fixture
async def claimers(outbox_env: dict[str, str]) -> AsyncIterator[list[Claimer]]:
    started: list[Claimer] = []
    yield started
    for claimer in started:
        await claimer.close()


async def _states(db: Database) -> dict[str, tuple[str, str | None]]:
    async with db.read() as conn:
        rows = await conn.execute(select(messages.c.id, messages.c.state, messages.c.claimed_by))
        return {key: (state, holder) for key, state, holder in rows}


async def test_a_claim_takes_due_messages_and_leaves_the_rest(store: Store, clock: Clock) -> None:
    leases = LeaseStore(store.db)
    now = clock()
    due = await insert_message(store.db, store.box, INSTANCE, now)
    retry = await insert_message(
        store.db, store.box, INSTANCE, now, state=MessageState.DEFERRED, due_us=now - S, attempts_made=1
    )
    later = await insert_message(store.db, store.box, INSTANCE, now, due_us=now + 1)
    deferred_later = await insert_message(
        store.db, store.box, INSTANCE, now, state=MessageState.DEFERRED, due_us=now + S
    )
    for final in (MessageState.SENT, MessageState.FAILED, MessageState.EXPIRED, MessageState.CANCELED):
        await insert_message(store.db, store.box, INSTANCE, now, state=final, due_us=None, final_us=now)
    held = await insert_message(
        store.db,
        store.box,
        INSTANCE,
        now,
        state=MessageState.SENDING,
        claimed_by="other",
        claimed_until_us=now + 1,
    )

    claimed = await leases.claim("me", 100, now, LEASE)

    assert sorted(message.id for message in claimed) == sorted([due, retry])
    states = await _states(store.db)
    assert states[due] == states[retry] == ("sending", "me")
    assert states[later] == ("queued", None)
    assert states[deferred_later] == ("deferred", None)
    assert states[held] == ("sending", "other")
    row = await message(store.db, INSTANCE, due)
    assert row["claimed_until_us"] == now + LEASE
    assert await leases.claim("me", 100, now, LEASE) == []  # nothing due is left


async def test_a_claim_hands_over_what_the_worker_needs_to_send(store: Store, clock: Clock) -> None:
    now = clock()
    key = await insert_message(store.db, store.box, INSTANCE, now, to=("a@example.com", "b@example.com"))
    (claimed,) = await LeaseStore(store.db).claim("me", 1, now, LEASE)
    assert isinstance(claimed, Claimed)
    assert (claimed.instance_id, claimed.id, claimed.message_id) == (INSTANCE, key, f"<{key}@mailgate.test>")
    assert claimed.recipients == ("a@example.com", "b@example.com")
    assert (claimed.attempts_made, claimed.max_attempts, claimed.expires_us) == (0, 5, now + DAY_US)
    assert "a@example.com" not in repr(claimed)  # no recipient in a log line


async def test_a_claim_takes_at_most_its_limit_taking_over_and_retries_first(
    store: Store, clock: Clock
) -> None:
    now = clock()
    queued = [await insert_message(store.db, store.box, INSTANCE, now, due_us=now - 10 * S) for _ in range(3)]
    retry = await insert_message(
        store.db, store.box, INSTANCE, now, state=MessageState.DEFERRED, due_us=now - S, attempts_made=1
    )
    orphan = await insert_message(
        store.db,
        store.box,
        INSTANCE,
        now,
        state=MessageState.SENDING,
        claimed_by="dead",
        claimed_until_us=now,
    )
    leases = LeaseStore(store.db)
    first = await leases.claim("me", 2, now, LEASE)
    assert [message.id for message in first] == [orphan, retry]
    second = await leases.claim("me", 10, now, LEASE)
    assert sorted(message.id for message in second) == sorted(queued)


async def test_a_dead_claimers_messages_are_taken_over_when_its_lease_ends_not_before(
    store: Store, clock: Clock, outbox_env: dict[str, str], claimers: list[Claimer]
) -> None:
    now = clock()
    keys = {await insert_message(store.db, store.box, INSTANCE, now) for _ in range(5)}
    doomed = await Claimer.start(outbox_env, "doomed")
    claimers.append(doomed)
    assert set(await doomed.claim(10, now)) == keys
    await doomed.kill()  # a replica dies holding its claims: nothing is released

    survivor = LeaseStore(store.db)
    assert await survivor.claim("survivor", 10, now + LEASE - 1, LEASE) == []
    taken = await survivor.claim("survivor", 10, now + LEASE, LEASE)
    assert {message.id for message in taken} == keys
    assert {holder for _, holder in (await _states(store.db)).values()} == {"survivor"}


def _attempt(message: Claimed, now: int, reply_class: ReplyClass, provider: str = "p1") -> dict[str, object]:
    return attempt_row(
        message.instance_id,
        message.id,
        message.attempts_made + 1,
        now,
        provider,
        reply_class,
        stage=Stage.DONE,
    )


def _fault(health: breaker.Health) -> breaker.Health:
    return breaker.after(health, ReplyClass.PROVIDER_FAULT, POLICY, 0)


def _healthy(health: breaker.Health) -> breaker.Health:
    return breaker.after(health, ReplyClass.DELIVERED, POLICY, 0)


async def test_a_worker_that_lost_its_lease_records_nothing(store: Store, clock: Clock) -> None:
    now = clock()
    key = await insert_message(store.db, store.box, INSTANCE, now)
    leases = LeaseStore(store.db)
    (mine,) = await leases.claim("slow", 1, now, LEASE)
    (theirs,) = await leases.claim("quick", 1, now + LEASE, LEASE)  # slow's lease ended: taken over

    late = now + LEASE + S
    for reply_class in ReplyClass:
        next_ = Next(MessageState.SENT) if reply_class is ReplyClass.DELIVERED else Next(MessageState.FAILED)
        assert (
            await leases.record("slow", mine, _attempt(mine, late, reply_class), next_, late, _fault) is None
        )
    assert not await leases.settle("slow", mine, Next(MessageState.EXPIRED), late)
    assert await leases.extend("slow", [mine.key], late, LEASE) == set()
    assert await leases.release("slow", late) == 0

    row = await message(store.db, INSTANCE, key)
    assert (row["state"], row["claimed_by"], row["attempts_made"]) == ("sending", "quick", 0)
    assert await attempt_rows(store.db, INSTANCE, key) == []
    assert await health_row(store.db, INSTANCE, "p1") is None  # its faults did not count either

    # The worker holding the lease records as usual.
    change = await leases.record(
        "quick",
        theirs,
        _attempt(theirs, late, ReplyClass.PROVIDER_FAULT),
        Next(MessageState.DEFERRED, late + S),
        late,
        _fault,
    )
    assert change is not None and change.after.consecutive_faults == 1
    row = await message(store.db, INSTANCE, key)
    assert (row["state"], row["claimed_by"], row["attempts_made"], row["next_attempt_us"]) == (
        "deferred",
        None,
        1,
        late + S,
    )
    assert [
        (a["number"], a["reply_class"], a["provider_id"]) for a in await attempt_rows(store.db, INSTANCE, key)
    ] == [(1, "provider_fault", "p1")]


async def test_recording_sets_the_final_state_the_attempt_and_the_breaker_together(
    store: Store, clock: Clock
) -> None:
    now = clock()
    keys = [await insert_message(store.db, store.box, INSTANCE, now) for _ in range(4)]
    leases = LeaseStore(store.db)
    by_id = {message.id: message for message in await leases.claim("me", 4, now, LEASE)}
    sent, failed, faulted, faulted_again = (by_id[key] for key in keys)

    async def record(held: Claimed, reply_class: ReplyClass, next_: Next, at: int) -> object:
        def evolve(health: breaker.Health) -> breaker.Health:
            return breaker.after(health, reply_class, POLICY, at)

        return await leases.record("me", held, _attempt(held, now, reply_class), next_, at, evolve)

    unchanged = await record(sent, ReplyClass.DELIVERED, Next(MessageState.SENT), now + 5)
    assert unchanged == BreakerChange("p1", breaker.CLOSED, breaker.CLOSED)
    assert (
        await health_row(store.db, INSTANCE, "p1") is None
    )  # a delivery through a closed breaker writes none
    await record(failed, ReplyClass.PERMANENT, Next(MessageState.FAILED), now + 6)
    await record(faulted, ReplyClass.PROVIDER_FAULT, Next(MessageState.DEFERRED, now + 60 * S), now + 7)
    opened = await record(faulted_again, ReplyClass.PROVIDER_FAULT, Next(MessageState.FAILED), now + 8)
    assert opened == BreakerChange(
        "p1", breaker.Health(BreakerState.CLOSED, 1), breaker.Health(BreakerState.OPEN, 2, now + 8 + 60 * S)
    )

    row = await message(store.db, INSTANCE, sent.id)
    assert (row["state"], row["sent_us"], row["final_us"], row["next_attempt_us"], row["provider_id"]) == (
        "sent",
        now + 5,
        now + 5,
        None,
        "p1",
    )
    row = await message(store.db, INSTANCE, failed.id)
    assert (row["state"], row["sent_us"], row["final_us"], row["attempts_made"]) == (
        "failed",
        None,
        now + 6,
        1,
    )
    row = await message(store.db, INSTANCE, faulted.id)
    assert (row["state"], row["final_us"], row["next_attempt_us"]) == ("deferred", None, now + 60 * S)
    health = await health_row(store.db, INSTANCE, "p1")
    assert health is not None
    assert (health["state"], health["consecutive_faults"], health["open_until_us"]) == (
        "open",
        2,
        now + 8 + 60 * S,
    )
    for key in keys:
        assert len(await attempt_rows(store.db, INSTANCE, key)) == 1


async def test_extend_renews_held_leases_only(store: Store, clock: Clock) -> None:
    now = clock()
    leases = LeaseStore(store.db)
    for _ in range(3):
        await insert_message(store.db, store.box, INSTANCE, now)
    a, b, c = await leases.claim("me", 3, now, LEASE)
    await leases.record("me", c, _attempt(c, now, ReplyClass.DELIVERED), Next(MessageState.SENT), now, _fault)
    other = await insert_message(store.db, store.box, INSTANCE, now)
    (theirs,) = await leases.claim("other", 1, now, LEASE)
    assert theirs.id == other

    kept = await leases.extend("me", [a.key, b.key, c.key, theirs.key], now + 10 * S, LEASE)
    assert kept == {a.key, b.key}
    assert (await message(store.db, INSTANCE, a.id))["claimed_until_us"] == now + 10 * S + LEASE
    assert (await message(store.db, INSTANCE, other))["claimed_until_us"] == now + LEASE
    # An ended lease is not revived: someone else may already be sending that message.
    assert await leases.extend("me", [a.key], now + 10 * S + LEASE, LEASE) == set()


async def test_release_hands_messages_back_due_at_once(store: Store, clock: Clock) -> None:
    now = clock()
    fresh = await insert_message(store.db, store.box, INSTANCE, now)
    retried = await insert_message(
        store.db, store.box, INSTANCE, now, state=MessageState.DEFERRED, attempts_made=2
    )
    leases = LeaseStore(store.db)
    assert len(await leases.claim("leaving", 5, now, LEASE)) == 2
    assert await leases.release("leaving", now + S) == 2
    states = await _states(store.db)
    assert states[fresh] == ("queued", None)
    assert states[retried] == ("deferred", None)
    # Due for anyone at once, long before the old lease would have ended.
    assert {message.id for message in await leases.claim("next", 5, now + S, LEASE)} == {fresh, retried}


@pytest.mark.parametrize("backend", ["postgres"])
async def test_renewing_and_recording_lock_messages_in_one_order(store: Store, clock: Clock) -> None:
    """The keeper's renewal and a batch of outcomes over the same messages wait for each other
    and never deadlock (a deadlock lost a renewal, then a lease, then sent a message twice)."""
    now = clock()
    for _ in range(2):
        await insert_message(store.db, store.box, INSTANCE, now)
    leases = LeaseStore(store.db)
    first, second = sorted(await leases.claim("me", 2, now, LEASE), key=lambda held: held.key)
    batch = [  # outcomes end in any order
        Outcome(held, Next(MessageState.SENT), now + S, _attempt(held, now, ReplyClass.DELIVERED), _healthy)
        for held in (second, first)
    ]
    lock = text("SELECT id FROM messages WHERE id = :id FOR NO KEY UPDATE")
    async with store.db.engine.connect() as keeper, keeper.begin():
        # A renewal under way, in key order: it holds the first message, the second is next.
        await keeper.execute(lock, {"id": first.id})
        recording = asyncio.create_task(leases.record_all("me", batch))
        async with asyncio.timeout(30):
            while not await _waiting_for_a_lock(store.db):
                await asyncio.sleep(0.01)
            # The batch waits for the first message holding nothing, so the renewal goes on.
            await keeper.execute(lock, {"id": second.id})
    async with asyncio.timeout(30):
        assert all(recorded is not None for recorded in await recording)
    assert {state for state, _ in (await _states(store.db)).values()} == {"sent"}


async def _waiting_for_a_lock(db: Database) -> bool:
    """Whether a session of the test's database waits for a lock (asked in a transaction of its
    own: pg_stat_activity is read once per transaction)."""
    async with db.read() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        )
        return bool(found.scalar_one())


@pytest.mark.parametrize("backend", ["postgres"])
async def test_release_wakes_other_replicas(store: Store, clock: Clock) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(listener_dsn(store.settings))
    try:
        await conn.add_listener(changes.CHANNEL, lambda _c, _p, _ch, payload: heard.put_nowait(payload))
        now = clock()
        await insert_message(store.db, store.box, INSTANCE, now)
        leases = LeaseStore(store.db)
        await leases.claim("leaving", 5, now, LEASE)
        await leases.release("leaving", now)
        async with asyncio.timeout(10):
            assert await heard.get() == changes.OUTBOX
    finally:
        await conn.close()


@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_claim_skips_rows_another_claim_holds_without_waiting(store: Store, clock: Clock) -> None:
    now = clock()
    keys = [await insert_message(store.db, store.box, INSTANCE, now - 10 * S + i) for i in range(6)]
    async with store.db.engine.connect() as other, other.begin():
        # Another claimer's transaction, still open, holding the three that fell due first.
        locked = await other.execute(
            text("SELECT id FROM messages ORDER BY next_attempt_us LIMIT 3 FOR UPDATE")
        )
        assert [key for (key,) in locked] == keys[:3]
        async with asyncio.timeout(30):  # without SKIP LOCKED this claim would wait for `other`
            claimed = await LeaseStore(store.db).claim("me", 6, now, LEASE)
    assert sorted(message.id for message in claimed) == sorted(keys[3:])


@pytest.mark.parametrize("backend", ["postgres"])
async def test_two_processes_racing_claim_disjoint_sets_covering_every_message(
    store: Store, clock: Clock, outbox_env: dict[str, str], claimers: list[Claimer]
) -> None:
    now = clock()
    keys = {await insert_message(store.db, store.box, f"inst-{i % 3}", now - i) for i in range(200)}
    one, two = await Claimer.start(outbox_env, "one"), await Claimer.start(outbox_env, "two")
    claimers.extend([one, two])
    got: dict[str, list[str]] = {"one": [], "two": []}
    while True:
        # Both claim at the same moment, every round, until nothing is left.
        await asyncio.gather(one.send(10, now), two.send(10, now))
        first, second = await asyncio.gather(one._answer(), two._answer())
        assert isinstance(first, list) and isinstance(second, list)
        if not first and not second:
            break
        got["one"] += first
        got["two"] += second
    assert not set(got["one"]) & set(got["two"])
    assert set(got["one"]) | set(got["two"]) == keys
    assert len(got["one"]) + len(got["two"]) == 200  # nobody claimed one message twice
    # Each round had 20 or more due for two claims of 10: both took part in every one.
    assert len(got["one"]) == len(got["two"]) == 100
    holders = {holder for _, holder in (await _states(store.db)).values()}
    assert holders == {"one", "two"}
