"""Real servers for the notification engine's tests: an aiosmtpd sink that counts connections,
RSETs and QUITs (and can hold DATA or hang up on everyone), and an HTTP receiver that verifies
ZITADEL-Signature exactly as zitadel-go's actions.ValidatePayloadWithTolerance does."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.delivery.conftest import MAIL_NAME
from tests.fixtures.credentials import PASSWORD, USER
from tests.fixtures.smtp import FreePortController, offer_pipelining

OTHER_PASSWORD = "pw-0ther-S3cret-41d7"  # the sink accepts both: a provider can change its secret


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition another thread or task makes true (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not become true in time")
        await asyncio.sleep(0.005)


class Sink:
    """What the counting SMTP server saw, shared with its protocol instances (in the server's thread)."""

    def __init__(self, pipelining: bool = False) -> None:
        self.pipelining = pipelining  # EHLO offers PIPELINING
        # SMTP sessions (connections that said EHLO), ever: with tls on, mailgate first tries
        # implicit TLS on a new connection, which a STARTTLS server answers in plaintext, so
        # tcp_connections counts that probe too.
        self.connections = 0
        self.tcp_connections = 0
        self.live: set[CountingSMTP] = set()  # sessions open now
        self.most_at_once = 0
        self.rsets = 0
        self.quits = 0
        self.messages: list[Any] = []
        self.hold = threading.Event()  # DATA waits while this is clear
        self.hold.set()
        self.holding = 0  # DATA commands waiting now
        self.loop: asyncio.AbstractEventLoop | None = None

    # aiosmtpd handler hooks
    async def handle_EHLO(
        self, server: CountingSMTP, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if server not in self.live and not server.counted:
            server.counted = True
            self.connections += 1
            self.live.add(server)
            self.most_at_once = max(self.most_at_once, len(self.live))
        return offer_pipelining(responses) if self.pipelining else responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("later@"):
            return "451 4.3.0 Sender address verification failed, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"  # aiosmtpd's own

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:
        self.rsets += 1
        return "250 2.0.0 Reset"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 2.0.0 Bye"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("reject"):
            return "550 5.1.1 <reject@example.com>: Recipient address rejected: User unknown"
        if address.startswith("full"):
            return "452 4.2.2 Mailbox full, try again in 2 minutes"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(rcpt.startswith("drop") for rcpt in envelope.rcpt_tos):
            server.transport.close()  # hang up before answering the message
            return "250 never sent"
        if not self.hold.is_set():
            self.holding += 1
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait)
            self.holding -= 1
        self.messages.append(envelope)
        return "250 2.0.0 Ok: queued"

    def kick(self) -> None:
        """Close every open connection from the server's side (as a provider ends idle ones)."""
        assert self.loop is not None
        for protocol in list(self.live):
            if protocol.transport is not None:
                self.loop.call_soon_threadsafe(protocol.transport.close)

    def received(self, receiver: str) -> list[Any]:
        return [envelope for envelope in self.messages if receiver in envelope.rcpt_tos]


def check_passwords(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data in (
        (USER.encode(), PASSWORD.encode()),
        (USER.encode(), OTHER_PASSWORD.encode()),
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class CountingSMTP(SMTP):
    """aiosmtpd's server, telling the sink when a connection opens and closes."""

    def __init__(self, sink: Sink, **kwargs: Any) -> None:
        super().__init__(sink, **kwargs)
        self.sink = sink
        self.counted = False  # as a session, at its first EHLO

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        new = self._original_transport is None and self.transport is None  # not the STARTTLS upgrade
        super().connection_made(transport)
        if new:
            self.sink.tcp_connections += 1

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.sink.live.discard(self)


class CountingController(FreePortController):
    def __init__(self, sink: Sink, **kwargs: Any) -> None:
        super().__init__(sink, hostname="127.0.0.1", port=0, server_hostname=MAIL_NAME, **kwargs)
        self.sink = sink

    def factory(self) -> SMTP:
        self.sink.loop = self.loop
        return CountingSMTP(self.sink, **self.SMTP_kwargs)


@dataclass
class RunningSink:
    sink: Sink
    port: int

    @property
    def host(self) -> str:
        return f"{MAIL_NAME}:{self.port}"


@contextmanager
def counting_sink(
    tls_context: ssl.SSLContext | None = None, *, pipelining: bool = False
) -> Iterator[RunningSink]:
    """A counting aiosmtpd server: with `tls_context`, STARTTLS required and AUTH only after it;
    with `pipelining`, PIPELINING offered."""
    sink = Sink(pipelining)
    kwargs: dict[str, Any] = {"authenticator": check_passwords}
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    else:
        kwargs.update(auth_require_tls=False)
    controller = CountingController(sink, **kwargs)
    controller.start()
    # start() connects once itself, to see the server answer: that connection is not a test's.
    deadline = time.monotonic() + 10
    while sink.live and time.monotonic() < deadline:
        time.sleep(0.001)
    sink.connections = sink.tcp_connections = sink.most_at_once = 0
    try:
        yield RunningSink(sink, controller.port)
    finally:
        sink.hold.set()
        controller.stop()


# --- HTTP receiver ----------------------------------------------------------------------------------

SIGNING_KEY = "sk-Sign1ng-K3y-5ecret-0b7e"
TOLERANCE = 300  # seconds, zitadel-go's DefaultTolerance


def verify_signature(header: str, body: bytes, key: str, now: float | None = None) -> str:
    """ "" if `header` signs `body` with `key`, else zitadel-go's error: its parsing, word for word
    (pairs split at ",", each at "=" into exactly two parts, t an integer, v1 hex, other names
    ignored), then the tolerance, then a constant-time comparison with every v1."""
    if not header:
        return "webhook has no Zitadel-Signature header"
    timestamp: int | None = None
    signatures: list[bytes] = []
    for pair in header.split(","):
        parts = pair.split("=")
        if len(parts) != 2:
            return "webhook has invalid Zitadel-Signature header"
        name, value = parts
        if name == "t":
            try:
                timestamp = int(value, 10)
            except ValueError:
                return "webhook has invalid Zitadel-Signature header"
        elif name == "v1":
            try:
                signatures.append(bytes.fromhex(value))
            except ValueError:
                continue
    if not signatures:
        return "no valid signature"
    stamp = timestamp or 0  # Go's zero time when t is missing: far outside the tolerance
    expected = hmac.new(key.encode(), f"{stamp}.".encode() + body, hashlib.sha256).digest()
    if (now if now is not None else time.time()) - stamp > TOLERANCE:
        return "timestamp wasn't within tolerance"
    if any(hmac.compare_digest(expected, signature) for signature in signatures):
        return ""
    return "no valid signature"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verdict: str  # "" when the signature verified
    at: float = 0.0  # time.time() when it arrived

    @property
    def document(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"id":"accepted"}'
    hang: bool = False  # never answer (the client's deadline ends it)


class HttpReceiver:
    """A real HTTP(S) server in a thread, answering `answers` in turn, then `answer` (202 by default),
    and recording requests; with `verify`, an unsigned or badly signed request is answered 401, as a
    ZITADEL receiver does."""

    def __init__(self, tls: ssl.SSLContext | None = None, key: str = SIGNING_KEY) -> None:
        self.key = key
        self.answer = Answer()
        self.answers: list[Answer] = []
        self.verify = True
        self.requests: list[Received] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                verdict = verify_signature(self.headers.get("ZITADEL-Signature", ""), body, receiver.key)
                arrived = Received(self.path, dict(self.headers.items()), body, verdict, time.time())
                receiver.requests.append(arrived)
                answer = receiver.answers.pop(0) if receiver.answers else receiver.answer
                if answer.hang:
                    receiver.release.wait(30)
                    return
                status, payload = answer.status, answer.body
                if receiver.verify and verdict:
                    status, payload = 401, json.dumps({"error": verdict}).encode()
                self.send_response(status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, name: str = "token.test", scheme: str = "https", path: str = "/mail") -> str:
        return f"{scheme}://{name}:{self.port}{path}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
