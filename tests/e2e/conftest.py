"""A served mailgate with its delivery workers on, on the embedded SQLite store, with back-off,
polls and deadlines short enough that a message's whole life fits in a test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.e2e.tenant import Tenant
from tests.fixtures.servers import StartServer

# Settings a user could give `mailgate serve`; each test may override some.
DELIVERY_ENV = {
    "MAILGATE_DELIVERY_WORKERS": "4",
    "MAILGATE_DELIVERY_POLL_INTERVAL": "0.05",
    "MAILGATE_DELIVERY_LEASE": "5",
    "MAILGATE_DELIVERY_TIMEOUT": "3",
    "MAILGATE_RETRY_BASE": "0.05",
    "MAILGATE_RETRY_MAX": "0.2",
    # The breaker opens only in the failover tests, which say how soon.
    "MAILGATE_BREAKER_FAULTS": "1000",
    "MAILGATE_BREAKER_COOLDOWN": "1",
    "MAILGATE_SMTP_CONNECT_TIMEOUT": "1",
    "MAILGATE_SMTP_COMMAND_TIMEOUT": "0.5",
}


@pytest.fixture
def backend() -> str:
    """The embedded default; tests/e2e/test_replicas.py brings PostgreSQL of its own."""
    return "sqlite"


Serve = Callable[..., Awaitable[Tenant]]


@pytest.fixture
async def serve(start_mail_server: StartServer) -> AsyncIterator[Serve]:
    """Start mailgate with delivery workers (DELIVERY_ENV, then MAILGATE_* overrides); the tenant
    of a new instance on it."""

    async def start(**env: str) -> Tenant:
        server = await start_mail_server(**{**DELIVERY_ENV, **env})
        return await Tenant.of(server)

    yield start
