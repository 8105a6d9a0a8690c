"""The database handle: an async engine on the embedded SQLite file or PostgreSQL, and transactions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from mailgate.config import Settings
from mailgate.errors import MailgateError
from mailgate.history.bell import Bell
from mailgate.store.changes import ANNOUNCED, HISTORY

log = logging.getLogger("mailgate.store")

SQLITE_FILE = "mailgate.db"


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL with the async driver for the configured store."""
    if settings.uses_postgres:
        url = make_url(settings.database_url)
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{settings.data_dir.resolve() / SQLITE_FILE}"


def describe_database(settings: Settings) -> str:
    """Where the data lives, for people: the SQLite file's absolute path or the PostgreSQL URL.

    The URL never shows a password, whether it is in the userinfo or a `password=` query parameter.
    """
    if not settings.uses_postgres:
        return str(settings.data_dir.resolve() / SQLITE_FILE)
    url = make_url(settings.database_url)._replace(password=None).difference_update_query(["password"])
    return url.render_as_string(hide_password=False)


def listener_dsn(settings: Settings) -> str:
    """The PostgreSQL URL as asyncpg itself takes it (no SQLAlchemy driver suffix)."""
    return make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class DatabaseUnreachable(MailgateError):
    """No connection to the database could be opened; the message says why (never a password)."""


API_POOL = (10, 10)  # PostgreSQL connections kept, and opened beyond them under load
DELIVERY_POOL = (3, 5)  # the delivery child's: a claim, a group commit, a renewal and reads at a time


class Database:
    """Owns the engine; `read()` and `write()` open transactions of the right kind."""

    def __init__(self, settings: Settings, pool: tuple[int, int] = API_POOL) -> None:
        self.is_sqlite = not settings.uses_postgres
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a logged database error shows the statement, never the values bound to it
        # (names, addresses, sealed secrets and, later, message bodies stay out of the log).
        options: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite, "hide_parameters": True}
        if not self.is_sqlite:
            options.update(pool_size=pool[0], max_overflow=pool[1])
        self.engine: AsyncEngine = create_async_engine(database_url(settings), **options)
        # Rung after a write transaction that recorded history events commits (store.history).
        self.history_bell = Bell()
        self._subscribers: list[Callable[[str], None]] = []
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        # SQLite has one writer. Writers of this process queue here, first come first served, instead
        # of in SQLite's busy handler, which sleeps up to 100 ms between tries and lets a newcomer
        # overtake a writer that has waited longest.
        self._writers = asyncio.Lock()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        try:
            conn = await self.engine.connect()
        except OSError as exc:  # the driver reached no server (refused, reset): SQLAlchemy passes it on
            raise DatabaseUnreachable(f"{type(exc).__name__}: {exc.strerror or exc}") from exc
        try:
            yield conn
        finally:
            await conn.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction."""
        async with self._connection() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; on SQLite it takes the write lock up front so writers never deadlock."""
        async with AsyncExitStack() as stack:
            if self.is_sqlite:
                await stack.enter_async_context(self._writers)
            conn = await stack.enter_async_context(self._connection())
            if self.is_sqlite:
                conn = await conn.execution_options(mailgate_write=True)
            try:
                async with conn.begin():
                    yield conn
            except BaseException:
                # A lost connection is invalidated: reading its info would try to reconnect, and the
                # pool discards it (and its info) anyway.
                if not conn.invalidated:
                    conn.info.pop(ANNOUNCED, None)
                raise
            self._committed(conn.info.pop(ANNOUNCED, ()))  # only after a commit: a rollback told nobody

    def subscribe(self, subscriber: Callable[[str], None]) -> None:
        """Call `subscriber(what)` for each change this process's write transactions commit."""
        self._subscribers.append(subscriber)

    def _committed(self, announced: set[str] | tuple[()]) -> None:
        for what in sorted(announced):
            if what == HISTORY:
                self.history_bell.ring()
            for subscriber in self._subscribers:
                try:
                    subscriber(what)
                except Exception:  # the change is committed; one broken subscriber must not undo the call
                    log.exception("a change subscriber failed", extra={"change": what})

    async def close(self) -> None:
        await self.engine.dispose()


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, a busy timeout for other processes (the CLI), explicit BEGINs."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("mailgate_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
