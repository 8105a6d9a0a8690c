"""The PostgreSQL change listener survives losing its connection: logged, reconnected, caches cleared.

Two "replicas" share the real database: one caches providers for an hour and listens, the other
writes and notifies. The listener reaches PostgreSQL through a relay that can refuse new
connections or go silent on open ones, as a restarting database or a dropped NAT entry does.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from mailgate.config import Settings
from mailgate.providers.model import Provider
from mailgate.store import changes
from mailgate.store.cache import TtlCache
from mailgate.store.changes import Backoff, ChangeListener
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from mailgate.store.providers import ProviderRepository
from mailgate.store.tables import providers
from tests.fixtures.database import TEST_KEY
from tests.fixtures.relay import Relay

LOST = "change listener lost its connection; reconnecting"
CANNOT = "change listener cannot connect; retrying"
BACK = "change listener reconnected; every cache was cleared"
QUICK = Backoff(first=0.02, longest=0.1)


@dataclass
class Replicas:
    """`reader` caches for an hour and listens through `relay`; `writer` changes the row and notifies."""

    relay: Relay
    reader: ProviderRepository
    writer: Database
    listener_dsn: str
    instance: str
    provider_id: str

    async def description(self) -> str:
        provider = await self.reader.get(self.instance, self.provider_id)
        assert isinstance(provider, Provider)
        return provider.description

    async def shows(self, description: str, limit: float = 10.0) -> None:
        """Wait until the reader serves `description`: a notification has dropped its cache."""
        async with asyncio.timeout(limit):
            while await self.description() != description:
                await asyncio.sleep(0.01)

    async def change(self, description: str) -> None:
        """What another replica's write does: change the row, and notify when it commits."""
        async with self.writer.write() as conn:
            await conn.execute(
                update(providers)
                .where(providers.c.instance_id == self.instance, providers.c.id == self.provider_id)
                .values(description=description)
            )
            await changes.announce(conn, changes.PROVIDERS)


@pytest.fixture
async def replicas(pg_database_url: str, tmp_path: Path) -> AsyncIterator[Replicas]:
    settings = Settings.from_env(
        {
            "MAILGATE_DATABASE_URL": pg_database_url,
            "MAILGATE_MASTER_KEY": TEST_KEY,
            "MAILGATE_DATA_DIR": str(tmp_path),
        }
    )
    reader_db, writer_db = Database(settings), Database(settings)
    await migrate(writer_db)
    url = make_url(pg_database_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    port = await relay.start()
    instance, provider_id = f"changes-{secrets.token_hex(4)}", secrets.token_hex(4)
    async with writer_db.write() as conn:
        await conn.execute(
            insert(providers).values(
                instance_id=instance,
                id=provider_id,
                kind="http",
                state=2,
                description="one",
                creation_sequence=1,
                sequence=1,
                created_us=0,
                changed_us=0,
                endpoint="https://relay.example.com",
            )
        )
    dsn = url.set(drivername="postgresql", host="127.0.0.1", port=port).render_as_string(hide_password=False)
    reader = ProviderRepository(reader_db, TtlCache(ttl=3600))
    try:
        yield Replicas(relay, reader, writer_db, dsn, instance, provider_id)
    finally:
        await relay.close()
        await reader_db.close()
        await writer_db.close()


async def until(condition: Callable[[], object], what: str, limit: float = 10.0) -> None:
    """Wait until `condition()` holds; fail naming `what` after `limit` seconds."""
    try:
        async with asyncio.timeout(limit):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not within {limit:g}s: {what}") from None


def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mailgate.store" and r.getMessage() == message]


async def _start(replicas: Replicas, probe_every: float = 30.0) -> ChangeListener:
    def on_change(what: str | None) -> None:
        if what in (None, changes.PROVIDERS):  # as app.py wires it
            replicas.reader.forget()

    listener = ChangeListener(replicas.listener_dsn, on_change, backoff=QUICK, probe_every=probe_every)
    listener.start()
    await asyncio.wait_for(listener.listening.wait(), 10)
    return listener


async def _terminate(pg_database_url: str, relay: Relay) -> None:
    """pg_terminate_backend, from another connection, on every backend the relay leads to."""
    conn = await asyncpg.connect(pg_database_url)
    try:
        ports = relay.upstream_ports()
        terminated = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE client_port = ANY($1::int[]) AND application_name = $2",
            ports,
            changes.APPLICATION_NAME,
        )
        assert len(terminated) == 1, ports
    finally:
        await conn.close()


async def test_a_terminated_connection_is_logged_and_replaced_and_caches_are_cleared(
    replicas: Replicas, pg_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mailgate.store")
    listener = await _start(replicas)
    try:
        assert await replicas.description() == "one"  # cached for an hour from now on
        replicas.relay.refusing = True  # and the database stays away for a while
        await _terminate(pg_database_url, replicas.relay)
        await until(lambda: logged(caplog, LOST) and logged(caplog, CANNOT), "the loss is logged")

        await replicas.change("two")  # its notification reaches nobody
        assert await replicas.description() == "one"
        replicas.relay.refusing = False
        await until(lambda: logged(caplog, BACK), "the reconnection is logged")
        assert await replicas.description() == "two"  # the reconnection cleared the cache

        await replicas.change("three")  # and notifications arrive again
        await replicas.shows("three")
    finally:
        await listener.stop()


async def test_a_connection_that_goes_silent_is_noticed_and_replaced(
    replicas: Replicas, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mailgate.store")
    listener = await _start(replicas, probe_every=0.2)
    try:
        assert await replicas.description() == "one"
        replicas.relay.silence()  # nothing closes the connection; nothing gets through it either
        await replicas.change("two")  # its notification is lost on the way

        await until(lambda: logged(caplog, LOST), "the loss is logged")
        assert "no answer to a probe" in getattr(logged(caplog, LOST)[0], "error", "")
        await until(lambda: logged(caplog, BACK), "the reconnection is logged")
        assert await replicas.description() == "two"
        await replicas.change("three")
        await replicas.shows("three")
    finally:
        await listener.stop()
