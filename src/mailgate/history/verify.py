"""`mailgate history verify`: walk each instance's chain from its anchor and report the first link
that does not hold (an edited, deleted or inserted row)."""

from __future__ import annotations

from dataclasses import dataclass

from mailgate.store import history as rows
from mailgate.store.database import Database

BATCH = 1000


@dataclass(frozen=True, slots=True)
class ChainReport:
    """One instance's chain: how many events were checked, from which anchor, the first break."""

    instance_id: str
    checked: int
    anchor: int  # the last sequence retention deleted (0: none); the walk starts after it
    head: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify_instance(db: Database, instance_id: str) -> ChainReport:
    async with db.read() as conn:
        head, head_hash, anchor, prev = await rows.head(conn, instance_id)
        expected, checked = anchor + 1, 0

        def broken(sequence: int, reason: str) -> ChainReport:
            return ChainReport(instance_id, checked, anchor, head, sequence, reason)

        after = 0  # from the very start: a row at or before the anchor is itself a break
        while True:
            batch = await rows.rows_from(conn, instance_id, after, BATCH)
            for row in batch:
                sequence = int(row["sequence"])
                if sequence < expected:
                    return broken(sequence, f"event {sequence} is older than the anchor ({anchor})")
                if sequence > expected:
                    return broken(expected, f"event {expected} is missing (the next kept is {sequence})")
                if row["prev_hash"] != prev:
                    return broken(sequence, f"prev_hash does not match event {sequence - 1}'s hash")
                if rows.row_digest(row) != row["hash"]:
                    return broken(sequence, "its content does not match its hash (edited)")
                prev, expected, checked = row["hash"], expected + 1, checked + 1
            if len(batch) < BATCH:
                break
            after = int(batch[-1]["sequence"])
    if expected - 1 != head:
        return broken(expected, f"events {expected} to {head} are missing (the chain's head is {head})")
    if head and prev != head_hash:
        return broken(head, "the last event's hash differs from the chain's head")
    return ChainReport(instance_id, checked, anchor, head)


async def verify(db: Database, instance_id: str | None = None) -> list[ChainReport]:
    """Every instance's chain (or one instance's)."""
    if instance_id is not None:
        return [await verify_instance(db, instance_id)]
    async with db.read() as conn:
        instance_ids = await rows.instance_ids(conn)
    return [await verify_instance(db, one) for one in instance_ids]
