"""Claims on outbox messages as leases, and what a worker records under them.

A claim takes due messages (queued or deferred ones whose time has come, and sending ones whose
lease ended: their worker died) and marks them sending with the worker's name and a lease end, in
one transaction. On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`, so concurrent claimers
take disjoint sets without waiting for each other; on SQLite the write lock taken at BEGIN
serializes claimers. Every later write about a message is guarded by `claimed_by = worker`: a
worker whose lease was taken over records nothing. Time is the caller's clock (microseconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, case, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.outbox.breaker import Health
from mailgate.outbox.model import MessageState
from mailgate.outbox.schedule import Next
from mailgate.store import changes, health
from mailgate.store.database import Database
from mailgate.store.tables import attempts, messages

Key = tuple[str, str]  # (instance_id, messages.id)

_SENDING = MessageState.SENDING.value
# Taken over first (their attempt may have been cut short), then retries, then new messages:
# each in the order it fell due, along the (state, next_attempt_us) index.
_CLAIM_ORDER = (MessageState.DEFERRED.value, MessageState.QUEUED.value)


@dataclass(frozen=True)
class Claimed:
    """A message as a worker holds it: what it needs to send it, its bodies still sealed."""

    instance_id: str
    id: str
    message_id: str  # the RFC 5322 Message-ID
    recipients: tuple[str, ...]
    subject_sealed: str
    text_sealed: str | None
    html_sealed: str | None
    reply_to: str
    headers: tuple[tuple[str, str], ...]
    category: str
    idempotency_key: str | None
    created_us: int
    expires_us: int
    attempts_made: int
    max_attempts: int

    @property
    def key(self) -> Key:
        return (self.instance_id, self.id)

    def __repr__(self) -> str:  # no recipient addresses in a log line
        return f"Claimed({self.instance_id!r}, {self.id!r})"


def _claimed(row: RowMapping) -> Claimed:
    return Claimed(
        instance_id=row["instance_id"],
        id=row["id"],
        message_id=row["message_id"],
        recipients=tuple(row["recipients"]),
        subject_sealed=row["subject_sealed"],
        text_sealed=row["text_sealed"],
        html_sealed=row["html_sealed"],
        reply_to=row["reply_to"],
        headers=tuple((str(name), str(value)) for name, value in row["headers"] or ()),
        category=row["category"],
        idempotency_key=row["idempotency_key"],
        created_us=row["created_us"],
        expires_us=row["expires_us"],
        attempts_made=row["attempts_made"],
        max_attempts=row["max_attempts"],
    )


@dataclass(frozen=True)
class BreakerChange:
    """What recording an attempt did to its provider's breaker."""

    provider_id: str
    before: Health
    after: Health


class LeaseStore:
    """Claim, extend, release and record, each one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, worker: str, limit: int, now_us: int, lease_us: int) -> list[Claimed]:
        """Up to `limit` due messages, now sending under `worker`'s lease until `now_us + lease_us`."""
        if limit <= 0:
            return []
        async with self._db.write() as conn:
            found: list[RowMapping] = []
            for query in self._due(now_us):
                if len(found) >= limit:
                    break
                rows = await conn.execute(query.limit(limit - len(found)).with_for_update(skip_locked=True))
                found.extend(rows.mappings())
            if found:
                keys = [(row["instance_id"], row["id"]) for row in found]
                await conn.execute(
                    update(messages)
                    .where(tuple_(messages.c.instance_id, messages.c.id).in_(keys))
                    .values(
                        state=_SENDING,
                        claimed_by=worker,
                        claimed_until_us=now_us + lease_us,
                        updated_us=now_us,
                    )
                )
        return [_claimed(row) for row in found]

    @staticmethod
    def _due(now_us: int) -> list[Select[Any]]:
        taken_over = (
            select(messages)
            .where(messages.c.state == _SENDING, messages.c.claimed_until_us <= now_us)
            .order_by(messages.c.next_attempt_us)
        )
        waiting = [
            select(messages)
            .where(messages.c.state == state, messages.c.next_attempt_us <= now_us)
            .order_by(messages.c.next_attempt_us)
            for state in _CLAIM_ORDER
        ]
        return [taken_over, *waiting]

    async def extend(self, worker: str, keys: list[Key], now_us: int, lease_us: int) -> set[Key]:
        """Renew `worker`'s leases of `keys` to `now_us + lease_us`; the keys it still holds.

        A lease that already ended is not renewed: another worker may have begun that message.
        """
        if not keys:
            return set()
        async with self._db.write() as conn:
            rows = await conn.execute(
                update(messages)
                .where(
                    tuple_(messages.c.instance_id, messages.c.id).in_(keys),
                    messages.c.state == _SENDING,
                    messages.c.claimed_by == worker,
                    messages.c.claimed_until_us > now_us,
                )
                .values(claimed_until_us=now_us + lease_us)
                .returning(messages.c.instance_id, messages.c.id)
            )
            return {(instance_id, message_key) for instance_id, message_key in rows}

    async def release(self, worker: str, now_us: int) -> int:
        """Hand back every message `worker` holds, due at once for any worker; how many."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(messages)
                .where(messages.c.state == _SENDING, messages.c.claimed_by == worker)
                .values(
                    state=case(
                        (messages.c.attempts_made == 0, MessageState.QUEUED.value),
                        else_=MessageState.DEFERRED.value,
                    ),
                    claimed_by=None,
                    claimed_until_us=None,
                    updated_us=now_us,
                )
            )
            if result.rowcount:
                await changes.announce(conn, changes.OUTBOX)
        return int(result.rowcount)

    async def settle(self, worker: str, message: Claimed, next_: Next, now_us: int) -> bool:
        """Move a held message on without an attempt (expired, or waiting for a provider).

        False, writing nothing, when the lease was lost.
        """
        (recorded,) = await self.record_all(worker, [Outcome(message, next_, now_us)])
        return recorded is not None

    async def record(
        self,
        worker: str,
        message: Claimed,
        attempt: dict[str, Any],
        next_: Next,
        now_us: int,
        breaker: Callable[[Health], Health],
    ) -> BreakerChange | None:
        """Store an attempt (a `store.attempts.attempt_row`), the message's next state and what the
        attempt did to its provider's breaker, in one transaction.

        None, writing nothing, when the lease was lost.
        """
        (recorded,) = await self.record_all(worker, [Outcome(message, next_, now_us, attempt, breaker)])
        return None if recorded is None else recorded.breaker

    async def record_all(self, worker: str, outcomes: Sequence[Outcome]) -> list[Recorded | None]:
        """Record several outcomes in one transaction (one commit for a burst of attempts); each is
        guarded by its own lease: None for those whose lease was lost, which write nothing."""
        async with self._db.write() as conn:
            held = [await _advance(conn, worker, outcome) for outcome in outcomes]
            made = [outcome for outcome, ok in zip(outcomes, held, strict=True) if ok and outcome.attempt]
            if made:
                rows = [{**o.attempt, "number": o.message.attempts_made + 1} for o in made if o.attempt]
                await conn.execute(_INSERT_ATTEMPT, rows)
            breakers = health.Breakers(conn)
            recorded: dict[int, Recorded] = {}
            # Breaker rows in one order (instance, provider) in every transaction: two replicas'
            # batches touching the same providers then wait for each other, never deadlock.
            for index in sorted(
                (i for i, ok in enumerate(held) if ok), key=lambda i: _breaker_key(outcomes[i])
            ):
                recorded[index] = await _recorded(breakers, outcomes[index])
            await health.record_breaker_changes(conn, breakers.changed)
            return [recorded.get(index) for index in range(len(outcomes))]


@dataclass(frozen=True)
class Outcome:
    """What a held message came to: its next state and, when one was made, the attempt (an
    `store.attempts.attempt_row`) with what it does to its provider's breaker."""

    message: Claimed
    next: Next
    now_us: int
    attempt: dict[str, Any] | None = None
    breaker: Callable[[Health], Health] | None = None


