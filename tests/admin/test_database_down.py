"""A database that goes away answers UNAVAILABLE (retry later), not INTERNAL, and the server recovers.

The server reaches PostgreSQL through a relay that can cut every connection and refuse new ones,
as a database restart or a network outage does.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy.engine import make_url

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.database import TEST_KEY
from tests.fixtures.relay import Relay
from tests.fixtures.rpc import smtp_add
from tests.fixtures.servers import RunningServer, start_server


@pytest.fixture
async def relay(pg_database_url: str) -> AsyncIterator[Relay]:
    url = make_url(pg_database_url)
    running = Relay(url.host or "127.0.0.1", url.port or 5432)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def server(pg_database_url: str, relay: Relay, tmp_path: Path) -> AsyncIterator[RunningServer]:
    url = make_url(pg_database_url).set(host="127.0.0.1", port=relay.port)
    env = {
        "MAILGATE_DATA_DIR": str(tmp_path / "data"),
        "MAILGATE_GRPC_ADDR": "127.0.0.1:0",
        "MAILGATE_HTTP_ADDR": "127.0.0.1:0",
        "MAILGATE_DATABASE_URL": url.render_as_string(hide_password=False),
        "MAILGATE_MASTER_KEY": TEST_KEY,
    }
    running = await start_server(env, token_cache_seconds=0)
    try:
        yield running
    finally:
        relay.refusing = False
        await running.close()


async def test_a_database_that_goes_away_is_unavailable_and_comes_back(
    server: RunningServer, relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = await server.metadata("iam.write")
    await server.stub.AddEmailProviderSMTP(smtp_add(description="before"), metadata=metadata)

    relay.refusing = True
    relay.cut()
    with caplog.at_level(logging.WARNING, logger="mailgate"), pytest.raises(grpc.aio.AioRpcError) as down:
        await server.stub.AddEmailProviderSMTP(smtp_add(description="during"), metadata=metadata)

    assert down.value.code() == grpc.StatusCode.UNAVAILABLE, down.value.details()
    assert down.value.details().endswith("(MG-UNAVAILABLE)")
    assert [r for r in caplog.records if r.getMessage() == "database unavailable"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text

    relay.refusing = False
    await server.stub.AddEmailProviderSMTP(smtp_add(description="after"), metadata=metadata)
    listed = await server.stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=metadata)
    assert sorted(p.description for p in listed.result) == ["after", "before"]  # nothing half-written
