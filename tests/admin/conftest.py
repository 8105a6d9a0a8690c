"""One real server per backend for all Admin API tests, each test in an instance of its own.

Starting and stopping a server per test costs more than most tests themselves, so the tests here
share one App per backend (in the session's event loop: every test module here runs in it) and
stay apart the way tenants do, through the token's instance (decision 9.12). `settings_env` still
gives a test a server of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.fixtures.rpc import Admin, caller
from tests.fixtures.servers import BACKENDS, RunningServer, running_server, server_env


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def shared_env(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, str]:
    # Not inside the async fixture: pg_database_url runs an event loop of its own.
    return server_env(backend, tmp_path_factory.mktemp(backend), request)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_server(shared_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    async with running_server(shared_env) as running:
        yield running


@pytest.fixture
def server(shared_server: RunningServer) -> RunningServer:
    """The shared server with a fresh instance for this test."""
    return shared_server.for_new_instance("inst")


@pytest_asyncio.fixture(loop_scope="session")
async def admin(server: RunningServer) -> Admin:
    """iam.write on the test's own instance."""
    return await caller(server, "iam.write")


@pytest_asyncio.fixture(loop_scope="session")
async def reader(server: RunningServer) -> Admin:
    """iam.read on the test's own instance."""
    return await caller(server, "iam.read")


@pytest_asyncio.fixture(loop_scope="session")
async def stranger(server: RunningServer) -> Admin:
    """iam.write on another instance."""
    return await caller(server, "iam.write", server.instance + "-other")
