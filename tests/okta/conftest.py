"""Okta's Email Servers API against a real mailgate on SQLite and PostgreSQL, over real HTTP (httpx).

Most tests share one server per backend (in the session's event loop) and stay apart through
their token's instance, as tests/admin does. Its test emails go to the session's SMTP servers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.fixtures.pki import Pki
from tests.fixtures.rpc import Admin, caller
from tests.fixtures.servers import BACKENDS, RunningServer, mail_settings, running_server, server_env

SERVERS = "/api/v1/email-servers"
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


@pytest.fixture(autouse=True)
def _all_logs(capture_everything: None) -> None:
    """Leak checks here see every log line (tests.fixtures.secrets)."""


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _env(backend: str, data_parent: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """A server that sends test emails to the local mail servers."""
    return {**server_env(backend, data_parent, request), **mail_settings(request.getfixturevalue("pki"))}


@pytest.fixture(scope="session")
def shared_env(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, str]:
    # Not inside the async fixture: pg_database_url runs an event loop of its own.
    return _env(backend, tmp_path_factory.mktemp(f"okta-{backend}"), request)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_server(shared_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    async with running_server(shared_env) as running:
        yield running


@pytest.fixture(scope="session")
def tls_env(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, pki: Pki
) -> dict[str, str]:
    """A server of its own that serves HTTPS (Okta's SDKs want https:// URLs) and may reach the
    local SMTP servers."""
    return {**_env(backend, tmp_path_factory.mktemp(f"okta-tls-{backend}"), request), **pki.env()}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def tls_server(tls_env: dict[str, str], pki: Pki) -> AsyncIterator[RunningServer]:
    async with running_server(tls_env, ca_pem=pki.ca_pem) as running:
        yield running


@pytest.fixture
def server(shared_server: RunningServer) -> RunningServer:
    """The shared server with a fresh instance for this test."""
    return shared_server.for_new_instance("okta")


@dataclass
class Okta:
    """One token's view of /api/v1/email-servers."""

    http: httpx.AsyncClient
    headers: dict[str, str]

    async def list(self) -> httpx.Response:
        return await self.http.get(SERVERS, headers=self.headers)

    async def create(self, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(SERVERS, json=body, headers=self.headers)

    async def get(self, server_id: str) -> httpx.Response:
        return await self.http.get(f"{SERVERS}/{server_id}", headers=self.headers)

    async def patch(self, server_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.patch(f"{SERVERS}/{server_id}", json=body, headers=self.headers)

    async def delete(self, server_id: str) -> httpx.Response:
        return await self.http.delete(f"{SERVERS}/{server_id}", headers=self.headers)

    async def test(self, server_id: str, sender: str, receiver: str) -> httpx.Response:
        body = {"fromAddress": sender, "toAddress": receiver}
        return await self.http.post(f"{SERVERS}/{server_id}/test", json=body, headers=self.headers)

    async def add(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a server that must be created; its JSON."""
        response = await self.create(body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest_asyncio.fixture(loop_scope="session")
async def http(shared_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=shared_server.http_base, timeout=20) as client:
        yield client


async def okta_client(
    server: RunningServer,
    http: httpx.AsyncClient,
    permission: str = "iam.write",
    scheme: str = "SSWS",
    instance: str | None = None,
) -> Okta:
    token = await server.token(permission, instance)
    return Okta(http, {"Authorization": f"{scheme} {token}"})


@pytest_asyncio.fixture(loop_scope="session")
async def okta(server: RunningServer, http: httpx.AsyncClient) -> Okta:
    """okta.emailServers.manage (iam.write) on the test's own instance, as `SSWS <token>`."""
    return await okta_client(server, http)


@pytest_asyncio.fixture(loop_scope="session")
async def reader(server: RunningServer, http: httpx.AsyncClient) -> Okta:
    """okta.emailServers.read (iam.read) on the test's own instance."""
    return await okta_client(server, http, "iam.read")


@pytest_asyncio.fixture(loop_scope="session")
async def zitadel(server: RunningServer) -> Admin:
    """The same instance through ZITADEL's API over gRPC (iam.write)."""
    return await caller(server, "iam.write")


def basic(**fields: Any) -> dict[str, Any]:
    """A valid BASIC_SMTP_AUTH create body; `fields` override or add (None removes)."""
    body: dict[str, Any] = {
        "alias": "Primary relay",
        "host": "smtp.example.com",
        "port": 587,
        "username": "mailer",
        "password": "pw-okta-Secret-1",
        "enabled": False,
        "authType": "BASIC_SMTP_AUTH",
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Okta's error object with this status and code; returns it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}, body
    assert body["errorCode"] == code and body["errorLink"] == code
    assert body["errorSummary"] and body["errorId"]
    assert all(set(cause) == {"errorSummary"} for cause in body["errorCauses"])
    return body


def served(response: httpx.Response) -> dict[str, Any]:
    """The EmailServer of a by-id answer (200), without the `email-servers` copy of itself it carries."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    item = {key: value for key, value in body.items() if key != "email-servers"}
    assert body["email-servers"] == [item], body
    return item


def causes(body: dict[str, Any]) -> list[str]:
    return [cause["errorSummary"] for cause in body["errorCauses"]]


def assert_rate_headers(response: httpx.Response) -> tuple[int, int, int]:
    """The three X-Rate-Limit headers, present and sane; (limit, remaining, reset)."""
    limit, remaining, reset = (int(response.headers[name]) for name in RATE_HEADERS)
    assert 0 <= remaining <= limit
    return limit, remaining, reset
