"""Providers' circuit breakers in `provider_health`, and the providers a message may go to (with the
instance's route, store/routes.py).

Every replica reads and writes the same rows: a breaker opened by one replica's attempts holds for
all, and turning an open breaker half-open is a guarded update, so exactly one replica probes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, RowMapping, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.history.actor import SYSTEM
from mailgate.history.events import BREAKER_CHANGED, Draft, FieldChange
from mailgate.outbox.breaker import CLOSED, BreakerState, Health
from mailgate.providers.model import State
from mailgate.store import history
from mailgate.store.database import Database
from mailgate.store.tables import fallbacks, instances, provider_health, providers


@dataclass(frozen=True)
class Candidate:
    """A provider a message of its instance may be sent through, with its breaker."""

    provider_id: str
    health: Health
    active: bool  # the instance's active provider; otherwise one of its fallbacks


@dataclass(frozen=True)
class Routing:
    """An instance's candidates in order, and its route: the provider its messages are being sent
    through (None until the next message sets it, store/routes.py)."""

    candidates: tuple[Candidate, ...]
    route: str | None


def _health(row: RowMapping | None) -> Health:
    if row is None:
        return CLOSED
    return Health(BreakerState(row["state"]), row["consecutive_faults"], row["open_until_us"])


def _key(instance_id: str, provider_id: str) -> ColumnElement[bool]:
    return and_(provider_health.c.instance_id == instance_id, provider_health.c.provider_id == provider_id)


def _is(health: Health) -> ColumnElement[bool]:
    """A condition matching a row that holds exactly `health` (for guarded updates)."""
    until = provider_health.c.open_until_us
    return and_(
        provider_health.c.state == health.state.value,
        provider_health.c.consecutive_faults == health.consecutive_faults,
        until.is_(None) if health.until_us is None else until == health.until_us,
    )


def _values(health: Health, now_us: int) -> dict[str, object]:
    return {
        "state": health.state.value,
        "consecutive_faults": health.consecutive_faults,
        "open_until_us": health.until_us,
        "changed_us": now_us,
    }


class HealthStore:
    """Reads the candidates of an instance; hands out probes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def routing(self, instance_id: str) -> Routing:
        """The active provider, then the instance's fallbacks in their order, each with its breaker;
        and the instance's route."""
        async with self._db.read() as conn:
            route = await conn.scalar(select(instances.c.delivery_route).where(instances.c.id == instance_id))
            active = await conn.scalar(
                select(providers.c.id).where(
                    providers.c.instance_id == instance_id, providers.c.state == int(State.ACTIVE)
                )
            )
            listed = await conn.execute(
                select(fallbacks.c.provider_id)
                .join(
                    providers,
                    and_(
                        providers.c.instance_id == fallbacks.c.instance_id,
                        providers.c.id == fallbacks.c.provider_id,
                    ),
                )
                .where(fallbacks.c.instance_id == instance_id)
                .order_by(fallbacks.c.position)
            )
            ids = ([active] if active is not None else []) + [
                provider_id for (provider_id,) in listed if provider_id != active
            ]
            health = await read_breakers(conn, instance_id, ids)
        candidates = tuple(Candidate(pid, health.get(pid, CLOSED), pid == active) for pid in ids)
        return Routing(candidates, route)

    async def take_probe(
        self, instance_id: str, provider_id: str, seen: Health, probe: Health, now_us: int
    ) -> bool:
        """Turn the breaker from `seen` into `probe`; False when another worker changed it first."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(provider_health)
                .where(_key(instance_id, provider_id), _is(seen))
                .values(_values(probe, now_us))
            )
            taken = result.rowcount == 1
            if taken:
                await record_breaker_changes(conn, [(instance_id, provider_id, seen, probe)])
        return taken

    async def breakers(self) -> list[tuple[str, BreakerState]]:
        """Every provider's breaker state, for the metrics."""
        async with self._db.read() as conn:
            rows = await conn.execute(select(provider_health.c.provider_id, provider_health.c.state))
            return [(provider_id, BreakerState(state)) for provider_id, state in rows]


async def read_breakers(
    conn: AsyncConnection, instance_id: str, provider_ids: Sequence[str]
) -> dict[str, Health]:
    """The stored breakers of these providers (one without a row is closed, and not in the dict)."""
    rows = await conn.execute(
        select(provider_health).where(
            provider_health.c.instance_id == instance_id, provider_health.c.provider_id.in_(provider_ids)
        )
    )
    return {row["provider_id"]: _health(row) for row in rows.mappings()}


BreakerTransition = tuple[str, str, Health, Health]  # instance, provider, before, after


async def record_breaker_changes(conn: AsyncConnection, changed: list[BreakerTransition]) -> None:
    """Record breaker state changes in the history, in this transaction, instance by instance in
    one order (after every breaker row this transaction locks, so writers never deadlock)."""
    by_instance: dict[str, list[Draft]] = {}
    for instance_id, provider_id, before, after in changed:
        payload = {
            "id": provider_id,
            "state": after.state.value,
            "consecutiveFaults": after.consecutive_faults,
        }
        change = FieldChange("state", before.state.value, after.state.value)
        draft = Draft(BREAKER_CHANGED, provider_id, payload, (change,))
        by_instance.setdefault(instance_id, []).append(draft)
    for instance_id in sorted(by_instance):
        await history.append(conn, instance_id, SYSTEM, by_instance[instance_id])


class Breakers:
    """Breaker updates within one transaction (`conn`), each provider's row read once."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._known: dict[tuple[str, str], Health] = {}
        # Each breaker whose state changed: recorded by `record_breaker_changes` at the end.
        self.changed: list[BreakerTransition] = []

    async def apply(
        self, instance_id: str, provider_id: str, evolve: Callable[[Health], Health], now_us: int
    ) -> tuple[Health, Health]:
        """(before, after) of the provider's breaker once `evolve` is applied.

        The usual outcome changes nothing (a delivery through a closed breaker) and writes nothing;
        otherwise the row is created if missing, locked, and evolved from what it holds then.
        """
        key = (instance_id, provider_id)
        before = self._known.get(key)
        if before is None:
            before = await self._read(instance_id, provider_id, lock=False)
        if evolve(before) == before:
            self._known[key] = before
            return before, before
        conn = self._conn
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        await conn.execute(
            insert(provider_health)
            .values(instance_id=instance_id, provider_id=provider_id, **_values(CLOSED, now_us))
            .on_conflict_do_nothing()
        )
        before = await self._read(instance_id, provider_id, lock=True)
        after = evolve(before)
        if after != before:
            await conn.execute(
                update(provider_health).where(_key(instance_id, provider_id)).values(_values(after, now_us))
            )
            if after.state is not before.state:
                self.changed.append((instance_id, provider_id, before, after))
        self._known[key] = after
        return before, after

    async def _read(self, instance_id: str, provider_id: str, *, lock: bool) -> Health:
        query = select(provider_health).where(_key(instance_id, provider_id))
        rows = await self._conn.execute(query.with_for_update() if lock else query)
        return _health(rows.mappings().first())
