"""A delivery worker over a test's own outbox, with the clock and the jitter in the test's hands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry

from mailgate.outbox.breaker import BreakerPolicy
from mailgate.outbox.failover import Router
from mailgate.outbox.metrics import DeliveryMetrics
from mailgate.outbox.schedule import RetryPolicy, Schedule
from mailgate.outbox.targets import Targets
from mailgate.outbox.worker import DeliveryWorker, WorkerConfig
from mailgate.secrets import SecretBox
from mailgate.store.health import HealthStore
from mailgate.store.leases import LeaseStore
from mailgate.store.providers import ProviderRepository
from mailgate.store.routes import RouteStore
from tests.outbox.conftest import Clock, Store
from tests.outbox.senders import ScriptedSender

S = 1_000_000
BASE = 5.0  # seconds: the first retry's cap; with the jitter drawn at 1.0 each wait is the cap


def new_worker(
    store: Store,
    clock: Clock,
    sender: ScriptedSender,
    *,
    concurrency: int = 4,
    lease: float = 30.0,
    poll: float = 0.02,
    faults: int = 2,
    cooldown: float = 60.0,
    draw: float = 1.0,
    box: SecretBox | None = None,
    name: str = "worker-a",
) -> tuple[DeliveryWorker, CollectorRegistry]:
    box = box or store.box
    policy = BreakerPolicy(faults, round(cooldown * S), round(lease * S))
    registry = CollectorRegistry()
    worker = DeliveryWorker(
        LeaseStore(store.db),
        Router(HealthStore(store.db), RouteStore(store.db), policy, cache_seconds=0),
        Targets(ProviderRepository(store.db), box),
        sender,
        Schedule(RetryPolicy(BASE, 900.0), lambda: draw),
        policy,
        box,
        WorkerConfig(concurrency, lease, poll),
        DeliveryMetrics(registry),
        clock=clock,
        name=name,
    )
    return worker, registry


@asynccontextmanager
async def running(worker: DeliveryWorker, grace: float = 30.0) -> AsyncIterator[DeliveryWorker]:
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop(grace)


async def until(condition: Callable[[], Awaitable[bool]], limit: float = 20.0) -> None:
    """Wait for `condition` to hold (checked every few milliseconds); fail after `limit` seconds."""
    async with asyncio.timeout(limit):
        while not await condition():
            await asyncio.sleep(0.005)
