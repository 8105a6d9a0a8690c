"""An empty database of a test's own: a new SQLite file, or a new PostgreSQL database dropped after."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import PG_SKIP, PG_URL, TEST_KEY


def _on_server(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def empty_env(backend: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """MAILGATE_* settings for a server on free local ports and an empty database."""
    env = {
        "MAILGATE_DATA_DIR": str(tmp_path / "data"),
        "MAILGATE_GRPC_ADDR": "127.0.0.1:0",
        "MAILGATE_HTTP_ADDR": "127.0.0.1:0",
        "MAILGATE_MASTER_KEY": TEST_KEY,
    }
    if backend == "sqlite":
        yield env
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    name = f"mailgate_test_{secrets.token_hex(4)}"
    _on_server(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_URL.replace("postgresql+asyncpg://", "postgresql://").rpartition("/")
    try:
        yield {**env, "MAILGATE_DATABASE_URL": f"{base}/{name}"}
    finally:
        _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
