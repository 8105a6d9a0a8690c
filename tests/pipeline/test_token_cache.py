"""The token cache's promise (README): a revoked token stops working within one second.

The cache's clock is the test's, so the lifetime is stepped through exactly instead of waited for.
"""

from __future__ import annotations

import pytest

from mailgate.config import Settings
from mailgate.errors import ApiError
from mailgate.pipeline.auth import Authenticator
from mailgate.store.cache import DEFAULT_TTL, TtlCache
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from mailgate.store.tokens import TokenRepository


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_revoked_token_works_at_most_one_cache_lifetime_longer(settings_env: dict[str, str]) -> None:
    assert DEFAULT_TTL == 1.0  # the README's "within one second"
    db = Database(Settings.from_env(settings_env))
    try:
        await migrate(db)
        tokens = TokenRepository(db)
        clock = Clock()
        authenticator = Authenticator(tokens, TtlCache(clock=clock))
        record, token = await tokens.create("cache-test", "iam.read")
        assert (await authenticator.principal(token)).token_id == record.id
        assert await tokens.revoke(record.id)

        cached_at = clock.now
        clock.now = cached_at + DEFAULT_TTL - 0.001
        assert (await authenticator.principal(token)).token_id == record.id  # still the cached answer
        clock.now = cached_at + DEFAULT_TTL
        with pytest.raises(ApiError) as refused:
            await authenticator.principal(token)
        assert refused.value.error_id == "MG-AUTH-INVALID"
    finally:
        await db.close()


async def test_a_zero_lifetime_checks_every_token_anew(settings_env: dict[str, str]) -> None:
    db = Database(Settings.from_env(settings_env))
    try:
        await migrate(db)
        tokens = TokenRepository(db)
        authenticator = Authenticator(tokens, TtlCache(0, clock=Clock()))  # time stands still
        record, token = await tokens.create("cache-test", "iam.read")
        assert (await authenticator.principal(token)).token_id == record.id
        assert await tokens.revoke(record.id)
        with pytest.raises(ApiError):
            await authenticator.principal(token)
    finally:
        await db.close()
