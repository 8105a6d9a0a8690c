"""An outbox of a test's own (a fresh SQLite file or PostgreSQL database), rows written as 0003
defines them, providers added through the domain, and a clock the test moves."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from mailgate.config import Settings
from mailgate.secrets import SecretBox, load_master_key
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from tests.fixtures.database import PG_SKIP, PG_URL, TEST_KEY


def _on_server(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def outbox_env(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings for a new, empty database: claims see only this test's messages."""
    env = {
        "MAILGATE_DATA_DIR": str(tmp_path / "data"),
        "MAILGATE_GRPC_ADDR": "127.0.0.1:0",
        "MAILGATE_HTTP_ADDR": "127.0.0.1:0",
        "MAILGATE_MASTER_KEY": TEST_KEY,
        "MAILGATE_OUTBOUND_ALLOW": "127.0.0.0/8,::1/128",
    }
    if backend == "sqlite":
        yield env
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    name = f"mailgate_outbox_{secrets.token_hex(4)}"
    _on_server(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_URL.replace("postgresql+asyncpg://", "postgresql://").rpartition("/")
    try:
        yield {**env, "MAILGATE_DATABASE_URL": f"{base}/{name}"}
    finally:
        _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Store:
    settings: Settings
    db: Database
    box: SecretBox


@pytest.fixture
async def store(outbox_env: dict[str, str]) -> AsyncIterator[Store]:
    settings = Settings.from_env(outbox_env)
    db = Database(settings)
    await migrate(db)
    try:
        yield Store(settings, db, SecretBox(load_master_key(settings)))
    finally:
        await db.close()


class Clock:
    """Microseconds that move only when the test says so."""

    def __init__(self, now_us: int = 1_700_000_000_000_000) -> None:
        self.now_us = now_us

    def __call__(self) -> int:
        return self.now_us

    def advance(self, seconds: float) -> int:
        self.now_us += round(seconds * 1_000_000)
        return self.now_us


@pytest.fixture
def clock() -> Clock:
    return Clock()
