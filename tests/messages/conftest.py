"""One real server per backend for the delivery API tests, each test in an instance of its own.

No delivery workers run on this server (`server_env` turns them off): every message stays as the
API left it, which is what these tests look at. A test that needs a message in another state puts
it there as a worker would (`tests.messages.helpers.record_attempt`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer, running_server, server_env
from tests.messages.helpers import Mailer


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def shared_env(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, str]:
    return server_env(backend, tmp_path_factory.mktemp(f"messages-{backend}"), request)


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
    """iam.write on the test's own instance, through the Admin API."""
    return Admin(server.stub, await server.metadata("iam.write"))


@pytest_asyncio.fixture(loop_scope="session")
async def provider(admin: Admin) -> str:
    """The id of the instance's active SMTP provider."""
    provider_id = await admin.add_smtp()
    await admin.activate(provider_id)
    return provider_id


@pytest_asyncio.fixture(loop_scope="session")
async def sender(server: RunningServer) -> Mailer:
    """An email.send token of the test's instance."""
    return await Mailer.with_token(server, "email.send")


@pytest_asyncio.fixture(loop_scope="session")
async def reader(server: RunningServer) -> Mailer:
    """An iam.read token of the test's instance, on the delivery API."""
    return await Mailer.with_token(server, "iam.read")


@pytest_asyncio.fixture(loop_scope="session")
async def writer(server: RunningServer) -> Mailer:
    """An iam.write token of the test's instance, on the delivery API."""
    return await Mailer.with_token(server, "iam.write")
