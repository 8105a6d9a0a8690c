"""SendEmail answers after its commit: then the local workers are woken (`on_enqueued`) and, on
PostgreSQL, the other replicas' (NOTIFY); a database that is down answers UNAVAILABLE, writes nothing,
and uses no key."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import grpc
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.store import changes
from tests.fixtures.database import TEST_KEY
from tests.fixtures.relay import Relay
from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer, start_server
from tests.messages.helpers import Mailer, delivery_attempt, record_attempt, send_request

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_workers_are_woken_after_the_commit(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer, backend: str
) -> None:
    outbox = server.services.outbox
    database = server.services.settings.data_dir / "mailgate.db"
    seen: list[int | None] = []

    def committed_messages() -> int | None:
        # What another connection sees at the moment of the call: only committed rows.
        if backend != "sqlite":
            return None
        with sqlite3.connect(database) as conn:
            query = "SELECT count(*) FROM messages WHERE instance_id = ?"
            return int(conn.execute(query, (server.instance,)).fetchone()[0])

    outbox.on_enqueued = lambda: seen.append(committed_messages())
    try:
        keyed = send_request(to=["ann@example.com"], idempotency_key="wake-1")
        first = (await sender("SendEmail", keyed)).message
        await sender("SendEmail", keyed)  # a replay queues nothing
        await sender.fail("SendEmail", send_request(to=["nobody"]))  # nor does a refusal
        second = await sender.send()
        await record_attempt(
            server, first.id, delivery_attempt(1, provider, ReplyClass.PERMANENT, 550), MessageState.FAILED
        )
        await writer("RetryMessage", pb.RetryMessageRequest(id=first.id))
        await writer("CancelMessage", pb.CancelMessageRequest(id=second.id))
    finally:
        outbox.on_enqueued = lambda: None
    assert seen == ([1, 2, 2] if backend == "sqlite" else [None, None, None])


async def test_a_failing_callback_does_not_fail_the_call(
    provider: str, sender: Mailer, server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("no workers")

    server.services.outbox.on_enqueued = broken
    try:
        sent = await sender.send()
    finally:
        server.services.outbox.on_enqueued = lambda: None
    assert (await sender.get(sent.id)).state == pb.MESSAGE_STATE_QUEUED
    assert "waking the delivery workers failed" in caplog.text


async def test_other_replicas_are_notified(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer, backend: str, pg_database_url: str
) -> None:
    if backend != "postgres":
        pytest.skip("NOTIFY is PostgreSQL's")
    payloads: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(pg_database_url)
    try:
        await conn.add_listener(changes.CHANNEL, lambda _c, _p, _ch, payload: payloads.put_nowait(payload))
        first = await sender.send()
        assert await asyncio.wait_for(payloads.get(), 10) == changes.OUTBOX
        await record_attempt(
            server, first.id, delivery_attempt(1, provider, ReplyClass.PERMANENT, 550), MessageState.FAILED
        )
        await writer("RetryMessage", pb.RetryMessageRequest(id=first.id))
        assert await asyncio.wait_for(payloads.get(), 10) == changes.OUTBOX
    finally:
        await conn.close()


# --- the database down ---


@pytest_asyncio.fixture(loop_scope="session")
async def relay(pg_database_url: str) -> AsyncIterator[Relay]:
    url = make_url(pg_database_url)
    running = Relay(url.host or "127.0.0.1", url.port or 5432)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


@pytest_asyncio.fixture(loop_scope="session")
async def relayed(pg_database_url: str, relay: Relay, tmp_path: Path) -> AsyncIterator[RunningServer]:
    url = make_url(pg_database_url).set(host="127.0.0.1", port=relay.port)
    env = {
        "MAILGATE_DATA_DIR": str(tmp_path / "data"),
        "MAILGATE_GRPC_ADDR": "127.0.0.1:0",
        "MAILGATE_HTTP_ADDR": "127.0.0.1:0",
        "MAILGATE_DATABASE_URL": url.render_as_string(hide_password=False),
        "MAILGATE_MASTER_KEY": TEST_KEY,
    }
    running = await start_server(env, token_cache_seconds=60)
    try:
        yield running
    finally:
        relay.refusing = False
        await running.close()


async def test_a_database_that_is_down_answers_unavailable_and_writes_nothing(
    backend: str, relayed: RunningServer, relay: Relay
) -> None:
    if backend != "postgres":
        pytest.skip("the relay stands in front of PostgreSQL")
    admin = Admin(relayed.stub, await relayed.metadata("iam.write"))
    await admin.activate(await admin.add_smtp())
    mailer = await Mailer.with_token(relayed, "email.send")
    await mailer.send()  # the token is known (cached) before the database goes away

    relay.refusing = True
    relay.cut()
    down = await mailer.fail("SendEmail", send_request(idempotency_key="down-1"))
    assert down.is_zitadel(grpc.StatusCode.UNAVAILABLE, "MG-UNAVAILABLE")

    relay.refusing = False
    after = await mailer("SendEmail", send_request(idempotency_key="down-1"))
    assert not after.replayed  # the failed call used no key
    assert len((await mailer.listing()).messages) == 2  # nothing half-written
