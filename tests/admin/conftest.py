"""One real server per backend for all Admin API tests, each test in an instance of its own.

Starting and stopping a server per test costs more than most tests themselves, so the tests here
share one App per backend (in the session's event loop: every test module here runs in it) and
stay apart the way tenants do, through the token's instance (decision 9.12).
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
    """MAILGATE_* variables for a server of a test's own (see `server` for the shared one)."""
    return server_env(backend, tmp_path, request)


@pytest.fixture(scope="session")
def shared_env(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, str]:
    # Not inside the async fixture: pg_database_url runs an event loop of its own.
    return server_env(backend, tmp_path_factory.mktemp(backend), request)


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
    """iam.write on the test's own instance."""
    return Admin(server.stub, await server.metadata("iam.write"))


@pytest_asyncio.fixture(loop_scope="session")
async def reader(server: RunningServer) -> Admin:
    """iam.read on the test's own instance."""
    return Admin(server.stub, await server.metadata("iam.read"))


@pytest_asyncio.fixture(loop_scope="session")
async def stranger(server: RunningServer) -> Admin:
    """iam.write on another instance."""
    return Admin(server.stub, await server.metadata("iam.write", server.instance + "-other"))