@dataclass(frozen=True)
class Recorded:
    """An outcome written under its lease; `breaker` says what the attempt did to the provider's."""

    breaker: BreakerChange | None = None


# The statements of the hot path, built once: a burst of outcomes differs only in its parameters.
_INSERT_ATTEMPT = insert(attempts)
_HELD = (
    messages.c.instance_id == bindparam("held_instance"),
    messages.c.id == bindparam("held_id"),
    messages.c.claimed_by == bindparam("held_by"),
    messages.c.state == _SENDING,
    messages.c.attempts_made == bindparam("held_made"),
)
_NEXT: dict[str, Any] = {
    "state": bindparam("next_state"),
    "next_attempt_us": bindparam("next_due"),
    "claimed_by": None,
    "claimed_until_us": None,
    "updated_us": bindparam("next_now"),
    "final_us": bindparam("next_final"),  # pending messages have none
    "sent_us": bindparam("next_sent"),
}
_SETTLE = update(messages).where(*_HELD).values(_NEXT)
_ATTEMPTED = (
    update(messages)
    .where(*_HELD)
    .values({**_NEXT, "attempts_made": bindparam("next_made"), "provider_id": bindparam("next_provider")})
)


async def _advance(conn: AsyncConnection, worker: str, outcome: Outcome) -> bool:
    """Move the message to its next state if `worker` still holds it."""
    message, next_, now = outcome.message, outcome.next, outcome.now_us
    params: dict[str, Any] = {
        "held_instance": message.instance_id,
        "held_id": message.id,
        "held_by": worker,
        "held_made": message.attempts_made,
        "next_state": next_.state.value,
        "next_due": next_.due_us,
        "next_now": now,
        "next_final": now if next_.state.final else None,
        "next_sent": now if next_.state is MessageState.SENT else None,
    }
    if outcome.attempt is None:
        result = await conn.execute(_SETTLE, params)
    else:
        params.update(next_made=message.attempts_made + 1, next_provider=outcome.attempt["provider_id"])
        result = await conn.execute(_ATTEMPTED, params)
    return bool(result.rowcount == 1)


def _breaker_key(outcome: Outcome) -> tuple[str, str]:
    provider_id = outcome.attempt["provider_id"] if outcome.attempt is not None else ""
    return outcome.message.instance_id, str(provider_id)


async def _recorded(breakers: health.Breakers, outcome: Outcome) -> Recorded:
    if outcome.attempt is None or outcome.breaker is None:
        return Recorded()
    provider_id = outcome.attempt["provider_id"]
    before, after = await breakers.apply(
        outcome.message.instance_id, provider_id, outcome.breaker, outcome.now_us
    )
    return Recorded(BreakerChange(provider_id, before, after))
