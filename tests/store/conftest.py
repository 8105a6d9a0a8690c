"""An empty database of a test's own: a new SQLite file, or a new PostgreSQL database dropped after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.database import TEST_KEY, fresh_database


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
    with fresh_database() as url:
        yield {**env, "MAILGATE_DATABASE_URL": url}
