"""The SMTP conversation test emails and notifications share: connect, TLS, EHLO, AUTH, MAIL FROM,
RCPT TO, DATA, RSET, QUIT, each step recorded; and, for notifications to a server offering
PIPELINING, the envelope in one write (`Conversation.pipelined`, over delivery.pipelining).

aiosmtplib speaks the protocol; this module decides where to connect (the address the outbound
policy checked), how to secure the connection, which AUTH to use, and records every step in the
attempt's Recorder. A connection (`SmtpConnection`) may outlive the conversation that opened it: the
pool keeps it, and a later conversation adopts it with a Recorder of its own. Every failure leaves
as StageFailed: the report, ending at the stage that failed, and its cause.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiosmtplib

from mailgate.config import Settings
from mailgate.errors import Code, MailgateError
from mailgate.hostport import split_host_port
from mailgate.providers.auth import OAUTH_GRANTS, JwtBearer, NoAuth, OAuthGrant, OpenedAuth
from mailgate.providers.sealing import Secret

from .oauth import TokenCache, TokenError
from .pipelining import Pipeline
from .policy import POLICY_REFUSED_ID, OutboundPolicy, PolicyRefused, ResolveError, Resolver, parse_ip
from .redaction import REDACTED, Redactor
from .report import SPLIT_ERROR, Recorder, Stage, TestReport, TlsMode

log = logging.getLogger(__name__)
T = TypeVar("T")

# OpenSSL's reasons for "the peer's first bytes are not a TLS record": the server speaks plaintext
# SMTP (its greeting or an error reply), so the conversation reconnects and requires STARTTLS, as
# ZITADEL does on Go's tls.RecordHeaderError. Certificate and other handshake errors never fall back.
_NOT_TLS_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "UNKNOWN_PROTOCOL",
        "HTTP_REQUEST",
        "HTTPS_PROXY_REQUEST",
        "PACKET_LENGTH_TOO_LONG",
        "RECORD_LAYER_FAILURE",
        "WRONG_SSL_VERSION",
    }
)
# Everything the conversation can raise besides our own StageFailed: aiosmtplib's exceptions
# (replies, timeouts, disconnects, unreadable replies), ValueError and RuntimeError (aiosmtplib
# refusing an argument or a transport), and OSError (sockets, ssl.SSLError, ConnectionError,
# TimeoutError). Each becomes the failure of the stage in progress, in `Conversation.stage_failure`.
PEER_ERRORS = (aiosmtplib.SMTPException, OSError, ValueError, RuntimeError)


class Cause(enum.StrEnum):
    """Why a stage failed, beyond its reply code: what the reply classes are decided by."""

    REPLY = "reply"  # the server answered with a reply code it should not have
    TIMEOUT = "timeout"  # no reply (or no handshake) in time
    DROPPED = "dropped"  # the server closed the connection
    UNREADABLE = "unreadable"  # what the server sent is not SMTP
    NETWORK = "network"  # no connection could be made, or the socket failed
    TLS = "tls"  # the TLS handshake or the certificate check failed
    UNSUPPORTED = "unsupported"  # the server lacks what is needed: STARTTLS, AUTH, a mechanism, SMTPUTF8
    TOKEN = "token"  # no XOAUTH2 access token
    POLICY = "policy"  # the outbound-address policy refused an address
    RESOLVE = "resolve"  # host:port unreadable, or the name does not resolve
    MESSAGE = "message"  # the email cannot be written as it is (its text or addresses)
    SENDER = "sender"  # the provider's sender (or reply-to) cannot be written into an email
    DEADLINE = "deadline"  # the whole test or attempt ran out of time
    LOCAL = "local"  # aiosmtplib refused an argument or a state


class StageFailed(MailgateError):
    """A stage of an SMTP conversation failed: the redacted report ending at it, and the cause.

    `error` and `xoauth2` say which ZITADEL error a test email answers (`report.as_test_failure`).
    """

    def __init__(
        self,
        report: TestReport,
        cause: Cause,
        *,
        xoauth2: bool = False,
        error: tuple[Code, str | None, str] | None = None,
    ) -> None:
        super().__init__(f"SMTP {cause} at stage {report.stage}")
        self.report = report
        self.cause = cause
        self.xoauth2 = xoauth2
        self.error = error


class SmtpClient:
    """What every SMTP conversation of a process shares: settings, the outbound policy with its TLS
    trust, the XOAUTH2 token cache, and the EHLO name (looked up once)."""

    def __init__(
        self,
        settings: Settings,
        policy: OutboundPolicy | None = None,
        tokens: TokenCache | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or OutboundPolicy(settings, resolver=resolver)
        self.tokens = tokens or TokenCache(settings, self.policy)
        self._fqdn: str | None = None
        self._fqdn_lock = asyncio.Lock()  # concurrent first conversations share one lookup

    async def helo_name(self, sock: socket.socket) -> str:
        """The EHLO name: MAILGATE_SMTP_HELO_NAME, else our FQDN, else our address literal (RFC 5321)."""
        if self.settings.smtp_helo_name:
            return self.settings.smtp_helo_name
        async with self._fqdn_lock:
            if self._fqdn is None:
                # getfqdn does blocking DNS; once per process, in a thread.
                fqdn = await asyncio.to_thread(socket.getfqdn)
                self._fqdn = fqdn if "." in fqdn and fqdn.isascii() and " " not in fqdn else ""
        if self._fqdn:
            return self._fqdn
        local = str(sock.getsockname()[0])
        return f"[IPv6:{local}]" if ":" in local else f"[{local}]"


@dataclass(eq=False)
class SmtpConnection:
    """An open SMTP connection and what the conversation that opened it learned; outlives that
    conversation when the pool keeps it. `redactor` holds every secret form sent over it."""

    redactor: Redactor
    sock: socket.socket | None = None
    smtp: aiosmtplib.SMTP | None = None
    address: str = ""
    tls_mode: TlsMode | None = None
    auth_mechanism: str = ""
    messages: int = 0  # mail transactions begun on it

    @property
    def alive(self) -> bool:
        """True while the transport is open (a server closing an idle connection ends it)."""
        return self.smtp is not None and self.smtp.is_connected

    def close_socket(self) -> None:
        if self.sock is not None:
            self.sock.close()

    def abort(self) -> None:
        """Close at once, sending nothing more."""
        # Abort rather than close: a graceful TLS close waits for the server's close_notify with
        # the socket still registered on the loop, and closing the socket under it would let the
        # next connection reuse the fd while the loop still watches it.
        if self.smtp is not None:
            transport = self.smtp.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()
            self.smtp.close()
        self.close_socket()  # idempotent; the transport may have closed it already

    async def quit(self, wait: float) -> None:
        """Say QUIT (waiting at most `wait` seconds for the 221), then close; never raises for the peer."""
        try:
            if self.alive and self.smtp is not None:
                async with asyncio.timeout(wait):
                    await self.smtp.execute_command(b"QUIT")
        except PEER_ERRORS:
            pass  # closing anyway: what the server thinks of it changes nothing
        finally:
            self.abort()


class Conversation:
    """One SMTP conversation, recorded in `rec`: opens a connection (or adopts a pooled one) and runs
    the steps; every failure leaves as StageFailed, built from `rec`."""

    def __init__(
        self,
        client: SmtpClient,
        host: str,
        auth: OpenedAuth,
        user: str,
        rec: Recorder,
        *,
        secret_from_store: bool = False,
    ) -> None:
        self.client = client
        self.settings = client.settings
        self.host = host  # "host:port" as stored (IPv6 in brackets)
        self.auth = auth
        self.user = user  # AUTH PLAIN and LOGIN, and XOAUTH2 unless a grant names its own
        self.rec = rec
        # A stored secret is in use: a server offering no AUTH fails at stage AUTH rather than
        # receiving mail without it.
        self.secret_from_store = secret_from_store
        self.xoauth2 = isinstance(auth, OAUTH_GRANTS)
        self.conn: SmtpConnection | None = None
        self.waiting_for = ""  # what the conversation waits for before it can start, if anything

    # --- failures --------------------------------------------------------------------------------

    def fail(self, stage: Stage, detail: str, cause: Cause) -> StageFailed:
        """The failure of `stage`, with the report up to now."""
        return StageFailed(self.rec.report(stage, detail), cause, xoauth2=self.xoauth2)

    def refused(self, detail: str) -> StageFailed:
        # The test's message itself names the address and the setting, not only the report.
        error = (Code.FAILED_PRECONDITION, POLICY_REFUSED_ID, self.rec.redactor.scrub(detail))
        return StageFailed(self.rec.report(Stage.POLICY, detail), Cause.POLICY, error=error)

    async def within(self, limit: float, noun: str, body: Callable[[], Awaitable[T]]) -> T:
        """`body`'s result, within `limit` seconds: a peer error fails the stage in progress, the
        deadline fails at DEADLINE naming that stage; `noun` is what ran out of time ("test")."""
        try:
            async with asyncio.timeout(limit) as deadline:
                try:
                    return await body()
                except PEER_ERRORS as exc:  # whichever await raised it, the stage gets its report
                    raise self.stage_failure(exc) from None
        except TimeoutError:
            if not deadline.expired():
                raise
            if self.waiting_for:
                where = during = self.waiting_for
            else:
                stage = self.stage_now()
                where, during = f"at stage {stage}", f"during stage {stage}"
            self.rec.note(f"the {noun} deadline of {limit:g}s ran out {during}")
            detail = f"the {noun} did not finish within {limit:g}s; it was {where}"
            raise self.fail(Stage.DEADLINE, detail, Cause.DEADLINE) from None

    def stage_now(self) -> Stage:
        # aiosmtplib does the implicit TLS handshake and reads the greeting in one call; a live
        # transport means the handshake is over and the greeting is what we wait for.
        smtp = self.conn.smtp if self.conn is not None else None
        if self.rec.stage is Stage.TLS and smtp is not None and smtp.transport is not None:
            return Stage.GREETING
        return self.rec.stage

    def stage_failure(self, exc: Exception) -> StageFailed:
        """Any error of aiosmtplib, ssl or the OS as the failure of the stage in progress: the one
        place that maps them, so no failure leaves without the stage's report and cause."""
        stage = self.rec.stage
        cause = _cause(exc)
        if isinstance(cause, aiosmtplib.SMTPResponseException) and cause.code >= 0:
            self.rec.server(cause.code, cause.message)
            refused = stage is Stage.GREETING
            detail = "the server refused the connection" if refused else f"the server answered {cause.code}"
            return self.fail(stage, detail, Cause.REPLY)
        detail, why = self.problem(cause, stage)
        self.rec.note(detail)
        return self.fail(stage, detail, why)

    def problem(self, cause: BaseException, stage: Stage) -> tuple[str, Cause]:
        """What went wrong, in English, for an error that is not a server reply, and its cause."""
        if isinstance(cause, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
            if stage is Stage.TLS:
                return f"no TLS handshake within {self.settings.smtp_connect_timeout:g}s", Cause.TIMEOUT
            if stage is Stage.GREETING:
                return f"no greeting within {self.settings.smtp_connect_timeout:g}s", Cause.TIMEOUT
            return f"no reply within {self.settings.smtp_command_timeout:g}s", Cause.TIMEOUT
        if isinstance(cause, ConnectionError):  # aiosmtplib.SMTPServerDisconnected is one
            if stage is Stage.GREETING:
                return "the server closed the connection before its greeting", Cause.DROPPED
            return "the server closed the connection", Cause.DROPPED
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate verification failed: {cause.verify_message}", Cause.TLS
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {_describe(cause)}", Cause.TLS
        if isinstance(cause, aiosmtplib.SMTPResponseException):  # a negative code: no valid reply
            return f"the server's reply is not valid SMTP: {cause.message}", Cause.UNREADABLE
        if isinstance(cause, aiosmtplib.SMTPException):
            return _describe(cause), Cause.UNREADABLE
        if isinstance(cause, OSError):
            return _describe(cause), Cause.NETWORK
        return _describe(cause), Cause.LOCAL

    # --- the connection --------------------------------------------------------------------------

    async def open(self, tls: bool) -> SmtpConnection:
        """Resolve, connect, secure, EHLO and AUTH: a connection ready for mail transactions."""
        name, port, addresses = await self.resolve()
        if tls:
            # Nothing but a TLS handshake goes out first; the port decides nothing.
            context = await self.client.policy.tls_context()
            address = await self.connect(addresses, port)
            if await self.open_implicit_tls(name, context):
                self.rec.note("the server answered in plaintext: reconnecting to require STARTTLS")
                self.close()
                await self.connect([address], port)
                await self.open_plain(name)
                await self.ehlo()
                await self.starttls(name, context)
        else:
            await self.connect(addresses, port)
            await self.open_plain(name)
        await self.ehlo()
        await self.authenticate()
        conn = self.connection
        conn.address, conn.tls_mode, conn.auth_mechanism = (
            self.rec.address,
            self.rec.tls_mode,
            self.rec.auth_mechanism,
        )
        return conn

    def adopt(self, conn: SmtpConnection) -> None:
        """Continue on an open connection another conversation opened (a pooled one)."""
        self.conn = conn
        self.rec.redactor = conn.redactor  # every secret form sent over it, AUTH payloads included
        self.rec.address, self.rec.tls_mode, self.rec.auth_mechanism = (
            conn.address,
            conn.tls_mode,
            conn.auth_mechanism,
        )

    def detach(self) -> SmtpConnection | None:
        """The connection, no longer this conversation's to close."""
        conn, self.conn = self.conn, None
        return conn

    def close(self) -> None:
        """Abort the connection, if there is one."""
        if self.conn is not None:
            self.conn.abort()

    @property
    def connection(self) -> SmtpConnection:
        assert self.conn is not None, "no connection yet"
        return self.conn

    @property
    def smtp(self) -> aiosmtplib.SMTP:
        smtp = self.connection.smtp
        assert smtp is not None, "no SMTP client yet"
        return smtp

    async def resolve(self) -> tuple[str, int, list[str]]:
        self.rec.stage = Stage.RESOLVE
        try:
            name, port = split_host_port(self.host)
        except ValueError as exc:
            report = self.rec.report(Stage.RESOLVE, f"{self.host!r}: {exc}")
            raise StageFailed(report, Cause.RESOLVE, error=SPLIT_ERROR) from None
        try:
            addresses = await self.client.policy.resolve(name, port)
        except ResolveError as exc:
            raise self.fail(Stage.RESOLVE, exc.detail, Cause.RESOLVE) from None
        except PolicyRefused as exc:
            self.rec.note(exc.detail)
            raise self.refused(exc.detail) from None
        if parse_ip(name) is None:
            self.rec.note(f"{name} resolves to {', '.join(addresses)}")
        return name, port, addresses

    async def connect(self, addresses: list[str], port: int) -> str:
        """Open a TCP connection to the first checked address that answers; return that address."""
        self.rec.stage = Stage.CONNECT
        loop = asyncio.get_running_loop()
        limit = self.settings.smtp_connect_timeout
        problems: list[str] = []
        conn = self.conn = SmtpConnection(self.rec.redactor)
        for address in addresses:
            ip = parse_ip(address)
            family = socket.AF_INET6 if ip is not None and ip.version == 6 else socket.AF_INET
            self.rec.note(f"connecting to {address} port {port}")
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)  # may fail too: no file descriptors left
                sock.setblocking(False)
                conn.sock = sock
                async with asyncio.timeout(limit) as attempt:
                    await loop.sock_connect(sock, (address, port))
            except TimeoutError:
                conn.close_socket()
                if not attempt.expired():
                    raise
                problems.append(f"{address}: no answer within {limit:g}s")
            except OSError as exc:
                conn.close_socket()
                problems.append(f"{address}: {_describe(exc)}")
            else:
                self.rec.address = address
                return address
        for problem in problems:
            self.rec.note(problem)
        raise self.fail(Stage.CONNECT, "could not connect: " + "; ".join(problems), Cause.NETWORK)

    def new_client(self, name: str, *, tls: bool, context: ssl.SSLContext | None = None) -> aiosmtplib.SMTP:
        # hostname is the configured name: with sock= aiosmtplib uses it only for SNI and the
        # certificate check, never to connect.
        smtp = self.connection.smtp = aiosmtplib.SMTP(
            hostname=name,
            sock=self.connection.sock,
            use_tls=tls,
            start_tls=False,
            tls_context=context,
            timeout=self.settings.smtp_command_timeout,
        )
        return smtp

    async def helo_name(self) -> str:
        sock = self.connection.sock
        assert sock is not None
        return await self.client.helo_name(sock)

    async def open_implicit_tls(self, name: str, context: ssl.SSLContext) -> bool:
        """TLS handshake, then the greeting. True if the server answered in plaintext instead."""
        self.rec.stage = Stage.TLS
        helo = await self.helo_name()
        smtp = self.new_client(name, tls=True, context=context)
        smtp.local_hostname = helo
        try:
            greeting = await smtp.connect(timeout=self.settings.smtp_connect_timeout)
        except PEER_ERRORS as exc:
            cause = _cause(exc)
            if isinstance(cause, ssl.SSLError) and cause.reason in _NOT_TLS_REASONS:
                return True
            if isinstance(cause, aiosmtplib.SMTPException):
                # The handshake failures are ssl's and the OS's; aiosmtplib's own come from the greeting.
                self.rec.tls_mode = TlsMode.IMPLICIT
                self.rec.stage = Stage.GREETING
            raise self.stage_failure(exc) from None
        self.note_tls()
        self.rec.tls_mode = TlsMode.IMPLICIT
        self.rec.stage = Stage.GREETING
        self.rec.server(greeting.code, greeting.message)
        return False

    def note_tls(self) -> None:
        smtp = self.connection.smtp
        if smtp is None or not smtp.is_connected:
            return
        tls = smtp.get_transport_info("ssl_object")
        if isinstance(tls, ssl.SSLObject):
            cipher = tls.cipher()
            self.rec.note(f"TLS established: {tls.version()}, {cipher[0] if cipher else 'unknown cipher'}")
            certificate = certificate_note(tls)
            if certificate:
                self.rec.note(certificate)

    async def open_plain(self, name: str) -> None:
        """Read the greeting of a plaintext connection."""
        self.rec.stage = Stage.GREETING
        self.rec.tls_mode = TlsMode.NONE
        helo = await self.helo_name()
        smtp = self.new_client(name, tls=False)
        smtp.local_hostname = helo
        greeting = await self.step(lambda: smtp.connect(timeout=self.settings.smtp_connect_timeout))
        self.rec.server(greeting.code, greeting.message)

    # --- commands --------------------------------------------------------------------------------

    async def call(
        self, stage: Stage, shown: str, step: Callable[[], Awaitable[aiosmtplib.SMTPResponse]]
    ) -> aiosmtplib.SMTPResponse:
        """Run one SMTP step, recording `shown` (never a payload) and the reply; fail at `stage`."""
        self.rec.stage = stage
        if shown:
            self.rec.client(shown)
        response = await self.step(step)
        self.rec.server(response.code, response.message)
        return response

    async def step(self, step: Callable[[], Awaitable[aiosmtplib.SMTPResponse]]) -> aiosmtplib.SMTPResponse:
        """Await one aiosmtplib call; whatever it raises fails the stage in progress, with its report."""
        try:
            return await step()
        except PEER_ERRORS as exc:
            raise self.stage_failure(exc) from None

    async def command(
        self, stage: Stage, shown: str, *args: bytes, expect: tuple[int, ...]
    ) -> aiosmtplib.SMTPResponse:
        """Send one raw command line; fail at `stage` unless the reply code is in `expect` (or
        `expect` is empty)."""
        smtp = self.smtp
        response = await self.call(stage, shown, lambda: smtp.execute_command(*args))
        if expect and response.code not in expect:
            raise self.fail(stage, f"the server answered {response.code}", _reply_cause(response.code))
        return response

    async def ehlo(self) -> None:
        smtp = self.smtp
        helo = await self.helo_name()
        try:
            await self.call(Stage.EHLO, f"EHLO {helo}", lambda: smtp.ehlo(hostname=helo))
        except StageFailed as failed:
            # Servers that predate ESMTP answer 5xx to EHLO; HELO is their greeting (RFC 5321 3.2).
            if not 500 <= failed.report.reply_code < 600 or not smtp.is_connected:
                raise
            await self.call(Stage.EHLO, f"HELO {helo}", lambda: smtp.helo(hostname=helo))

    async def starttls(self, name: str, context: ssl.SSLContext) -> None:
        smtp = self.smtp
        self.rec.stage = Stage.STARTTLS
        if not smtp.supports_extension("starttls"):
            detail = "tls is on, but the server offers neither implicit TLS nor STARTTLS"
            self.rec.note(detail)
            raise self.fail(Stage.STARTTLS, detail, Cause.UNSUPPORTED)
        await self.call(
            Stage.STARTTLS, "STARTTLS", lambda: smtp.starttls(server_hostname=name, tls_context=context)
        )
        self.note_tls()
        self.rec.tls_mode = TlsMode.STARTTLS

    async def authenticate(self) -> None:
        auth = self.auth
        smtp = self.smtp
        if isinstance(auth, NoAuth):
            return  # no AUTH stage: the timeline shows only what happened
        self.rec.stage = Stage.AUTH
        offered = (
            [method.upper() for method in smtp.server_auth_methods] if smtp.supports_extension("auth") else []
        )
        if not offered:
            detail = "authentication is configured, but the server offers no AUTH"
            if self.rec.tls_mode is TlsMode.NONE:
                detail += " on this plaintext connection (many servers offer it only with TLS)"
            if self.secret_from_store:
                detail += "; the stored secret is not sent"
            self.rec.note(detail)
            raise self.fail(Stage.AUTH, detail, Cause.UNSUPPORTED)
        if isinstance(auth, OAUTH_GRANTS):
            await self.auth_xoauth2(auth, offered)
        elif "PLAIN" in offered:
            await self.auth_plain(auth.password)
        elif "LOGIN" in offered:
            await self.auth_login(auth.password)
        else:
            detail = f"the server offers neither PLAIN nor LOGIN, only {' '.join(offered)}"
            raise self.fail(Stage.AUTH, detail, Cause.UNSUPPORTED)

    def payload(self, raw: str) -> bytes:
        """Base64 of an AUTH payload, registered with the redactor before it goes anywhere."""
        encoded = base64.b64encode(raw.encode()).decode("ascii")
        self.rec.redactor.add(encoded)
        return encoded.encode("ascii")

    async def auth_plain(self, password: Secret) -> None:
        self.rec.auth_mechanism = "PLAIN"
        payload = self.payload(f"\0{self.user}\0{password.value}")
        await self.command(Stage.AUTH, f"AUTH PLAIN {REDACTED}", b"AUTH", b"PLAIN", payload, expect=(235,))

    async def auth_login(self, password: Secret) -> None:
        # The three-step form, answering the server's Username:/Password: challenges as Go does.
        self.rec.auth_mechanism = "LOGIN"
        await self.command(Stage.AUTH, "AUTH LOGIN", b"AUTH", b"LOGIN", expect=(334,))
        await self.command(Stage.AUTH, REDACTED, self.payload(self.user), expect=(334,))
        await self.command(Stage.AUTH, REDACTED, self.payload(password.value), expect=(235,))

    async def auth_xoauth2(self, grant: OAuthGrant[Secret], offered: list[str]) -> None:
        self.rec.auth_mechanism = "XOAUTH2"
        if "XOAUTH2" not in offered:
            detail = f"the server does not offer AUTH XOAUTH2, only {' '.join(offered)}"
            raise self.fail(Stage.AUTH, detail, Cause.UNSUPPORTED)
        kind = "JWT-bearer" if isinstance(grant, JwtBearer) else "client-credentials"
        self.rec.note(f"requesting an access token from {grant.token_endpoint} ({kind} grant)")
        # XOAUTH2 logs in as the mailbox a JWT-bearer grant impersonates, else as the provider's user.
        user = grant.subject if isinstance(grant, JwtBearer) and grant.subject else self.user
        try:
            token = await self.client.tokens.token(grant)
        except PolicyRefused as exc:
            self.rec.note(exc.detail)
            raise self.refused(f"token endpoint: {exc.detail}") from None
        except TokenError as exc:
            self.rec.note(exc.detail)
            raise self.fail(Stage.AUTH, exc.detail, Cause.TOKEN) from None
        self.rec.redactor.add(token)
        payload = self.payload(f"user={user}\x01auth=Bearer {token}\x01\x01")
        response = await self.command(
            Stage.AUTH, f"AUTH XOAUTH2 {REDACTED}", b"AUTH", b"XOAUTH2", payload, expect=()
        )
        if response.code == 334:
            # RFC 7628: the challenge is the server's error (base64 JSON); an empty line ends the exchange.
            response = await self.command(Stage.AUTH, "(empty response)", b"", expect=())
        if response.code != 235:
            # The token may have been revoked: fetch a fresh one next time.
            self.client.tokens.forget(grant)
            raise self.fail(Stage.AUTH, f"the server answered {response.code}", Cause.REPLY)

    def mail_command(self, address: str, smtputf8: bool) -> tuple[str, tuple[bytes, ...]]:
        """MAIL FROM as shown and as sent, with SMTPUTF8 (and 8BITMIME when offered) if an address
        needs it; fails at MAIL_FROM when the server lacks SMTPUTF8."""
        smtp = self.smtp
        self.rec.stage = Stage.MAIL_FROM
        options: list[bytes] = []
        if smtputf8:
            if not smtp.supports_extension("smtputf8"):
                detail = "a non-ASCII address needs SMTPUTF8, which the server does not offer"
                raise self.fail(Stage.MAIL_FROM, detail, Cause.UNSUPPORTED)
            options.append(b"SMTPUTF8")
            if smtp.supports_extension("8bitmime"):
                options.append(b"BODY=8BITMIME")
        line = f"FROM:<{address}>"
        shown = " ".join(["MAIL", line, *(option.decode() for option in options)])
        return shown, (b"MAIL", line.encode(), *options)

    async def mail_from(self, address: str, smtputf8: bool) -> None:
        """MAIL FROM, with SMTPUTF8 (and 8BITMIME when offered) if an address needs it."""
        shown, args = self.mail_command(address, smtputf8)
        await self.command(Stage.MAIL_FROM, shown, *args, expect=(250,))

    async def rcpt_to(self, address: str, expect: tuple[int, ...] = (250, 251)) -> aiosmtplib.SMTPResponse:
        """RCPT TO; with an empty `expect` a refusal is returned rather than raised."""
        line = f"TO:<{address}>"
        return await self.command(Stage.RCPT_TO, f"RCPT {line}", b"RCPT", line.encode(), expect=expect)

    async def data(self, data: bytes, what: str) -> None:
        """DATA, the message and the final "."; `what` names the message in the transcript."""
        smtp = self.smtp
        self.rec.stage = Stage.DATA
        self.rec.client("DATA")
        self.rec.note(f"sending {what} ({len(data)} bytes) and the final '.'")
        await self.call(Stage.DATA, "", lambda: smtp.data(data))

    async def rset(self) -> None:
        """RSET: a clean transaction state on a reused connection (recorded at MAIL_FROM)."""
        await self.command(Stage.MAIL_FROM, "RSET", b"RSET", expect=(250,))

    # --- pipelining (RFC 2920) --------------------------------------------------------------------

    @property
    def pipelining(self) -> bool:
        """True if the server's EHLO offered PIPELINING."""
        return self.smtp.supports_extension("pipelining")

    async def pipelined(
        self,
        sender: str,
        smtputf8: bool,
        recipients: Sequence[str],
        *,
        reset: bool,
        message: bytes | None,
    ) -> Transaction | None:
        """[RSET], MAIL FROM, every RCPT TO and, with `message`, DATA in one write; then, when all
        of them were accepted, the message. Each reply is recorded at its stage, as the sequential
        steps record it. None if the RSET failed (the pooled connection is no longer usable); a
        refused MAIL FROM or DATA raises; the RCPT replies are the caller's to judge."""
        mail_shown, mail_args = self.mail_command(sender, smtputf8)
        commands: list[tuple[str, tuple[bytes, ...]]] = [("RSET", (b"RSET",))] if reset else []
        commands.append((mail_shown, mail_args))
        for address in recipients:
            line = f"TO:<{address}>"
            commands.append((f"RCPT {line}", (b"RCPT", line.encode())))
        if message is not None:
            commands.append(("DATA", (b"DATA",)))
        names = ", ".join(dict.fromkeys(shown.split(" ", 1)[0] for shown, _ in commands))
        self.rec.note(f"the server offers PIPELINING: {names} in one write")
        for shown, _ in commands:
            self.rec.client(shown)
        with self.pipeline() as pipe:
            try:
                pipe.send(*(b" ".join(args) for _, args in commands))
            except PEER_ERRORS as exc:
                raise self.stage_failure(exc) from None
            if reset:
                try:
                    reply = await pipe.reply()
                except PEER_ERRORS as exc:
                    self.stage_failure(exc)  # recorded; the caller opens a new connection
                    return None
                self.rec.server(reply.code, reply.message)
                if reply.code != 250:
                    return None
            return await self.envelope_replies(pipe, len(recipients), message)

    def pipeline(self) -> Pipeline:
        """A command group on this connection; a connection already gone fails the stage in progress."""
        try:
            return Pipeline(self.smtp, self.settings.smtp_command_timeout)
        except PEER_ERRORS as exc:
            raise self.stage_failure(exc) from None

    async def envelope_replies(self, pipe: Pipeline, count: int, message: bytes | None) -> Transaction:
        """MAIL FROM's reply, the `count` RCPT replies, and DATA's and the message's if `message`."""
        mail = await self.step(pipe.reply)
        self.rec.server(mail.code, mail.message)
        if mail.code != 250:
            await self.after_refusal(pipe, count, data=message is not None)
            raise self.fail(Stage.MAIL_FROM, f"the server answered {mail.code}", _reply_cause(mail.code))
        self.rec.stage = Stage.RCPT_TO
        replies: list[aiosmtplib.SMTPResponse] = []
        for _ in range(count):
            reply = await self.step(pipe.reply)
            self.rec.server(reply.code, reply.message)
            replies.append(reply)
        if message is None:
            return Transaction(tuple(replies), sent=False)
        if not all(reply.code in (250, 251) for reply in replies):
            await self.after_refusal(pipe, 0, data=True, accepted=any(r.code in (250, 251) for r in replies))
            return Transaction(tuple(replies), sent=False)
        self.rec.stage = Stage.DATA
        start = await self.step(pipe.reply)
        self.rec.server(start.code, start.message)
        if start.code != 354:
            raise self.fail(Stage.DATA, f"the server answered {start.code}", _reply_cause(start.code))
        self.rec.note(f"sending the message ({len(message)} bytes) and the final '.'")
        pipe.send_message(message)
        done = await self.step(pipe.reply)
        self.rec.server(done.code, done.message)
        if done.code != 250:
            raise self.fail(Stage.DATA, f"the server answered {done.code}", _reply_cause(done.code))
        return Transaction(tuple(replies), sent=True)

    async def after_refusal(self, pipe: Pipeline, count: int, *, data: bool, accepted: bool = False) -> None:
        """Read the replies to what was pipelined after a refusal (`count` RCPTs, then DATA's if
        `data`) into the transcript only: the refusal decides. A DATA the server still answered
        354 ends with a lone "." when no recipient was accepted (RFC 2920 3.1), and otherwise
        closes the connection: an empty message never goes to anyone. A failure here closes the
        connection rather than deciding the attempt."""
        try:
            for _ in range(count):
                reply = await pipe.reply()
                self.rec.transcribe(reply.code, reply.message)
                accepted = accepted or reply.code in (250, 251)
            if not data:
                return
            reply = await pipe.reply()
            self.rec.transcribe(reply.code, reply.message)
            if reply.code != 354:
                return
            if accepted:
                self.rec.note(
                    "the server accepted DATA and a recipient after a refusal: closing the connection"
                )
                pipe.abort()
                return
            self.rec.note("the server accepted DATA although no recipient was: ending it with a lone '.'")
            self.rec.client(".")
            pipe.send(b".")
            reply = await pipe.reply()
            self.rec.transcribe(reply.code, reply.message)
        except PEER_ERRORS as exc:
            detail, _ = self.problem(_cause(exc), self.rec.stage)
            self.rec.note(f"{detail}; closing the connection")
            pipe.abort()

    async def quit(self) -> None:
        # A raw QUIT (not smtp.quit(), which closes gracefully) leaves the transport for close() to abort.
        await self.command(Stage.QUIT, "QUIT", b"QUIT", expect=(221,))


