"""Repository of the outbox: message rows in, read models out; subject and bodies sealed on the way in.

The write side runs in one transaction per call (`OutboxRepository.write`); on PostgreSQL a
transaction that queued something NOTIFYs the other replicas' workers when it commits. The one
message per idempotency key is the unique index's to keep: an insert that loses a race to it
raises DuplicateKey.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.errors import MailgateError
from mailgate.outbox.model import Message, MessageState
from mailgate.outbox.request import Cursor, MessageDetails, MessageFilter
from mailgate.providers.model import State
from mailgate.secrets import SecretBox
from mailgate.store import changes
from mailgate.store.attempts import row_to_attempt
from mailgate.store.clock import to_us
from mailgate.store.database import Database
from mailgate.store.fallbacks import read_fallbacks
from mailgate.store.integrity import violated_constraint
from mailgate.store.outbox_rows import (
    SELECT_WITH_LATEST,
    NewMessage,
    latest,
    new_row,
    row_to_message,
)
from mailgate.store.tables import attempts, messages, providers

KEY_INDEX = "one_message_per_idempotency_key"
_ID_EPOCH_MS = 1_577_836_800_000  # 2020-01-01


def new_message_id() -> str:
    """A numeric id, ordered by time, with 40 random low bits: ids drawn in the same millisecond by
    any number of replicas do not collide in practice."""
    millis = int(time.time() * 1000) - _ID_EPOCH_MS
    return str((millis << 40) | secrets.randbits(40))


class DuplicateKey(MailgateError):
    """A concurrent transaction queued a message under this idempotency key first, and committed."""


@dataclass(frozen=True)
class KeyedMessage:
    """The message an idempotency key names, and the digest of the request that queued it."""

    message: Message
    request_digest: str | None


@dataclass(frozen=True)
class ActiveProvider:
    id: str
    sender_address: str  # empty for HTTP providers


def _one_message(instance_id: str, message_id: str) -> ColumnElement[bool]:
    return and_(messages.c.instance_id == instance_id, messages.c.id == message_id)


class OutboxWrite:
    """One write transaction on one instance's outbox."""

    def __init__(self, conn: AsyncConnection, box: SecretBox, instance_id: str) -> None:
        self._conn = conn
        self._box = box
        self.instance_id = instance_id
        self.queued = False  # something became due: wake the workers once this commits

    async def by_key(self, key: str) -> KeyedMessage | None:
        return await _by_key(self._conn, self._box, self.instance_id, key)

    async def active_provider(self) -> ActiveProvider | None:
        result = await self._conn.execute(
            select(providers.c.id, providers.c.sender_address).where(
                providers.c.instance_id == self.instance_id, providers.c.state == int(State.ACTIVE)
            )
        )
        row = result.first()
        return None if row is None else ActiveProvider(row.id, row.sender_address)

    async def insert(self, new: NewMessage) -> Message:
        """Store the message, QUEUED and due now; DuplicateKey if a concurrent insert took its key."""
        row = new_row(self.instance_id, new, self._box)
        try:
            await self._conn.execute(insert(messages).values(row))
        except IntegrityError as exc:
            if violated_constraint(exc) == KEY_INDEX:
                raise DuplicateKey(new.request.idempotency_key or "") from None
            raise
        self.queued = True
        return row_to_message(self._box, row, None)  # the row as stored: no read back

    async def get(self, message_id: str) -> Message | None:
        return await _get(self._conn, self._box, self.instance_id, message_id)

    async def has_bodies(self, message_id: str) -> bool:
        """Whether the message still has a body to send (retention removes them from final messages)."""
        found = await self._conn.scalar(
            select(func.count())
            .select_from(messages)
            .where(
                _one_message(self.instance_id, message_id),
                or_(messages.c.text_sealed.isnot(None), messages.c.html_sealed.isnot(None)),
            )
        )
        return bool(found)

    async def cancel(self, message_id: str, now_us: int) -> bool:
        """QUEUED or DEFERRED and held by no worker's lease -> CANCELED; False when it was not."""
        result = await self._conn.execute(
            update(messages)
            .where(
                _one_message(self.instance_id, message_id),
                messages.c.state.in_([MessageState.QUEUED.value, MessageState.DEFERRED.value]),
                or_(messages.c.claimed_until_us.is_(None), messages.c.claimed_until_us <= now_us),
            )
            .values(
                state=MessageState.CANCELED.value,
                next_attempt_us=None,
                claimed_by=None,
                claimed_until_us=None,
                updated_us=now_us,
                final_us=now_us,
            )
        )
        return bool(result.rowcount)

    async def requeue(
        self, message_id: str, now_us: int, expires_after_us: int | None, max_attempts: int
    ) -> bool:
        """FAILED or EXPIRED with a body -> QUEUED, due now, with `max_attempts` more attempts and a
        new expiry (`expires_after_us` from now; None: as long as the message was first given)."""
        lifetime: Any = (
            messages.c.expires_us - messages.c.created_us if expires_after_us is None else expires_after_us
        )
        result = await self._conn.execute(
            update(messages)
            .where(
                _one_message(self.instance_id, message_id),
                messages.c.state.in_([MessageState.FAILED.value, MessageState.EXPIRED.value]),
                or_(messages.c.text_sealed.isnot(None), messages.c.html_sealed.isnot(None)),
            )
            .values(
                state=MessageState.QUEUED.value,
                next_attempt_us=now_us,
                expires_us=now_us + lifetime,
                max_attempts=messages.c.attempts_made + max_attempts,
                claimed_by=None,
                claimed_until_us=None,
                updated_us=now_us,
                final_us=None,
            )
        )
        self.queued = self.queued or bool(result.rowcount)
        return bool(result.rowcount)


