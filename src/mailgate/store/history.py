"""history_events rows: appended inside the change's own transaction, read in keyset windows.

An append takes the instance's row (which every writer of the instance locks already), numbers
the events after the chain's head, chains each to the one before by hash and moves the head, so
events of one instance commit in sequence order and a reader following sequences never sees a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, Select, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.history.actor import Actor
from mailgate.history.events import Draft, Event, FieldChange, SecretSet, canonical, chain_hash
from mailgate.history.query import HistoryFilter, HistoryRange
from mailgate.store import changes
from mailgate.store.clock import now_us, to_datetime, to_us
from mailgate.store.tables import history_events, instances


async def append(
    conn: AsyncConnection,
    instance_id: str,
    actor: Actor,
    drafts: Sequence[Draft],
    head: tuple[int, str] | None = None,
) -> list[Event]:
    """Record `drafts` in this transaction, after the instance's last event; nothing when empty.

    `head` is the chain's (sequence, hash) when the caller read it under the instance's row lock
    already (a provider write's `begin_change`); otherwise it is read and locked here.
    """
    if not drafts:
        return []
    if head is None:
        head = await _locked_head(conn, instance_id)
    first, prev = head[0] + 1, head[1]
    at_us = now_us()
    events: list[Event] = []
    for sequence, draft in enumerate(drafts, start=first):
        digest = chain_hash(prev, canonical(instance_id, sequence, at_us, actor, draft))
        events.append(_event(instance_id, sequence, at_us, actor, draft, prev, digest))
        prev = digest
    # The insert moves the chain's head too (migration 0007's trigger): one statement.
    await conn.execute(insert(history_events), [_row(event) for event in events])
    await changes.announce(conn, changes.HISTORY)
    return events


async def _locked_head(conn: AsyncConnection, instance_id: str) -> tuple[int, str]:
    """The chain's head, with the instance's row locked (created first when missing)."""
    for _ in range(2):
        # A no-op update takes the row lock on both backends (SQLite's write lock is held already).
        result = await conn.execute(
            update(instances)
            .where(instances.c.id == instance_id)
            .values(history_sequence=instances.c.history_sequence)
            .returning(instances.c.history_sequence, instances.c.history_hash)
        )
        row = result.first()
        if row is not None:
            return int(row[0]), str(row[1])
        await _ensure_instance(conn, instance_id)
    raise AssertionError("the instance row was just created")


async def _ensure_instance(conn: AsyncConnection, instance_id: str) -> None:
    dialect_insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    await conn.execute(
        dialect_insert(instances)
        .values(id=instance_id, sequence=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )


def _event(
    instance_id: str, sequence: int, at_us: int, actor: Actor, draft: Draft, prev: str, digest: str
) -> Event:
    return Event(
        instance_id=instance_id,
        sequence=sequence,
        type=draft.type,
        at=to_datetime(at_us),
        provider_id=draft.provider_id,
        actor=actor,
        payload=draft.payload,
        changes=draft.changes,
        secrets=draft.secrets,
        prev_hash=prev,
        hash=digest,
    )


def _row(event: Event) -> dict[str, Any]:
    return {
        "instance_id": event.instance_id,
        "sequence": event.sequence,
        "type": event.type,
        "created_us": _us(event),
        "provider_id": event.provider_id,
        "actor_token_id": event.actor.token_id,
        "actor": event.actor.as_json(),
        "payload": event.payload,
        "changes": [[c.field, c.old, c.new] for c in event.changes],
        "secrets": [[s.field, s.fingerprint] for s in event.secrets],
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _us(event: Event) -> int:
    return to_us(event.at)


def row_to_event(row: RowMapping) -> Event:
    return Event(
        instance_id=row["instance_id"],
        sequence=row["sequence"],
        type=row["type"],
        at=to_datetime(row["created_us"]),
        provider_id=row["provider_id"],
        actor=Actor.from_json(dict(row["actor"])),
        payload=dict(row["payload"]),
        changes=tuple(FieldChange(f, old, new) for f, old, new in row["changes"]),
        secrets=tuple(SecretSet(f, fp) for f, fp in row["secrets"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def row_digest(row: RowMapping) -> str:
    """The hash a row should carry, recomputed from its own columns and its `prev_hash`."""
    event = row_to_event(row)
    draft = Draft(event.type, event.provider_id, event.payload, event.changes, event.secrets)
    body = canonical(event.instance_id, event.sequence, row["created_us"], event.actor, draft)
    return chain_hash(event.prev_hash, body)


def _filtered(query: Select[Any], instance_ids: Sequence[str] | None, where: HistoryFilter) -> Select[Any]:
    table = history_events.c
    if instance_ids is not None:
        query = query.where(table.instance_id.in_(instance_ids))
    if where.provider_id:
        query = query.where(table.provider_id == where.provider_id)
    if where.type_prefix:
        query = query.where(table.type.startswith(where.type_prefix, autoescape=True))
    if where.types:
        query = query.where(table.type.in_(where.types))
    if where.actor_token_id:
        query = query.where(table.actor_token_id == where.actor_token_id)
    if where.since_us is not None:
        query = query.where(table.created_us >= where.since_us)
    if where.until_us is not None:
        query = query.where(table.created_us < where.until_us)
    return query


async def window(
    conn: AsyncConnection, instance_id: str, where: HistoryFilter, span: HistoryRange
) -> list[Event]:
    """At most `span.limit` of the instance's events matching `where`, in the span's order."""
    table = history_events.c
    query = _filtered(select(history_events), [instance_id], where)
    if span.ascending:
        query = query.where(table.sequence > span.after).order_by(table.sequence.asc())
    else:
        if span.before is not None:
            query = query.where(table.sequence < span.before)
        query = query.order_by(table.sequence.desc())
    rows = await conn.execute(query.limit(span.limit))
    return [row_to_event(row) for row in rows.mappings()]


async def head(conn: AsyncConnection, instance_id: str) -> tuple[int, str, int, str]:
    """The chain's head (sequence, hash) and anchor (sequence, hash) of the instance."""
    row = (
        await conn.execute(
            select(
                instances.c.history_sequence,
                instances.c.history_hash,
                instances.c.history_anchor_sequence,
                instances.c.history_anchor_hash,
            ).where(instances.c.id == instance_id)
        )
    ).first()
    if row is None:
        return 0, "", 0, ""
    return int(row[0]), str(row[1]), int(row[2]), str(row[3])


async def instance_ids(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(select(instances.c.id).order_by(instances.c.id))
    return list(rows.scalars())


async def rows_from(conn: AsyncConnection, instance_id: str, after: int, limit: int) -> list[RowMapping]:
    """Raw rows after `after`, ascending (for verify, which recomputes each hash)."""
    table = history_events.c
    rows = await conn.execute(
        select(history_events)
        .where(table.instance_id == instance_id, table.sequence > after)
        .order_by(table.sequence.asc())
        .limit(limit)
    )
    return list(rows.mappings())


async def delete_before(conn: AsyncConnection, instance_id: str, cutoff_us: int, limit: int) -> int:
    """Delete the instance's oldest events created before `cutoff_us` (at most `limit`), moving the
    anchor to the last one deleted so verify can start from the oldest row kept."""
    table = history_events.c
    if conn.dialect.name == "postgresql":  # SQLite's write transaction holds the lock already
        await conn.execute(select(instances.c.id).where(instances.c.id == instance_id).with_for_update())
    rows = (
        await conn.execute(
            select(table.sequence, table.hash)
            .where(table.instance_id == instance_id, table.created_us < cutoff_us)
            .order_by(table.sequence.asc())
            .limit(limit)
        )
    ).all()
    if not rows:
        return 0
    last_sequence, last_hash = rows[-1]
    await conn.execute(
        delete(history_events).where(table.instance_id == instance_id, table.sequence <= last_sequence)
    )
    await conn.execute(
        update(instances)
        .where(instances.c.id == instance_id)
        .values(history_anchor_sequence=last_sequence, history_anchor_hash=last_hash)
    )
    return len(rows)
