"""Cache invalidation and outbox wake-ups: a write transaction announces what it changed.

Once it commits, the process's own subscribers hear of it (`Database.subscribe`: the history bell,
the delivery child's pipe on SQLite); on PostgreSQL it also NOTIFYs, and every process LISTENs.

The caches' short lifetime already bounds staleness; this makes other replicas see a change at
once in the usual case. The listener outlives its connection: a lost one is logged and replaced,
with growing waits while the database cannot be reached, and every cache is cleared once it
listens again, since notifications sent meanwhile are gone. A connection that silently stops
answering (a dropped NAT entry, a half-open TCP connection) is noticed by a periodic probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger("mailgate.store")

CHANNEL = "mailgate_changes"
PROVIDERS = "providers"
TOKENS = "tokens"
OUTBOX = "outbox"  # messages became due (enqueued, requeued, released): workers look at once
HISTORY = "history"  # events were committed: live history streams read on
ANNOUNCED = "mailgate_announced"  # in a connection's info: what its transaction announced
CONNECT_TIMEOUT = 10.0
APPLICATION_NAME = "mailgate-change-listener"  # how pg_stat_activity shows the listener's connection


async def announce(conn: AsyncConnection, what: str) -> None:
    """Tell this process's subscribers and (on PostgreSQL) every replica, once this transaction
    commits, that `what` changed; a rollback tells nobody."""
    announced: set[str] = conn.info.setdefault(ANNOUNCED, set())
    announced.add(what)
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_notify(:channel, :what)"), {"channel": CHANNEL, "what": what})


def reacting(handlers: Mapping[str, Callable[[], None]]) -> Callable[[str | None], None]:
    """What a process does on hearing of another process's change: the handler of what changed,
    or every handler for None (anything may have changed: notifications may have been missed)."""

    def on_change(what: str | None) -> None:
        for name, handler in handlers.items():
            if what is None or what == name:
                handler()

    return on_change


@dataclass(frozen=True)
class Backoff:
    """Waits between failed connection attempts: doubling from `first` to at most `longest` seconds.

    Each wait is drawn from its upper half, so replicas that lost the database together do not
    all come back in the same instant.
    """

    first: float = 0.5
    longest: float = 10.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield random.uniform(delay / 2, delay)  # noqa: S311 (jitter, not a secret)
            delay = min(delay * 2, self.longest)


class ChangeListener:
    """Calls `on_change(what)` for each notification; `on_change(None)` when some may have been missed."""

    def __init__(
        self,
        dsn: str,
        on_change: Callable[[str | None], None],
        backoff: Backoff = Backoff(),
        probe_every: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._on_change = on_change
        self._backoff = backoff
        self._probe_every = probe_every
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mailgate-change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        lost_at: float | None = None  # when the previous connection was lost
        while True:
            conn = await self._connect()
            try:
                await self._listen(conn, lost_at)
                reason = "the connection was closed"
            except Exception as exc:  # whatever ended it, the next connection takes over
                reason = _describe(exc)
            finally:
                self.listening.clear()
                conn.terminate()  # no goodbye: the connection is gone or no longer answers
            lost_at = time.monotonic()
            # Until it is back, other replicas' changes show only when the caches expire.
            log.warning("change listener lost its connection; reconnecting", extra={"error": reason})

    async def _connect(self) -> asyncpg.Connection:
        """A new connection, retried with growing waits until the database answers."""
        delays = self._backoff.delays()
        while True:
            try:
                return await asyncpg.connect(
                    self._dsn, timeout=CONNECT_TIMEOUT, server_settings={"application_name": APPLICATION_NAME}
                )
            except Exception as exc:  # unreachable, refused, restarting: all worth another try
                delay = next(delays)
                log.warning(
                    "change listener cannot connect; retrying",
                    extra={"error": _describe(exc), "retry_in_s": round(delay, 3)},
                )
            await asyncio.sleep(delay)

    async def _listen(self, conn: asyncpg.Connection, lost_at: float | None) -> None:
        """Deliver notifications until the connection is lost (returns) or stops answering (raises)."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._on_change(payload))
        self._on_change(None)  # anything sent before we listened is unknown
        self.listening.set()
        if lost_at is None:
            log.info("change listener listening")
        else:
            log.info(
                "change listener reconnected; every cache was cleared",
                extra={"down_s": round(time.monotonic() - lost_at, 3)},
            )
        while not lost.is_set():
            try:
                async with asyncio.timeout(self._probe_every):
                    await lost.wait()
            except TimeoutError:
                await self._probe(conn)

    async def _probe(self, conn: asyncpg.Connection) -> None:
        """Raise unless the connection answers: one nobody closed may still be dead (half-open TCP)."""
        try:
            await conn.fetchval("SELECT 1", timeout=self._probe_every)
        except TimeoutError:
            raise ConnectionError(f"no answer to a probe within {self._probe_every:g}s") from None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
