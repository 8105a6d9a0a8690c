"""The delivery child's side: the delivery workers, the retention sweep and their metrics, as
`mailgate serve` would run them inline, in a process of their own at a lower CPU priority.

It stops (finishing or releasing what it holds within the grace period) on SIGTERM or SIGINT,
when its parent closes the pipe, and when its parent dies (Linux tells it so at once).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys

from prometheus_client import CollectorRegistry, generate_latest

from mailgate import logs
from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery_process.link import Changed, LinkError, MetricsText, MetricsWanted
from mailgate.delivery_process.pipes import ParentPipes
from mailgate.outbox.runtime import Delivery
from mailgate.secrets import SecretBox, load_master_key
from mailgate.store import changes
from mailgate.store.changes import ChangeListener
from mailgate.store.database import DELIVERY_POOL, Database, listener_dsn
from mailgate.store.providers import ProviderRepository

log = logging.getLogger("mailgate.delivery")

_PR_SET_PDEATHSIG = 1


def _die_with(parent_pid: int) -> None:
    """Have the kernel send SIGTERM when the parent dies (Linux); stop now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        raise SystemExit(0)


class Child:
    """The workers and what keeps them informed: the parent's lines and, on PostgreSQL, NOTIFY."""

    def __init__(self, settings: Settings, pipes: ParentPipes) -> None:
        self.settings = settings
        self.pipes = pipes
        self.db = Database(settings, DELIVERY_POOL)
        self.repo = ProviderRepository(self.db)
        self.registry = CollectorRegistry()
        box = SecretBox(load_master_key(settings))
        self.delivery = Delivery(settings, self.db, box, self.repo, DeliveryEngine(settings), self.registry)
        # Another process changed something: providers to read afresh, messages due.
        self.on_change = changes.reacting(
            {changes.PROVIDERS: self.repo.forget, changes.OUTBOX: self.delivery.wake}
        )
        self.listener: ChangeListener | None = None
        if settings.uses_postgres:
            self.listener = ChangeListener(listener_dsn(settings), self.on_change)
        else:  # no NOTIFY: what the workers commit (breaker events, released messages) goes up the pipe
            self.db.subscribe(lambda what: pipes.send(Changed(what)))

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set or the parent closes the pipe, then drain."""
        if self.listener is not None:
            self.listener.start()
        self.delivery.start()
        reading = asyncio.create_task(self._read(stop))
        try:
            await stop.wait()
        finally:
            reading.cancel()
            await self.delivery.stop(self.settings.shutdown_grace)
            if self.listener is not None:
                await self.listener.stop()
            await self.delivery.close()
            await self.db.close()

    async def _read(self, stop: asyncio.Event) -> None:
        async for line in self.pipes.lines():
            match line:
                case Changed(what):
                    self.on_change(what)
                case MetricsWanted(request):
                    self.pipes.send(MetricsText(request, generate_latest(self.registry).decode()))
                case LinkError() as error:
                    log.warning(
                        "delivery child: a line from its parent was not understood",
                        extra={"error": str(error)},
                    )
                case MetricsText():
                    pass  # only the child sends these
        stop.set()  # the parent closed the pipe: it is stopping, or gone


async def _main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    child = Child(settings, await ParentPipes.open())
    log.info("delivery child started", extra={"pid": os.getpid(), "nice": os.nice(0)})
    await child.run(stop)
    log.info("delivery child stopped", extra={"pid": os.getpid()})


def main(argv: list[str]) -> int:
    """`python -m mailgate.delivery_process PARENT_PID`, with the parent's MAILGATE_* environment."""
    _die_with(int(argv[0]))
    settings = Settings.from_env()
    os.nice(settings.delivery_nice)  # before any thread starts: threads inherit it
    logs.configure(settings.log_level)
    try:
        asyncio.run(_main(settings))
    finally:
        logs.stop()
    return 0
