"""The test RPCs against a real mailgate (SQLite and PostgreSQL) that sends to the session's SMTP
servers and token endpoint on 127.0.0.1, addressed by IP: mailgate resolves names for real here."""

from __future__ import annotations

import pytest

from tests.fixtures.rpc import Admin, caller
from tests.fixtures.servers import RunningServer


@pytest.fixture(autouse=True)
def _all_logs(capture_everything: None) -> None:
    """Leak checks here see every log line (tests.fixtures.secrets)."""


@pytest.fixture
async def admin(mail_server: RunningServer) -> Admin:
    """iam.write on the test's instance."""
    return await caller(mail_server)
