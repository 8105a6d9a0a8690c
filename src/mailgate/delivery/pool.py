"""Pooled SMTP connections (delivery.md decision 10), per provider and process.

- A connection is reused only for the same provider with the same settings and secret: its key is
  the provider id and a fingerprint of host, TLS, user and auth, the secret only as its SHA-256.
  Idle connections of a provider made with other settings are closed at its next send.
- At most MAILGATE_SMTP_POOL_SIZE connections per provider, idle ones included; a further send waits
  (first come, first served, bounded by its attempt's deadline) rather than open one more.
- At most MAILGATE_SMTP_POOL_MESSAGES messages per connection; then it says QUIT.
- A connection unused for MAILGATE_SMTP_POOL_IDLE_TIMEOUT seconds says QUIT and closes.
- A connection that failed is closed at once, never returned; `close()` closes every idle one, and
  connections in use close when they come back.

The user of a reused connection sends RSET before its next message (smtp_delivery.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from mailgate.config import Settings
from mailgate.providers.auth import field_names

from .conversation import SmtpConnection
from .sending import SmtpTarget


def fingerprint(target: SmtpTarget) -> str:
    """What a pooled connection depends on, hashed: host, TLS, user, the auth variant and its fields,
    the secret only as its SHA-256 (a changed secret never reuses a connection opened with the old one)."""
    auth = target.auth
    fields: dict[str, object] = {name: getattr(auth, name) for name in field_names(type(auth))}
    if auth.secret is not None:
        fields[auth.SECRET] = hashlib.sha256(auth.secret.value.encode()).hexdigest()
    settings = target.settings
    described = [settings.host, settings.tls, settings.user, auth.KIND, fields]
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(eq=False)
class Lease:
    """A place in a provider's pool, from `acquire` to `release`: an idle connection to reuse, or
    (`connection` None) the right to open one."""

    provider_id: str
    fingerprint: str
    connection: SmtpConnection | None
    waited: float  # seconds spent waiting for the place
    size: int  # the provider's limit, for the transcript


@dataclass(eq=False)
class _Parked:
    connection: SmtpConnection
    fingerprint: str
    timer: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class _Provider:
    open: int = 0  # connections open (idle ones included) or being opened
    latest: str = ""  # the fingerprint of the latest send: idle connections with another one go
    idle: list[_Parked] = field(default_factory=list)  # most recently used last
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class SmtpPool:
    """Idle SMTP connections per provider, and the per-provider limit on open ones."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = settings.smtp_pool_size
        self.messages = settings.smtp_pool_messages
        self.idle_timeout = settings.smtp_pool_idle_timeout
        self._quit_wait = settings.smtp_command_timeout
        self._clock = clock
        self._providers: dict[str, _Provider] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    async def acquire(self, provider_id: str, fingerprint: str) -> Lease:
        """An idle connection with this fingerprint, or a free place to open one; waits for either.

        Cancelling the wait (the attempt's deadline) leaves the pool as it was.
        """
        started = self._clock()
        queued = False
        while True:
            # Looked up on every turn: a provider left unused while this one waited is forgotten.
            provider = self._providers.setdefault(provider_id, _Provider())
            if fingerprint != provider.latest:
                provider.latest = fingerprint
                self._retire_idle(provider, keep=fingerprint)
            parked = self._take(provider, fingerprint)
            if parked is not None or provider.open < self.size:
                if parked is None:
                    provider.open += 1
                connection = parked.connection if parked is not None else None
                return Lease(provider_id, fingerprint, connection, self._clock() - started, self.size)
            if not self._retire_idle(provider, keep=fingerprint):
                # Woken ones that lost the race keep their turn: they wait at the front again.
                await self._wait(provider, front=queued)
                queued = True

    def release(self, lease: Lease, connection: SmtpConnection | None, *, healthy: bool) -> None:
        """Give the place back: a healthy connection is kept for the next message (unless it has
        carried its share, the pool is closed or the provider's settings changed); any other is closed."""
        provider = self._providers[lease.provider_id]
        keep = (
            connection is not None
            and healthy
            and connection.alive
            and not self._closed
            and connection.messages < self.messages
            and lease.fingerprint == provider.latest
        )
        if connection is not None and keep:
            parked = _Parked(connection, lease.fingerprint)
            parked.timer = asyncio.get_running_loop().call_later(
                self.idle_timeout, self._expire, lease.provider_id, parked
            )
            provider.idle.append(parked)
        else:
            provider.open -= 1
            if connection is not None and healthy:
                self._quit(connection)
            elif connection is not None:
                connection.abort()
        self._wake(provider)
        self._forget_if_unused(lease.provider_id)

    async def close(self) -> None:
        """Close every idle connection (saying QUIT) and keep none from now on."""
        self._closed = True
        for provider_id, provider in list(self._providers.items()):
            self._retire_idle(provider, keep=None)
            self._forget_if_unused(provider_id)
        if self._closing:
            await asyncio.gather(*self._closing)

    def counts(self, provider_id: str) -> tuple[int, int, int]:
        """(open, idle, waiting) for one provider: what the pool holds now."""
        provider = self._providers.get(provider_id)
        if provider is None:
            return 0, 0, 0
        waiting = sum(1 for waiter in provider.waiters if not waiter.done())
        return provider.open, len(provider.idle), waiting

    def _take(self, provider: _Provider, fingerprint: str) -> _Parked | None:
        for index in range(len(provider.idle) - 1, -1, -1):
            parked = provider.idle[index]
            if parked.fingerprint == fingerprint:
                del provider.idle[index]
                if parked.timer is not None:
                    parked.timer.cancel()
                return parked
        return None

    def _retire_idle(self, provider: _Provider, keep: str | None) -> bool:
        """Close the idle connections whose fingerprint is not `keep`; True if any was."""
        retired = [parked for parked in provider.idle if parked.fingerprint != keep]
        for parked in retired:
            provider.idle.remove(parked)
            if parked.timer is not None:
                parked.timer.cancel()
            provider.open -= 1
            self._quit(parked.connection)
        return bool(retired)

    async def _wait(self, provider: _Provider, *, front: bool) -> None:
        waiter = asyncio.get_running_loop().create_future()
        if front:
            provider.waiters.appendleft(waiter)
        else:
            provider.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter in provider.waiters:
                provider.waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self._wake(provider)  # woken, but leaving: the place goes to the next one
            raise

    def _wake(self, provider: _Provider) -> None:
        while provider.waiters:
            waiter = provider.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _expire(self, provider_id: str, parked: _Parked) -> None:
        provider = self._providers.get(provider_id)
        if provider is None or parked not in provider.idle:
            return
        provider.idle.remove(parked)
        provider.open -= 1
        self._quit(parked.connection)
        self._wake(provider)
        self._forget_if_unused(provider_id)

    def _quit(self, connection: SmtpConnection) -> None:
        task = asyncio.get_running_loop().create_task(connection.quit(self._quit_wait))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _forget_if_unused(self, provider_id: str) -> None:
        provider = self._providers.get(provider_id)
        if provider is not None and provider.open == 0 and not provider.waiters:
            del self._providers[provider_id]
