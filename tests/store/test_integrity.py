"""Real integrity violations on SQLite and PostgreSQL: races are named alike on both; the rest are faults."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from mailgate.store import integrity
from mailgate.store.database import Database
from mailgate.store.tables import instances, providers, tokens


def _provider(instance: str, provider_id: str, state: int, **fields: object) -> dict[str, object]:
    return {
        "instance_id": instance,
        "id": provider_id,
        "kind": "http",
        "state": state,
        "description": "",
        "creation_sequence": 1,
        "sequence": 1,
        "created_us": 0,
        "changed_us": 0,
        "endpoint": "https://relay.example.com",
        **fields,
    }


def _token(token_id: str, token_hash: str) -> dict[str, object]:
    return {
        "id": token_id,
        "token_hash": token_hash,
        "instance_id": "i",
        "permission": "iam.read",
        "created_us": 0,
    }


async def _violation(db: Database, statement: Executable) -> IntegrityError:
    with pytest.raises(IntegrityError) as raised:
        async with db.write() as conn:
            await conn.execute(statement)
    return raised.value


async def test_races_and_faults_are_told_apart_on_both_backends(db: Database) -> None:
    instance = f"integrity-{secrets.token_hex(4)}"
    taken = secrets.token_hex(8)
    async with db.write() as conn:
        await conn.execute(
            insert(providers).values([_provider(instance, n, s) for n, s in (("a", 1), ("b", 2))])
        )
        await conn.execute(insert(instances).values(id=instance, sequence=1))
        await conn.execute(insert(tokens).values(_token(taken, taken)))

    cases: dict[str, Executable] = {
        "second active provider": update(providers)
        .where(providers.c.instance_id == instance, providers.c.id == "b")
        .values(state=1),
        "provider id drawn twice": insert(providers).values(_provider(instance, "a", 2)),
        "instance row made twice": insert(instances).values(id=instance, sequence=1),
        "token hash stored twice": insert(tokens).values(_token(secrets.token_hex(8), taken)),
        "NOT NULL column left empty": insert(providers).values(_provider(instance, "c", 2, kind=None)),
    }
    seen = {}
    for case, statement in cases.items():
        error = await _violation(db, statement)
        constraint = integrity.violated_constraint(error)
        seen[case] = (constraint, constraint in integrity.RACES)

    assert seen == {
        "second active provider": ("one_active_provider_per_instance", True),
        "provider id drawn twice": ("email_providers_pkey", True),
        "instance row made twice": ("instances_pkey", True),
        "token hash stored twice": ("api_tokens_token_hash_key", False),
        "NOT NULL column left empty": (None, False),
    }


async def test_a_unique_index_nobody_knows_is_not_a_race(db: Database) -> None:
    # A schema change the code does not know about: a violation of it must not read "retry".
    instance = f"integrity-{secrets.token_hex(4)}"
    index = f"test_only_{secrets.token_hex(4)}"
    async with db.write() as conn:
        where = f"instance_id = '{instance}'"
        await conn.execute(
            text(f"CREATE UNIQUE INDEX {index} ON email_providers (description) WHERE {where}")
        )
    try:
        async with db.write() as conn:
            await conn.execute(insert(providers).values(_provider(instance, "a", 2, description="same")))
        twin = insert(providers).values(_provider(instance, "b", 2, description="same"))
        error = await _violation(db, twin)
    finally:
        async with db.write() as conn:
            await conn.execute(text(f"DROP INDEX {index}"))

    assert integrity.violated_constraint(error) not in integrity.RACES
