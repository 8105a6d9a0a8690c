"""Delivery metrics in Prometheus' model: what this process did, and what the outbox holds.

Counters and the latency histogram count this process's attempts (sum them over replicas). The
queue and breaker gauges are read from the shared database at scrape time, at most once per
`max_age` seconds, so every replica reports the same values (take the max, not the sum). Labels
hold provider ids, reply classes and states only: never an instance secret or a recipient.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from mailgate.outbox.breaker import BreakerState
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.store.clock import now_us
from mailgate.store.database import Database
from mailgate.store.health import HealthStore
from mailgate.store.tables import messages

log = logging.getLogger("mailgate.delivery")

# Enqueue to the server's 250: from a local relay's tens of milliseconds to retries over hours.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
PENDING = (MessageState.QUEUED, MessageState.DEFERRED, MessageState.SENDING)


class DeliveryMetrics:
    """The process's own counters, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "mailgate_delivery_attempts",
            "Delivery attempts by reply class and provider (this process).",
            ["reply_class", "provider"],
            registry=registry,
        )
        self.latency = Histogram(
            "mailgate_delivery_latency_seconds",
            "Seconds from enqueue to the provider accepting the message (SMTP 250 after DATA, HTTP 2xx).",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "mailgate_delivery_in_flight", "Attempts this process is making now.", registry=registry
        )

    def attempted(self, reply_class: ReplyClass, provider_id: str, created_us: int, finished_us: int) -> None:
        self.attempts.labels(reply_class.value, provider_id).inc()
        if reply_class is ReplyClass.DELIVERED:
            self.latency.observe(max(0, finished_us - created_us) / 1_000_000)


@dataclass(frozen=True)
class Snapshot:
    """The outbox as one scrape saw it."""

    depth: dict[MessageState, int] = field(default_factory=dict)
    oldest_s: dict[MessageState, float] = field(default_factory=dict)
    breakers: list[tuple[str, BreakerState]] = field(default_factory=list)


class OutboxGauges(Collector):
    """Queue depth, oldest message age per pending state, and breaker states, from the database."""

    def __init__(
        self,
        db: Database,
        health: HealthStore,
        max_age: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._health = health
        self._max_age = max_age
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._taken = 0.0

    async def refresh(self) -> None:
        """Read the outbox unless the last reading is younger than `max_age`; keep the old one on failure."""
        if self._snapshot is not None and self._clock() - self._taken < self._max_age:
            return
        try:
            self._snapshot = await self._read()
        except Exception as exc:  # the scrape still serves the process's counters
            log.warning("metrics cannot read the outbox", extra={"error": f"{type(exc).__name__}: {exc}"})
            self._snapshot = None
            return
        self._taken = self._clock()

    async def _read(self) -> Snapshot:
        now = now_us()
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(messages.c.state, func.count(), func.min(messages.c.created_us))
                .where(messages.c.state.in_([state.value for state in PENDING]))
                .group_by(messages.c.state)
            )
            found = {MessageState(state): (count, oldest) for state, count, oldest in rows}
        depth = {state: found.get(state, (0, None))[0] for state in PENDING}
        oldest = {
            state: max(0.0, (now - first) / 1_000_000) if (first := found.get(state, (0, None))[1]) else 0.0
            for state in PENDING
        }
        return Snapshot(depth, oldest, await self._health.breakers())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self._snapshot
        if snapshot is None:
            return
        depth = GaugeMetricFamily(
            "mailgate_outbox_messages",
            "Messages in the outbox by pending state (all replicas).",
            labels=["state"],
        )
        oldest = GaugeMetricFamily(
            "mailgate_outbox_oldest_age_seconds",
            "Age of the oldest message in each pending state, since its enqueue (0 when none).",
            labels=["state"],
        )
        for state in PENDING:
            depth.add_metric([state.value], snapshot.depth.get(state, 0))
            oldest.add_metric([state.value], snapshot.oldest_s.get(state, 0.0))
        breakers = GaugeMetricFamily(
            "mailgate_provider_breaker",
            "1 for each provider's current circuit-breaker state (closed, open, half_open).",
            labels=["provider", "state"],
        )
        for provider_id, current in snapshot.breakers:
            for breaker_state in BreakerState:
                breakers.add_metric([provider_id, breaker_state.value], float(breaker_state is current))
        yield depth
        yield oldest
        yield breakers
