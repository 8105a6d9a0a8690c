"""Connection limits on the HTTP port that uvicorn does not have: a cap, an idle timer before the
first request, a header-read timeout and a header size limit.

uvicorn (0.54) covers part of this itself, and we use that part: `timeout_keep_alive` closes a
connection that stays idle *after* a response. What it leaves open, checked in its source
(`uvicorn/protocols/http/httptools_impl.py`):

- its keep-alive timer is armed only when a response completes, so a connection that never sends
  a request stays open for ever;
- `data_received` cancels that timer on the first byte and nothing re-arms it until the response,
  so a request head sent a byte at a time (slowloris) holds the connection for ever;
- the httptools parser puts no bound on a request head (header lines pile up in memory);
- `limit_concurrency` counts connections only when a request's headers are complete and answers
  503 to every request once the count is reached, including on the connections already open, so
  it neither caps idle connections nor protects the ones in use.

`LimitedHttpProtocol` subclasses uvicorn's httptools protocol and relies on exactly this of it
(tests/transports/test_http_connections.py pins each point): uvicorn builds the class given as
`Config(http=...)` once per connection; the protocol's `connection_made`, `data_received` and
`connection_lost` are the asyncio callbacks; its httptools parser calls `on_message_begin` at a
request's first byte and `on_headers_complete` when its head is in, looking them up on the
instance. Everything else (our timers, the open-connection count) is our own state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Request heads are small (a bearer token, a few headers); 64 KiB leaves room for large tokens.
MAX_HEAD_BYTES = 64 * 1024


def _refusal(status: bytes, text: bytes) -> bytes:
    return b"HTTP/1.1 %s\r\ncontent-type: text/plain\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s" % (
        status,
        len(text),
        text,
    )


_TOO_MANY = _refusal(b"503 Service Unavailable", b"too many connections")
_HEAD_TIMEOUT = _refusal(b"408 Request Timeout", b"request headers not received in time")
_HEAD_TOO_LARGE = _refusal(b"431 Request Header Fields Too Large", b"request headers too large")


@dataclass
class ConnectionLimits:
    """The limits of one HTTP listener, and the connections it has open."""

    idle_timeout: int  # whole seconds: uvicorn's keep-alive timeout takes an int
    header_timeout: float
    max_connections: int
    open: set[asyncio.BaseTransport] = field(default_factory=set)


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above; `protocol_for` binds it to one listener's."""

    limits: ClassVar[ConnectionLimits]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._own_transport = transport
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._first_request = True  # until then, the timer is the idle timer
        self._head_bytes: int | None = None  # counted while a request head is incomplete
        self._head_began: float | None = None  # loop time the incomplete head began at
        super().connection_made(transport)
        if len(self.limits.open) >= self.limits.max_connections:
            self._refuse(_TOO_MANY)
            return
        self.limits.open.add(transport)
        # Closed if no request begins in time; after a response, uvicorn's keep-alive timer does this.
        self._timer = self._loop.call_later(self.limits.idle_timeout, self._idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self.limits.open.discard(self._own_transport)
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # After parsing: if a head is still incomplete, every byte of this chunk since it began is
        # part of it (at most one chunk more than the limit is ever held).
        if self._head_bytes is not None and not self._own_transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(_HEAD_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_began = began = self._loop.time()
        if self._first_request:
            self._first_request = False
            self._disarm()  # the idle timer: a request has begun
        # One header timer per connection, not one per request (a timer per request was a tenth of
        # the port's throughput): when it fires, a head that is complete costs nothing more, and a
        # newer head that is still incomplete gets the timer again for its own deadline.
        if self._timer is None:
            self._arm_head(began)

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._head_began = None  # from here on the request is the application's, then uvicorn's keep-alive
        super().on_headers_complete()

    def _arm_head(self, began: float) -> None:
        self._timer = self._loop.call_at(began + self.limits.header_timeout, self._head_check, began)

    def _head_check(self, began: float) -> None:
        """The header timeout of the head that began at `began` is over."""
        self._timer = None
        if self._head_began == began:
            self._refuse(_HEAD_TIMEOUT)
        elif self._head_began is not None:
            self._arm_head(self._head_began)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _idle(self) -> None:
        self._timer = None
        self._own_transport.close()

    def _refuse(self, answer: bytes) -> None:
        self._disarm()
        self._head_bytes = self._head_began = None
        if not self._own_transport.is_closing():
            self._own_transport.write(answer)
            self._own_transport.close()


def protocol_for(limits: ConnectionLimits) -> type[LimitedHttpProtocol]:
    """A protocol class bound to `limits`: uvicorn passes the protocol nothing of ours."""

    class Bound(LimitedHttpProtocol):
        pass

    Bound.limits = limits
    return Bound
