"""Shared fixtures: a real mailgate server on free ports, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
import trustme

from mailgate.app import App, Services, build_services
from mailgate.config import Settings
from mailgate.gen.zitadel import admin_pb2_grpc
from mailgate.pipeline.methods import Method, MethodTable
from mailgate.store.cache import DEFAULT_TTL

PG_URL = os.environ.get("MAILGATE_TEST_DATABASE_URL", "")
PG_SKIP = "PostgreSQL tests need MAILGATE_TEST_DATABASE_URL (bash .ci/run sets it)"
TEST_KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    name = f"mailgate_test_{secrets.token_hex(4)}"
    admin_dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_dsn.rpartition("/")
    yield f"{base}/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def server_env(backend: str, data_parent: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """MAILGATE_* variables for a server on free local ports and the chosen store."""
    env = {
        "MAILGATE_DATA_DIR": str(data_parent / "data"),
        "MAILGATE_GRPC_ADDR": "127.0.0.1:0",
        "MAILGATE_HTTP_ADDR": "127.0.0.1:0",
        "MAILGATE_LOG_LEVEL": "info",
    }
    if backend == "postgres":
        env["MAILGATE_DATABASE_URL"] = request.getfixturevalue("pg_database_url")
        env["MAILGATE_MASTER_KEY"] = TEST_KEY
    return env


@pytest.fixture
def settings_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    return server_env(backend, tmp_path, request)


@dataclass(frozen=True)
class ListenerPki:
    """A CA and a certificate for 127.0.0.1 and localhost, as files, for mailgate's own listeners."""

    ca_file: Path
    cert_file: Path  # the certificate chain
    key_file: Path

    @property
    def ca_pem(self) -> bytes:
        return self.ca_file.read_bytes()

    def env(self) -> dict[str, str]:
        """The settings that make both listeners serve TLS with this certificate."""
        return {"MAILGATE_TLS_CERT_FILE": str(self.cert_file), "MAILGATE_TLS_KEY_FILE": str(self.key_file)}


def new_listener_pki(folder: Path) -> ListenerPki:
    """A fresh trustme CA and leaf certificate, written into `folder`."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    folder.mkdir(parents=True, exist_ok=True)
    pki = ListenerPki(folder / "ca.pem", folder / "chain.pem", folder / "key.pem")
    ca.cert_pem.write_to_path(str(pki.ca_file))
    pki.cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(pki.key_file))
    return pki


@pytest.fixture(scope="session")
def listener_pki(tmp_path_factory: pytest.TempPathFactory) -> ListenerPki:
    return new_listener_pki(tmp_path_factory.mktemp("listener-pki"))


@dataclass
class RunningServer:
    """A mailgate App serving in the test's event loop."""

    app: App
    services: Services
    grpc_target: str
    channel: grpc.aio.Channel
    stub: admin_pb2_grpc.AdminServiceStub
    http_base: str = ""  # "http://127.0.0.1:<port>" (https:// with TLS) of the HTTP listener

    async def token(self, permission: str = "iam.write", instance: str | None = None) -> str:
        """A new token; each test gets its own instance unless it names one."""
        _, token = await self.services.tokens.create(instance or self.instance, permission)
        return token

    @property
    def instance(self) -> str:
        return f"inst-{id(self):x}"

    async def metadata(
        self, permission: str = "iam.write", instance: str | None = None
    ) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {await self.token(permission, instance)}"),)

    async def close(self) -> None:
        """Close the client channel, then stop the server (draining its calls)."""
        await self.channel.close()
        await self.app.stop()


async def start_server(
    env: dict[str, str],
    ca_pem: bytes | None = None,
    *,
    token_cache_seconds: float = DEFAULT_TTL,
    methods: Callable[[Services], Sequence[Method]] | None = None,
    **overrides: Any,
) -> RunningServer:
    """Serve on `env` (Settings `overrides` win); with TLS settings, the client channel trusts the CA
    `ca_pem`; `token_cache_seconds=0` checks every token anew; `methods(services)` join the table."""
    services = await build_services(
        Settings.from_env(env, **overrides), token_cache_seconds=token_cache_seconds
    )
    if methods is not None:
        table = MethodTable([*services.table.values(), *methods(services)])
        services = dataclasses.replace(services, table=table)
    app = App(services)
    app.bind()
    await app.start()
    target = f"127.0.0.1:{app.grpc.port}"
    if services.settings.tls is None:
        channel = grpc.aio.insecure_channel(target)
        scheme = "http"
    else:
        assert ca_pem is not None, "a TLS server needs the CA its clients trust"
        channel = grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=ca_pem))
        scheme = "https"
    stub = admin_pb2_grpc.AdminServiceStub(channel)
    return RunningServer(app, services, target, channel, stub, f"{scheme}://127.0.0.1:{app.http.port}")


@pytest.fixture
async def server(settings_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    running = await start_server(settings_env)
    try:
        yield running
    finally:
        await running.close()
