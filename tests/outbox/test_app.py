"""Delivery inside a running server: workers start and stop with it, other replicas' enqueues
wake them (PostgreSQL NOTIFY), `MAILGATE_DELIVERY_WORKERS=0` sends nothing, and `GET /metrics`
serves Prometheus text on the HTTP port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from mailgate.app import App, build_services
from mailgate.config import Settings
from mailgate.store import changes
from mailgate.store.clock import now_us
from mailgate.store.database import Database
from mailgate.store.tables import provider_health
from tests.outbox.conftest import Store
from tests.outbox.harness import until
from tests.outbox.rows import add_smtp, insert_message, message
from tests.outbox.senders import ScriptedSender

INSTANCE = "inst-app"


@asynccontextmanager
async def serving(env: dict[str, str], sender: ScriptedSender, **overrides: object) -> AsyncIterator[App]:
    services = await build_services(Settings.from_env(env, **overrides), sender=sender)
    app = App(services)
    app.bind()
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


def reached(store: Store, key: str, state: str) -> Callable[[], object]:
    async def check() -> bool:
        return (await message(store.db, INSTANCE, key))["state"] == state

    return check


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_the_server_delivers_and_serves_metrics(store: Store, outbox_env: dict[str, str]) -> None:
    provider = await add_smtp(store.db, store.box, INSTANCE, active=True)
    async with store.db.write() as conn:
        await conn.execute(
            insert(provider_health).values(
                instance_id=INSTANCE,
                provider_id="p-open",
                state="open",
                consecutive_faults=5,
                open_until_us=now_us() + 10**9,
                changed_us=now_us(),
            )
        )
    gate = asyncio.Event()
    sender = ScriptedSender(gate=gate)
    keys = [
        await insert_message(store.db, store.box, INSTANCE, now_us(), to=("carol@example.com",))
        for _ in range(3)
    ]
    async with serving(outbox_env, sender, delivery_workers=1) as app:
        await until(lambda: _started(sender))
        base = f"http://127.0.0.1:{app.http.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            scraped = await client.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain; version=")
            values = samples(scraped.text)
            # One attempt in flight, one more claimed ahead for the next free slot.
            assert values[("mailgate_outbox_messages", (("state", "queued"),))] == 1
            assert values[("mailgate_outbox_messages", (("state", "sending"),))] == 2
            assert values[("mailgate_outbox_messages", (("state", "deferred"),))] == 0
            assert values[("mailgate_outbox_oldest_age_seconds", (("state", "queued"),))] >= 0
            assert values[("mailgate_provider_breaker", (("provider", "p-open"), ("state", "open")))] == 1
            assert values[("mailgate_provider_breaker", (("provider", "p-open"), ("state", "closed")))] == 0
            assert values[("mailgate_delivery_in_flight", ())] == 1
            assert "carol@example.com" not in scraped.text and "Your code" not in scraped.text

            gate.set()
            for key in keys:
                await until(reached(store, key, "sent"))
            values = samples((await client.get("/metrics")).text)
            delivered = (("provider", provider), ("reply_class", "delivered"))
            assert values[("mailgate_delivery_attempts_total", delivered)] == 3
            assert values[("mailgate_delivery_latency_seconds_count", ())] == 3

            head = await client.head("/metrics")
            assert (head.status_code, head.content) == (200, b"")
            assert int(head.headers["content-length"]) > 0
            assert (await client.post("/metrics")).status_code == 405
            assert (await client.get("/metrics/x")).status_code == 404
    assert sender.closed  # the engine is closed with the server


async def _started(sender: ScriptedSender) -> bool:
    return sender.started.is_set()


async def test_an_api_only_replica_sends_nothing(store: Store, outbox_env: dict[str, str]) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    key = await insert_message(store.db, store.box, INSTANCE, now_us())
    sender = ScriptedSender()
    async with serving({**outbox_env, "MAILGATE_DELIVERY_WORKERS": "0"}, sender) as app:
        assert app.services.delivery.worker is None
        app.services.delivery.wake()  # harmless without workers
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http.port}") as client:
            values = samples((await client.get("/metrics")).text)
        assert values[("mailgate_outbox_messages", (("state", "queued"),))] == 1
    assert sender.calls == []
    assert (await message(store.db, INSTANCE, key))["state"] == "queued"


@pytest.mark.parametrize("backend", ["postgres"])
async def test_another_replicas_enqueue_wakes_the_workers(store: Store, outbox_env: dict[str, str]) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender()
    async with serving(outbox_env, sender, delivery_poll_interval=60.0) as app:
        listener = app.services.listener
        assert listener is not None
        await asyncio.wait_for(listener.listening.wait(), 30)
        await asyncio.sleep(0.05)  # the workers looked once and now wait a minute
        other_replica = Database(store.settings)
        try:
            key = await insert_message(store.db, store.box, INSTANCE, now_us())
            async with other_replica.write() as conn:
                await changes.announce(conn, changes.OUTBOX)
            await until(reached(store, key, "sent"))
        finally:
            await other_replica.close()


async def test_stopping_the_server_releases_what_its_workers_hold(
    store: Store, outbox_env: dict[str, str]
) -> None:
    await add_smtp(store.db, store.box, INSTANCE, active=True)
    sender = ScriptedSender(gate=asyncio.Event())  # a server that never answers
    key = await insert_message(store.db, store.box, INSTANCE, now_us())
    async with serving(outbox_env, sender, shutdown_grace=0.05):
        await until(lambda: _started(sender))
    row = await message(store.db, INSTANCE, key)
    assert (row["state"], row["claimed_by"], row["attempts_made"]) == ("queued", None, 0)
