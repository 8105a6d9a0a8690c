"""Repository of API tokens: only their SHA-256 hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, insert, select, update

from mailgate.history.actor import SYSTEM, Actor
from mailgate.history.events import TOKEN_ADDED, TOKEN_REVOKED, Draft
from mailgate.store import changes, history
from mailgate.store.clock import now_us, to_datetime
from mailgate.store.database import Database
from mailgate.store.tables import tokens

TOKEN_PREFIX = "mgt_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenRecord:
    id: str
    instance_id: str
    permission: str
    description: str
    created_at: datetime
    revoked_at: datetime | None


class TokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, instance_id: str, permission: str, description: str = "", *, actor: Actor = SYSTEM
    ) -> tuple[TokenRecord, str]:
        """Store a new token and return it with its plaintext, which is never stored (nor recorded:
        the history keeps the token's id, permission and description)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(
            id=secrets.token_hex(6),
            instance_id=instance_id,
            permission=permission,
            description=description,
            created_at=to_datetime(now_us()),
            revoked_at=None,
        )
        async with self._db.write() as conn:
            await conn.execute(
                insert(tokens).values(
                    id=record.id,
                    token_hash=hash_token(token),
                    instance_id=instance_id,
                    permission=permission,
                    description=description,
                    created_us=int(record.created_at.timestamp() * 1_000_000),
                )
            )
            about = {"id": record.id, "permission": permission, "description": description}
            await history.append(conn, instance_id, actor, [Draft(TOKEN_ADDED, payload=about)])
        return record, token

    async def find_active(self, token: str) -> TokenRecord | None:
        """The unrevoked token with this plaintext, if any."""
        async with self._db.read() as conn:
            result = await conn.execute(
                select(tokens).where(tokens.c.token_hash == hash_token(token), tokens.c.revoked_us.is_(None))
            )
            row = result.mappings().first()
        return None if row is None else _record(row)

    async def list(self) -> list[TokenRecord]:
        async with self._db.read() as conn:
            result = await conn.execute(select(tokens).order_by(tokens.c.created_us))
            return [_record(row) for row in result.mappings()]

    async def revoke(self, token_id: str, *, actor: Actor = SYSTEM) -> bool:
        """Revoke by id; False when there is no such unrevoked token."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(tokens)
                .where(tokens.c.id == token_id, tokens.c.revoked_us.is_(None))
                .values(revoked_us=now_us())
                .returning(tokens.c.instance_id, tokens.c.permission, tokens.c.description)
            )
            revoked = result.first()
            if revoked is not None:
                instance_id, permission, description = revoked
                about = {"id": token_id, "permission": permission, "description": description}
                await history.append(conn, instance_id, actor, [Draft(TOKEN_REVOKED, payload=about)])
            await changes.announce(conn, changes.TOKENS)
        return revoked is not None


def _record(row: RowMapping) -> TokenRecord:
    get = row.__getitem__
    revoked = get("revoked_us")
    return TokenRecord(
        id=get("id"),
        instance_id=get("instance_id"),
        permission=get("permission"),
        description=get("description"),
        created_at=to_datetime(get("created_us")),
        revoked_at=None if revoked is None else to_datetime(revoked),
    )