async def _by_key(conn: AsyncConnection, box: SecretBox, instance_id: str, key: str) -> KeyedMessage | None:
    result = await conn.execute(
        SELECT_WITH_LATEST.where(messages.c.instance_id == instance_id, messages.c.idempotency_key == key)
    )
    row = result.mappings().first()
    if row is None:
        return None
    return KeyedMessage(row_to_message(box, row, latest(row)), row["request_hash"])


async def _get(conn: AsyncConnection, box: SecretBox, instance_id: str, message_id: str) -> Message | None:
    result = await conn.execute(SELECT_WITH_LATEST.where(_one_message(instance_id, message_id)))
    row = result.mappings().first()
    return None if row is None else row_to_message(box, row, latest(row))


def _filtered(instance_id: str, query: MessageFilter, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [messages.c.instance_id == instance_id]
    if query.sender_token_id is not None:
        where.append(messages.c.sender_token_id == query.sender_token_id)
    if query.states:
        where.append(messages.c.state.in_([state.value for state in query.states]))
    if query.category:
        where.append(messages.c.category == query.category)
    if query.provider_id:
        where.append(messages.c.provider_id == query.provider_id)
    if query.created_from is not None:
        where.append(messages.c.created_us >= to_us(query.created_from))
    if query.created_before is not None:
        where.append(messages.c.created_us < to_us(query.created_before))
    if query.recipient:
        where.append(_has_recipient(query.recipient, dialect))
    return where


def _has_recipient(address: str, dialect: str) -> ColumnElement[bool]:
    # The JSON list's elements as a table: json_each on SQLite, json_array_elements_text on PostgreSQL.
    elements = func.json_each if dialect == "sqlite" else func.json_array_elements_text
    table = elements(messages.c.recipients).table_valued("value")
    return exists().select_from(table).where(func.lower(table.c.value) == address.strip().lower())


def _after(cursor: Cursor | None) -> list[ColumnElement[bool]]:
    if cursor is None:
        return []
    created, message_id = messages.c.created_us, messages.c.id
    return [
        or_(
            created < cursor.created_us,
            and_(created == cursor.created_us, message_id < cursor.message_id),
        )
    ]


class OutboxRepository:
    """Reads and write transactions over the outbox tables."""

    def __init__(self, db: Database, box: SecretBox) -> None:
        self._db = db
        self._box = box

    @asynccontextmanager
    async def write(self, instance_id: str) -> AsyncIterator[OutboxWrite]:
        """A write transaction for one instance, committed when the block ends without error."""
        async with self._db.write() as conn:
            tx = OutboxWrite(conn, self._box, instance_id)
            yield tx
            if tx.queued:
                await changes.announce(conn, changes.OUTBOX)

    async def by_key(self, instance_id: str, key: str) -> KeyedMessage | None:
        async with self._db.read() as conn:
            return await _by_key(conn, self._box, instance_id, key)

    async def details(self, instance_id: str, message_id: str) -> MessageDetails | None:
        """The message and every attempt, in one read transaction."""
        async with self._db.read() as conn:
            message = await _get(conn, self._box, instance_id, message_id)
            if message is None:
                return None
            rows = await conn.execute(
                select(attempts)
                .where(attempts.c.instance_id == instance_id, attempts.c.message_id == message_id)
                .order_by(attempts.c.number)
            )
            return MessageDetails(message, tuple(row_to_attempt(row) for row in rows.mappings()))

    async def page(
        self, instance_id: str, query: MessageFilter, cursor: Cursor | None, limit: int
    ) -> list[Message]:
        """Up to `limit` messages after `cursor`, newest first."""
        dialect = "sqlite" if self._db.is_sqlite else "postgresql"
        statement = (
            SELECT_WITH_LATEST.where(*_filtered(instance_id, query, dialect), *_after(cursor))
            .order_by(messages.c.created_us.desc(), messages.c.id.desc())
            .limit(limit)
        )
        async with self._db.read() as conn:
            rows = await conn.execute(statement)
            return [row_to_message(self._box, row, latest(row)) for row in rows.mappings()]

    async def fallbacks(self, instance_id: str) -> tuple[str, ...]:
        async with self._db.read() as conn:
            return await read_fallbacks(conn, instance_id)