@dataclass(frozen=True)
class Transaction:
    """How a pipelined envelope went: each RCPT's reply, and whether the message went with it."""

    recipients: tuple[aiosmtplib.SMTPResponse, ...]
    sent: bool


def _reply_cause(code: int) -> Cause:
    # aiosmtplib reads "-1 no" as code -1: a reply without a valid code is no SMTP reply.
    return Cause.REPLY if 0 <= code <= 999 else Cause.UNREADABLE


def _cause(exc: BaseException) -> BaseException:
    """The error behind aiosmtplib's SMTPConnectError wrapper (a timeout, a disconnect, an ssl error)."""
    while (
        isinstance(exc, aiosmtplib.SMTPConnectError)
        and not isinstance(exc, aiosmtplib.SMTPResponseException)
        and exc.__cause__ is not None
    ):
        exc = exc.__cause__
    return exc


def _describe(exc: BaseException) -> str:
    """A one-line English description of a low-level error (no secrets can be in these)."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.reason.lower().replace('_', ' ')}"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)  # asyncio's strerror is "Connect call failed (...)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, aiosmtplib.SMTPException):
        return exc.message
    return str(exc) or type(exc).__name__


_NAMES = {"commonName": "CN", "organizationName": "O", "countryName": "C", "organizationalUnitName": "OU"}


def certificate_note(tls: ssl.SSLObject) -> str:
    """The verified server certificate's subject, issuer and expiry as a transcript note ("" unverified)."""
    cert: dict[str, Any] = dict(tls.getpeercert() or {})
    if not cert:
        return ""

    def name(field: str) -> str:
        pairs = [pair for rdn in cert.get(field, ()) for pair in rdn]
        return ", ".join(f"{_NAMES.get(str(pair[0]), str(pair[0]))}={pair[1]}" for pair in pairs)

    names = ", ".join(str(value) for _, value in cert.get("subjectAltName", ()))
    expiry = cert.get("notAfter", "?")
    return (
        f"certificate subject {name('subject')}; names {names}; issuer {name('issuer')}; valid until {expiry}"
    )
