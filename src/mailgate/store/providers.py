"""Repository of email providers: rows in, domain objects out, one transaction per change."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.history.actor import Actor
from mailgate.history.events import Draft
from mailgate.providers.auth import (
    ClientCredentials,
    JwtBearer,
    NoAuth,
    PlainAuth,
    StoredAuth,
    TokenEndpointAuth,
)
from mailgate.providers.model import Change, HttpSettings, Page, Provider, SmtpSettings, State
from mailgate.providers.sealing import Sealed
from mailgate.store import changes, fallbacks, history, routes
from mailgate.store.cache import TtlCache
from mailgate.store.clock import now_us, to_datetime
from mailgate.store.database import Database
from mailgate.store.tables import instances, providers

_ID_EPOCH_MS = 1_577_836_800_000  # 2020-01-01, keeps ids short


def new_provider_id() -> str:
    """A numeric id, ordered by time, random in its low bits (as ZITADEL's snowflake ids look)."""
    millis = int(time.time() * 1000) - _ID_EPOCH_MS
    return str((millis << 22) | secrets.randbits(22))


def _storable_id(provider_id: str) -> bool:
    """An id with NUL can name no provider (PostgreSQL refuses NUL in text): it is simply unknown."""
    return "\x00" not in provider_id


# The auth columns: `auth` is "none", "plain" or "xoauth2"; `oauth_grant` tells the two XOAUTH2 grants
# apart. Columns of the other variants keep these values.
_NO_AUTH_COLUMNS: dict[str, Any] = {
    "auth": "none",
    "password_sealed": None,
    "token_endpoint": "",
    "scopes": [],
    "client_id": "",
    "client_secret_sealed": None,
    "oauth_grant": ClientCredentials.KIND,
    "token_endpoint_auth": TokenEndpointAuth.CLIENT_SECRET_BASIC.value,
    "jwt_key_id": "",
    "jwt_issuer": "",
    "jwt_subject": "",
    "jwt_audience": "",
    "jwt_signing_algorithm": "RS256",
    "private_key_sealed": None,
}


def _sealed(value: str | None) -> Sealed | None:
    return None if value is None else Sealed(value)


def _row_to_auth(row: RowMapping) -> StoredAuth:
    match row["auth"], row["oauth_grant"]:
        case "none", _:
            return NoAuth()
        case "plain", _:
            return PlainAuth(password=_sealed(row["password_sealed"]))
        case "xoauth2", ClientCredentials.KIND:
            return ClientCredentials(
                client_id=row["client_id"],
                client_secret=_sealed(row["client_secret_sealed"]),
                token_endpoint=row["token_endpoint"],
                token_endpoint_auth=TokenEndpointAuth(row["token_endpoint_auth"]),
                scopes=tuple(row["scopes"] or ()),
            )
        case "xoauth2", JwtBearer.KIND:
            return JwtBearer(
                client_id=row["client_id"],
                token_endpoint=row["token_endpoint"],
                signing_algorithm=row["jwt_signing_algorithm"],
                key_id=row["jwt_key_id"],
                issuer=row["jwt_issuer"],
                subject=row["jwt_subject"],
                audience=row["jwt_audience"],
                scopes=tuple(row["scopes"] or ()),
                private_key=_sealed(row["private_key_sealed"]),
            )
        case auth, grant:
            raise ValueError(f"unknown auth {auth!r} with grant {grant!r}")


def _auth_to_columns(auth: StoredAuth) -> dict[str, Any]:
    match auth:
        case NoAuth():
            return {}
        case PlainAuth():
            return {"auth": "plain", "password_sealed": auth.password}
        case ClientCredentials():
            return {
                "auth": "xoauth2",
                "oauth_grant": auth.KIND,
                "client_id": auth.client_id,
                "client_secret_sealed": auth.client_secret,
                "token_endpoint": auth.token_endpoint,
                "token_endpoint_auth": auth.token_endpoint_auth.value,
                "scopes": list(auth.scopes),
            }
        case JwtBearer():
            return {
                "auth": "xoauth2",
                "oauth_grant": auth.KIND,
                "client_id": auth.client_id,
                "token_endpoint": auth.token_endpoint,
                "jwt_signing_algorithm": auth.signing_algorithm,
                "jwt_key_id": auth.key_id,
                "jwt_issuer": auth.issuer,
                "jwt_subject": auth.subject,
                "jwt_audience": auth.audience,
                "scopes": list(auth.scopes),
                "private_key_sealed": auth.private_key,
            }


def _row_to_provider(row: RowMapping) -> Provider:
    smtp = http = None
    if row["kind"] == "smtp":
        smtp = SmtpSettings(
            sender_address=row["sender_address"],
            sender_name=row["sender_name"],
            host=row["host"],
            tls=row["tls"],
            user=row["smtp_user"],
            reply_to_address=row["reply_to_address"],
            auth=_row_to_auth(row),
        )
    else:
        http = HttpSettings(endpoint=row["endpoint"], signing_key_sealed=row["signing_key_sealed"])
    return Provider(
        instance_id=row["instance_id"],
        id=row["id"],
        state=State(row["state"]),
        description=row["description"],
        creation_sequence=row["creation_sequence"],
        sequence=row["sequence"],
        created_at=to_datetime(row["created_us"]),
        changed_at=to_datetime(row["changed_us"]),
        smtp=smtp,
        http=http,
        version=row["version"],
    )


def _provider_to_row(provider: Provider) -> dict[str, Any]:
    row: dict[str, Any] = {
        "instance_id": provider.instance_id,
        "id": provider.id,
        "state": int(provider.state),
        "description": provider.description,
        "creation_sequence": provider.creation_sequence,
        "sequence": provider.sequence,
        "version": provider.version,
        "created_us": int(provider.created_at.timestamp() * 1_000_000),
        "changed_us": int(provider.changed_at.timestamp() * 1_000_000),
        "sender_address": "",
        "sender_name": "",
        "reply_to_address": "",
        "tls": False,
        "host": "",
        "smtp_user": "",
        **_NO_AUTH_COLUMNS,
        "endpoint": "",
        "signing_key_sealed": None,
    }
    if provider.smtp is not None:
        smtp = provider.smtp
        row.update(
            kind="smtp",
            sender_address=smtp.sender_address,
            sender_name=smtp.sender_name,
            reply_to_address=smtp.reply_to_address,
            tls=smtp.tls,
            host=smtp.host,
            smtp_user=smtp.user,
            **_auth_to_columns(smtp.auth),
        )
    elif provider.http is not None:
        row.update(
            kind="http",
            endpoint=provider.http.endpoint,
            signing_key_sealed=provider.http.signing_key_sealed,
        )
    return row


class ProviderWrite:
    """One write transaction on one instance; `lock` or `begin_change` comes first: each orders writers."""

    def __init__(
        self, conn: AsyncConnection, instance_id: str, is_sqlite: bool, record_history: bool = True
    ) -> None:
        self._conn = conn
        self._is_sqlite = is_sqlite
        self._record_history = record_history
        self.instance_id = instance_id
        self.changed = False
        self._history_head: tuple[int, str] | None = None  # read by begin_change, moved by record

    async def record(self, actor: Actor, drafts: list[Draft]) -> None:
        """Append the change's events to the instance's history, in this same transaction."""
        if self._record_history and drafts:
            events = await history.append(self._conn, self.instance_id, actor, drafts, self._history_head)
            self._history_head = (events[-1].sequence, events[-1].hash)

    async def lock(self) -> None:
        """Order this write after the instance's other writers without taking a sequence yet (a
        write that changes nothing takes none); `begin_change` then takes it."""
        await self._ensure_instance()
        if not self._is_sqlite:  # SQLite's BEGIN IMMEDIATE holds the database's write lock already
            await self._conn.execute(
                select(instances.c.id).where(instances.c.id == self.instance_id).with_for_update()
            )

    async def begin_change(self) -> Change:
        """Take the instance's next sequence; on PostgreSQL this row lock orders concurrent writers."""
        await self._ensure_instance()
        result = await self._conn.execute(
            update(instances)
            .where(instances.c.id == self.instance_id)
            .values(sequence=instances.c.sequence + 1)
            .returning(instances.c.sequence, instances.c.history_sequence, instances.c.history_hash)
        )
        sequence, history_sequence, history_hash = result.one()
        self._history_head = (int(history_sequence), str(history_hash))
        return Change(sequence=sequence, at=to_datetime(now_us()), resource_owner=self.instance_id)

    async def _ensure_instance(self) -> None:
        dialect_insert = sqlite.insert if self._is_sqlite else postgresql.insert
        await self._conn.execute(
            dialect_insert(instances)
            .values(id=self.instance_id, sequence=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def get(self, provider_id: str) -> Provider | None:
        if not _storable_id(provider_id):
            return None
        result = await self._conn.execute(
            select(providers).where(
                providers.c.instance_id == self.instance_id, providers.c.id == provider_id
            )
        )
        row = result.mappings().first()
        return None if row is None else _row_to_provider(row)

    async def insert(self, provider: Provider) -> None:
        self.changed = True
        await self._conn.execute(insert(providers).values(_provider_to_row(provider)))

    async def save(self, provider: Provider, expected_version: int | None = None) -> bool:
        """Write the provider's row; with `expected_version`, only if the stored row still has that
        version (the check and the write are one statement). False when no row was written."""
        self.changed = True
        row = _provider_to_row(provider)
        guard = self._row(provider.id, expected_version)
        result = await self._conn.execute(update(providers).where(*guard).values(row))
        return bool(result.rowcount)

    def _row(self, provider_id: str, expected_version: int | None) -> list[ColumnElement[bool]]:
        """The provider's row, and only in `expected_version` when one is given."""
        guard = [providers.c.instance_id == self.instance_id, providers.c.id == provider_id]
        if expected_version is not None:
            guard.append(providers.c.version == expected_version)
        return guard

    async def active_moved(self, provider_id: str) -> None:
        """Which provider is active changed with `provider_id`'s write: every other provider of the
        instance takes a new version too, so a precondition read before the move no longer holds
        (activation as a compare-and-swap on the instance's active provider, decision 7)."""
        await self._conn.execute(
            update(providers)
            .where(providers.c.instance_id == self.instance_id, providers.c.id != provider_id)
            .values(version=providers.c.version + 1)
        )
        await routes.reset_route(self._conn, self.instance_id)  # a new first candidate: no failover

    async def deactivate_others(self, provider_id: str, change: Change) -> list[str]:
        """Make every other active provider of the instance inactive (activation's first half);
        returns their ids."""
        result = await self._conn.execute(
            update(providers)
            .where(
                providers.c.instance_id == self.instance_id,
                providers.c.id != provider_id,
                providers.c.state == int(State.ACTIVE),
            )
            .values(
                state=int(State.INACTIVE),
                sequence=change.sequence,
                changed_us=int(change.at.timestamp() * 1_000_000),
            )
            .returning(providers.c.id)
        )
        return list(result.scalars())

    async def delete(self, provider_id: str, expected_version: int | None = None) -> bool:
        """Remove the provider (only in `expected_version` when one is given), and with it its place
        in the instance's fallback list. False when no row was removed."""
        self.changed = True
        result = await self._conn.execute(delete(providers).where(*self._row(provider_id, expected_version)))
        if not result.rowcount:
            return False
        await fallbacks.drop_fallback(self._conn, self.instance_id, provider_id)
        return True

    async def fallbacks(self) -> tuple[str, ...]:
        """The instance's fallback provider ids, in order, as this transaction sees them."""
        return await fallbacks.read_fallbacks(self._conn, self.instance_id)

    async def set_fallbacks(self, provider_ids: tuple[str, ...]) -> None:
        """Replace the instance's ordered fallback providers (after `lock`, so no removal races it)."""
        if provider_ids != await self.fallbacks():  # new candidates: the route starts afresh
            await routes.reset_route(self._conn, self.instance_id)
        await fallbacks.replace_fallbacks(self._conn, self.instance_id, provider_ids)


class ProviderRepository:
    """Reads and write transactions over the email_providers table."""

    def __init__(
        self, db: Database, cache: TtlCache[Provider] | None = None, record_history: bool = True
    ) -> None:
        self._db = db
        self._cache: TtlCache[Provider] = cache or TtlCache()
        # Off only in bench/history.py, which measures what recording costs.
        self._record_history = record_history

    @asynccontextmanager
    async def write(self, instance_id: str) -> AsyncIterator[ProviderWrite]:
        """A write transaction for one instance, committed when the block ends without error."""
        tx: ProviderWrite | None = None
        try:
            async with self._db.write() as conn:
                tx = ProviderWrite(conn, instance_id, self._db.is_sqlite, self._record_history)
                yield tx
                if tx.changed:
                    await changes.announce(conn, changes.PROVIDERS)
        finally:
            # Writes are rare and activation changes other providers too: start the cache afresh.
            if tx is not None and tx.changed:
                self._cache.clear()

    def forget(self) -> None:
        """Drop every cached provider (another replica changed something)."""
        self._cache.clear()

    async def get(self, instance_id: str, provider_id: str) -> Provider | None:
        """A provider by id, from a cache at most `ttl` old (fresh after this process's own writes)."""
        return await self._cache.get_or_load(
            (instance_id, provider_id), lambda: self._load(instance_id, provider_id)
        )

    async def _load(self, instance_id: str, provider_id: str) -> Provider | None:
        if not _storable_id(provider_id):
            return None
        async with self._db.read() as conn:
            result = await conn.execute(
                select(providers).where(providers.c.instance_id == instance_id, providers.c.id == provider_id)
            )
            row = result.mappings().first()
        return None if row is None else _row_to_provider(row)

    async def get_active(self, instance_id: str) -> Provider | None:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(providers).where(
                    providers.c.instance_id == instance_id,
                    providers.c.state == int(State.ACTIVE),
                )
            )
            row = result.mappings().first()
        return None if row is None else _row_to_provider(row)

    async def page(self, instance_id: str, offset: int, limit: int, ascending: bool) -> Page:
        """Providers in creation order (newest first unless `ascending`), with totals."""
        order = providers.c.creation_sequence
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(providers)
                .where(providers.c.instance_id == instance_id)
                .order_by(order.asc() if ascending else order.desc())
                .offset(offset)
                .limit(limit)
            )
            items = [_row_to_provider(row) for row in rows.mappings()]
            total = await conn.scalar(
                select(func.count()).select_from(providers).where(providers.c.instance_id == instance_id)
            )
            sequence = await conn.scalar(select(instances.c.sequence).where(instances.c.id == instance_id))
        return Page(providers=items, total=total or 0, instance_sequence=sequence or 0)
