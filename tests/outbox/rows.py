"""Outbox rows for tests, written as migration 0003 defines them (until the outbox's write side
exists), with the subject and bodies sealed as mailgate.outbox.sealing says."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select

from mailgate.outbox.model import MessageState
from mailgate.outbox.sealing import HTML, SUBJECT, TEXT, MessageSecrets
from mailgate.providers.auth import NoAuth
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.inputs import SmtpInput
from mailgate.secrets import SecretBox
from mailgate.store.database import Database
from mailgate.store.providers import ProviderRepository
from mailgate.store.tables import attempts, fallbacks, messages, provider_health

DAY_US = 86_400_000_000


async def insert_message(
    db: Database,
    box: SecretBox,
    instance_id: str,
    now_us: int,
    *,
    state: MessageState = MessageState.QUEUED,
    due_us: int | None = None,
    expires_us: int | None = None,
    max_attempts: int = 5,
    attempts_made: int = 0,
    subject: str = "Your code",
    text: str | None = "Your code is 123456",
    html: str | None = None,
    to: tuple[str, ...] = ("alice@example.com",),
    final_us: int | None = None,
    **extra: Any,
) -> str:
    """One message of `instance_id`, due at `due_us` (default `now_us`); its messages.id."""
    key = secrets.token_hex(16)
    sealing = MessageSecrets(box, instance_id, key)
    row = {
        "instance_id": instance_id,
        "id": key,
        "state": state.value,
        "recipients": list(to),
        "subject_sealed": sealing.seal(SUBJECT, subject),
        "text_sealed": None if text is None else sealing.seal(TEXT, text),
        "html_sealed": None if html is None else sealing.seal(HTML, html),
        "reply_to": "",
        "headers": [],
        "category": "login_code",
        "message_id": f"<{key}@mailgate.test>",
        "sender_token_id": "token-1",
        "created_us": now_us,
        "updated_us": now_us,
        "expires_us": now_us + DAY_US if expires_us is None else expires_us,
        "next_attempt_us": now_us if due_us is None else due_us,
        "attempts_made": attempts_made,
        "max_attempts": max_attempts,
        "final_us": final_us,
        **extra,
    }
    async with db.write() as conn:
        await conn.execute(insert(messages).values(row))
    return key


async def message(db: Database, instance_id: str, key: str) -> RowMapping:
    async with db.read() as conn:
        row = (
            (
                await conn.execute(
                    select(messages).where(messages.c.instance_id == instance_id, messages.c.id == key)
                )
            )
            .mappings()
            .first()
        )
    assert row is not None
    return row


async def attempt_rows(db: Database, instance_id: str, key: str) -> list[RowMapping]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(attempts)
            .where(attempts.c.instance_id == instance_id, attempts.c.message_id == key)
            .order_by(attempts.c.number)
        )
        return list(rows.mappings())


async def health_row(db: Database, instance_id: str, provider_id: str) -> RowMapping | None:
    async with db.read() as conn:
        return (
            (
                await conn.execute(
                    select(provider_health).where(
                        provider_health.c.instance_id == instance_id,
                        provider_health.c.provider_id == provider_id,
                    )
                )
            )
            .mappings()
            .first()
        )


async def add_smtp(
    db: Database, box: SecretBox, instance_id: str, *, active: bool, host: str = "127.0.0.1:2525"
) -> str:
    """An SMTP provider added through the domain; its id."""
    commands = ProviderCommands(ProviderRepository(db), box)
    data = SmtpInput(
        sender_address="noreply@example.com",
        sender_name="Example",
        host=host,
        tls=False,
        user="",
        reply_to_address="",
        description=f"smtp {host}",
        auth=NoAuth(),
    )
    provider = await commands.create_smtp(instance_id, data, activate=active)
    return provider.id


async def set_fallbacks(db: Database, instance_id: str, provider_ids: list[str]) -> None:
    async with db.write() as conn:
        await conn.execute(delete(fallbacks).where(fallbacks.c.instance_id == instance_id))
        for position, provider_id in enumerate(provider_ids):
            await conn.execute(
                insert(fallbacks).values(instance_id=instance_id, position=position, provider_id=provider_id)
            )
