"""Delivery in one process, composed: workers, retention sweep and their metrics, started and
stopped together (by app.py inline, or by the delivery child)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from mailgate.config import Settings
from mailgate.delivery.sending import Sender
from mailgate.outbox.breaker import BreakerPolicy
from mailgate.outbox.failover import Router
from mailgate.outbox.metrics import DeliveryMetrics
from mailgate.outbox.retention import RetentionSweeper
from mailgate.outbox.schedule import RetryPolicy, Schedule
from mailgate.outbox.targets import Targets
from mailgate.outbox.worker import DeliveryWorker, WorkerConfig
from mailgate.secrets import SecretBox
from mailgate.store.database import Database
from mailgate.store.health import HealthStore
from mailgate.store.leases import LeaseStore
from mailgate.store.providers import ProviderRepository
from mailgate.store.retention import Retention
from mailgate.store.routes import RouteStore

_US = 1_000_000


class Delivery:
    """The process's delivery: workers when `MAILGATE_DELIVERY_WORKERS` > 0 and an engine is given,
    their counters in `registry`."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        box: SecretBox,
        repo: ProviderRepository,
        sender: Sender | None,
        registry: CollectorRegistry,
    ) -> None:
        self.metrics = DeliveryMetrics(registry)
        health = HealthStore(db)
        self.sender = sender
        self.worker: DeliveryWorker | None = None
        self.sweeper: RetentionSweeper | None = None
        if sender is None or settings.delivery_workers == 0:
            return
        policy = BreakerPolicy.from_settings(settings)
        self.worker = DeliveryWorker(
            LeaseStore(db),
            Router(health, RouteStore(db), policy),
            Targets(repo, box),
            sender,
            Schedule(RetryPolicy.from_settings(settings)),
            policy,
            box,
            WorkerConfig.from_settings(settings),
            self.metrics,
        )
        retention = Retention(
            db,
            round(settings.message_retention * _US),
            round(settings.message_metadata_retention * _US),
            history_us=round(settings.history_retention * _US),
        )
        self.sweeper = RetentionSweeper(retention)

    def wake(self) -> None:
        """Messages became due (enqueued here, or announced by another replica): look now."""
        if self.worker is not None:
            self.worker.wake()

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()
        if self.sweeper is not None:
            self.sweeper.start()

    async def stop(self, grace: float) -> None:
        """Finish or release what the workers hold within `grace` seconds."""
        if self.sweeper is not None:
            await self.sweeper.stop()
        if self.worker is not None:
            await self.worker.stop(grace)

    async def close(self) -> None:
        if self.sender is not None:
            await self.sender.close()
