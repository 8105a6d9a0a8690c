"""Writes on a real store (SQLite and PostgreSQL): each auth variant as written, and a write that
changes nothing takes no sequence, even when many identical writes race."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import select

from mailgate.providers.auth import (
    ClientCredentials,
    JwtBearer,
    NoAuth,
    PlainAuth,
    StoredAuth,
    TokenEndpointAuth,
)
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.inputs import SmtpInput
from mailgate.providers.model import Change
from mailgate.providers.sealing import Sealed
from mailgate.secrets import SecretBox
from mailgate.store.database import Database
from mailgate.store.providers import ProviderRepository
from mailgate.store.tables import providers

INSTANCE = "writes-test"
SEALED = Sealed("v1:kid:c2VhbGVk")
AUTHS: list[StoredAuth] = [
    NoAuth(),
    PlainAuth(password=None),
    PlainAuth(password=SEALED),
    ClientCredentials(
        "client", SEALED, "https://t.example.com/token", TokenEndpointAuth.CLIENT_SECRET_POST, ("a",)
    ),
    ClientCredentials(
        "client", None, "https://t.example.com/token", TokenEndpointAuth.CLIENT_SECRET_BASIC, ()
    ),
    JwtBearer("client", "https://t", "RS256", "kid", "iss", "sub@example.com", "aud", ("a", "b"), SEALED),
]
# The auth columns as a provider without auth leaves them: no variant leaves anything behind.
UNUSED = {
    "password_sealed": None,
    "client_id": "",
    "client_secret_sealed": None,
    "token_endpoint": "",
    "scopes": [],
    "jwt_subject": "",
    "private_key_sealed": None,
}


@pytest.fixture
def repo(db: Database) -> ProviderRepository:
    return ProviderRepository(db)


def smtp_input(description: str = "relay") -> SmtpInput:
    return SmtpInput(
        sender_address="noreply@example.com",
        sender_name="Mailgate",
        host="smtp.example.com:587",
        tls=True,
        user="mailer",
        reply_to_address="",
        description=description,
        auth=PlainAuth(password="pw-first"),
    )


async def _auth_columns(db: Database, provider_id: str) -> dict[str, object]:
    async with db.read() as conn:
        row = (await conn.execute(select(providers).where(providers.c.id == provider_id))).mappings().one()
    return {name: row[name] for name in UNUSED}


async def test_every_auth_variant_comes_back_as_written_and_leaves_no_other_columns(
    db: Database, repo: ProviderRepository
) -> None:
    commands = ProviderCommands(repo, SecretBox(b"k" * 32))
    _, provider_id = await commands.add_smtp(INSTANCE, smtp_input())
    for auth in [*AUTHS, NoAuth()]:
        current = await repo.get(INSTANCE, provider_id)
        assert current is not None and current.smtp is not None
        async with repo.write(INSTANCE) as tx:
            await tx.begin_change()
            await tx.save(replace(current, smtp=replace(current.smtp, auth=auth)))
        read = await repo.get(INSTANCE, provider_id)
        assert read is not None and read.smtp is not None and read.smtp.auth == auth
    # Back to no auth after every variant: nothing of any of them is left in the row.
    assert await _auth_columns(db, provider_id) == UNUSED


async def test_a_write_that_changes_nothing_takes_no_sequence(repo: ProviderRepository) -> None:
    commands = ProviderCommands(repo, SecretBox(b"k" * 32))
    added, provider_id = await commands.add_smtp(INSTANCE, smtp_input())
    keep_password = replace(smtp_input(), auth=PlainAuth(password=""))
    same = await commands.update_smtp(INSTANCE, provider_id, keep_password)
    assert same == added
    changed = await commands.update_smtp(INSTANCE, provider_id, replace(keep_password, description="moved"))
    assert changed.sequence == added.sequence + 1  # the unchanged write left no gap


async def test_identical_writes_racing_change_the_provider_once(repo: ProviderRepository) -> None:
    commands = ProviderCommands(repo, SecretBox(b"k" * 32))
    added, provider_id = await commands.add_smtp(INSTANCE, smtp_input())
    moved = replace(smtp_input("moved"), auth=PlainAuth(password=""))
    results: list[Change] = await asyncio.gather(
        *(commands.update_smtp(INSTANCE, provider_id, moved) for _ in range(8))
    )
    # The first write changed the provider; every other one found nothing to change.
    assert {change.sequence for change in results} == {added.sequence + 1}
    assert len({change.at for change in results}) == 1
    last = await commands.update_smtp(INSTANCE, provider_id, replace(moved, description="again"))
    assert last.sequence == added.sequence + 2
