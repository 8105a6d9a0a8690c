"""One real server per backend for the delivery API tests, each test in an instance of its own.

No delivery workers run on this branch's server: every message stays as the API left it, which is
what these tests look at. A test that needs a message in another state puts it there as a worker
would (`tests.messages.helpers.record_attempt`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
import pytest_asyncio

from tests.admin.helpers import Admin
from tests.conftest import RunningServer, server_env, start_server
from tests.messages.helpers import Mailer


@dataclass
class InstanceServer(RunningServer):
    """The shared server, seen from one test: `instance` is that test's own."""

    own_instance: str = ""

    @property
    def instance(self) -> str:
        return self.own_instance


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """MAILGATE_* variables for a server of a test's own."""
    return server_env(backend, tmp_path, request)


@pytest.fixture(scope="session")
def shared_env(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, str]:
    return server_env(backend, tmp_path_factory.mktemp(f"messages-{backend}"), request)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_server(shared_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    running = await start_server(shared_env)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
def server(shared_server: RunningServer) -> RunningServer:
    """The shared server with a fresh instance for this test."""
    shared = {item.name: getattr(shared_server, item.name) for item in fields(shared_server)}
    return InstanceServer(**shared, own_instance=f"inst-{secrets.token_hex(6)}")


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
