"""The SMTP conversation of a test email: connect, TLS, EHLO, AUTH, MAIL FROM, RCPT TO, DATA, QUIT.

aiosmtplib speaks the protocol; this module decides where to connect (the address the outbound
policy checked), how to secure the connection, which AUTH to use, and records every step.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiosmtplib

from mailgate.config import Settings
from mailgate.errors import Code, TestFailed
from mailgate.hostport import split_host_port
from mailgate.providers.auth import OAUTH_GRANTS, JwtBearer, NoAuth, OAuthGrant, OpenedAuth
from mailgate.providers.sealing import Secret

from .message import ComposedEmail, MessageTextError, compose_test_email
from .oauth import TokenCache, TokenError
from .policy import POLICY_REFUSED_ID, OutboundPolicy, PolicyRefused, ResolveError, Resolver, parse_ip
from .redaction import REDACTED, Redactor
from .report import SPLIT_ERROR, Recorder, Stage, TestReport, TlsMode

log = logging.getLogger(__name__)

# OpenSSL's reasons for "the peer's first bytes are not a TLS record": the server speaks plaintext
# SMTP (its greeting or an error reply), so the test reconnects and requires STARTTLS, as ZITADEL
# does on Go's tls.RecordHeaderError. Certificate and other handshake errors never fall back.
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
# Everything the conversation can raise besides our own TestFailed: aiosmtplib's exceptions
# (replies, timeouts, disconnects, unreadable replies), ValueError and RuntimeError (aiosmtplib
# refusing an argument or a transport), and OSError (sockets, ssl.SSLError, ConnectionError,
# TimeoutError). Each becomes the failure of the stage in progress, in `_Test.stage_failure`.
_PEER_ERRORS = (aiosmtplib.SMTPException, OSError, ValueError, RuntimeError)


@dataclass(frozen=True)
class TestEmail:
    """One test email: where to send it, how to secure and authenticate, and the addresses."""

    __test__ = False  # not a pytest test class, despite the name

    host: str  # "host:port" as stored (IPv6 in brackets)
    tls: bool
    sender_address: str
    sender_name: str
    receiver_address: str
    user: str = ""  # the provider's user: AUTH PLAIN and LOGIN, and XOAUTH2 unless a grant names its own
    auth: OpenedAuth = field(default_factory=NoAuth)
    # A stored secret is in use: a server offering no AUTH fails at stage AUTH rather than
    # receiving mail without it.
    secret_from_store: bool = False


class SmtpTester:
    """Sends test emails. One per process is enough; it caches the TLS context and HELO name."""

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
        self._fqdn_lock = asyncio.Lock()  # concurrent first tests share one lookup

    async def send_test(self, email: TestEmail) -> TestReport:
        """Send the test email; return the report (stage done) or raise TestFailed."""
        test = _Test(self, email)
        try:
            report = await test.run()
        except TestFailed as exc:
            log.info(
                "SMTP test to %s failed at stage %s (%s) after %d ms: %s",
                email.host,
                exc.report.stage,
                exc.error_id or exc.code.name,
                exc.report.elapsed_ms,
                exc.report.detail or exc.report.reply_text,
            )
            log.debug("SMTP test transcript:\n%s", "\n".join(exc.report.transcript))
            raise
        log.info("SMTP test to %s succeeded in %d ms", email.host, report.elapsed_ms)
        log.debug("SMTP test transcript:\n%s", "\n".join(report.transcript))
        return report

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


class _Test:
    """The state of one test email; every failure leaves as TestFailed built by the Recorder."""

    def __init__(self, tester: SmtpTester, email: TestEmail) -> None:
        self.tester = tester
        self.email = email
        self.settings = tester.settings
        self.redactor = Redactor()
        if email.auth.secret is not None:
            self.redactor.add(email.auth.secret.value)
        self.rec = Recorder(email.host, self.redactor)
        self.xoauth2 = isinstance(email.auth, OAUTH_GRANTS)
        self.smtp: aiosmtplib.SMTP | None = None
        self.sock: socket.socket | None = None

    def fail(self, stage: Stage, detail: str) -> TestFailed:
        return self.rec.failure(stage, detail, xoauth2=self.xoauth2)

    def refused(self, detail: str) -> TestFailed:
        # The message itself names the address and the setting, not only the report.
        error = (Code.FAILED_PRECONDITION, POLICY_REFUSED_ID, self.redactor.scrub(detail))
        return self.rec.failure(Stage.POLICY, detail, error=error)

    async def run(self) -> TestReport:
        limit = self.settings.smtp_test_timeout
        try:
            async with asyncio.timeout(limit) as deadline:
                try:
                    await self.converse()
                except _PEER_ERRORS as exc:  # whichever await raised it, the stage gets its report
                    raise self.stage_failure(exc) from None
        except TimeoutError:
            if not deadline.expired():
                raise
            stage = self.stage_now()
            self.rec.note(f"the test deadline of {limit:g}s ran out during stage {stage}")
            raise self.rec.failure(
                Stage.DEADLINE, f"the test did not finish within {limit:g}s; it was at stage {stage}"
            ) from None
        finally:
            self.close()
        return self.rec.report(Stage.DONE)

    def stage_now(self) -> Stage:
        # aiosmtplib does the implicit TLS handshake and reads the greeting in one call; a live
        # transport means the handshake is over and the greeting is what we wait for.
        if self.rec.stage is Stage.TLS and self.smtp is not None and self.smtp.transport is not None:
            return Stage.GREETING
        return self.rec.stage

    def close_socket(self) -> None:
        if self.sock is not None:
            self.sock.close()

    def close(self) -> None:
        # Abort rather than close: a graceful TLS close waits for the server's close_notify with
        # the socket still registered on the loop, and closing the socket under it would let the
        # next connection reuse the fd while the loop still watches it.
        if self.smtp is not None:
            transport = self.smtp.transport
            if isinstance(transport, asyncio.Transport):
                transport.abort()
            self.smtp.close()
        if self.sock is not None:
            self.sock.close()  # idempotent; the transport may have closed it already

    async def converse(self) -> None:
        email = self.email
        try:
            composed = compose_test_email(email.sender_address, email.sender_name, email.receiver_address)
        except MessageTextError as exc:  # checked before any connection: nothing is sent
            raise self.fail(Stage.RCPT_TO if exc.field == "receiver" else Stage.MAIL_FROM, str(exc)) from None
        name, port, addresses = await self.resolve()
        if email.tls:
            # Nothing but a TLS handshake goes out first; the port decides nothing.
            context = await self.tester.policy.tls_context()
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
        await self.mail_from(composed)
        await self.rcpt_to(composed)
        await self.data(composed)
        await self.quit()

    async def resolve(self) -> tuple[str, int, list[str]]:
        self.rec.stage = Stage.RESOLVE
        try:
            name, port = split_host_port(self.email.host)
        except ValueError as exc:
            raise self.rec.failure(Stage.RESOLVE, f"{self.email.host!r}: {exc}", error=SPLIT_ERROR) from None
        try:
            addresses = await self.tester.policy.resolve(name, port)
        except ResolveError as exc:
            raise self.fail(Stage.RESOLVE, exc.detail) from None
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
        for address in addresses:
            ip = parse_ip(address)
            family = socket.AF_INET6 if ip is not None and ip.version == 6 else socket.AF_INET
            self.rec.note(f"connecting to {address} port {port}")
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)  # may fail too: no file descriptors left
                sock.setblocking(False)
                self.sock = sock
                async with asyncio.timeout(limit) as attempt:
                    await loop.sock_connect(sock, (address, port))
            except TimeoutError:
                self.close_socket()
                if not attempt.expired():
                    raise
                problems.append(f"{address}: no answer within {limit:g}s")
            except OSError as exc:
                self.close_socket()
                problems.append(f"{address}: {_describe(exc)}")
            else:
                self.rec.address = address
                return address
        for problem in problems:
            self.rec.note(problem)
        raise self.fail(Stage.CONNECT, "could not connect: " + "; ".join(problems))

    def client(self, name: str, *, tls: bool, context: ssl.SSLContext | None = None) -> aiosmtplib.SMTP:
        # hostname is the configured name: with sock= aiosmtplib uses it only for SNI and the
        # certificate check, never to connect.
        self.smtp = aiosmtplib.SMTP(
            hostname=name,
            sock=self.sock,
            use_tls=tls,
            start_tls=False,
            tls_context=context,
            timeout=self.settings.smtp_command_timeout,
        )
        return self.smtp

    async def open_implicit_tls(self, name: str, context: ssl.SSLContext) -> bool:
        """TLS handshake, then the greeting. True if the server answered in plaintext instead."""
        self.rec.stage = Stage.TLS
        assert self.sock is not None
        helo = await self.tester.helo_name(self.sock)
        smtp = self.client(name, tls=True, context=context)
        smtp.local_hostname = helo
        try:
            greeting = await smtp.connect(timeout=self.settings.smtp_connect_timeout)
        except _PEER_ERRORS as exc:
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
        if self.smtp is None or not self.smtp.is_connected:
            return
        tls = self.smtp.get_transport_info("ssl_object")
        if isinstance(tls, ssl.SSLObject):
            cipher = tls.cipher()
            self.rec.note(f"TLS established: {tls.version()}, {cipher[0] if cipher else 'unknown cipher'}")

    async def open_plain(self, name: str) -> None:
        """Read the greeting of a plaintext connection."""
        self.rec.stage = Stage.GREETING
        self.rec.tls_mode = TlsMode.NONE
        assert self.sock is not None
        helo = await self.tester.helo_name(self.sock)
        smtp = self.client(name, tls=False)
        smtp.local_hostname = helo
        greeting = await self.step(lambda: smtp.connect(timeout=self.settings.smtp_connect_timeout))
        self.rec.server(greeting.code, greeting.message)

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
        except _PEER_ERRORS as exc:
            raise self.stage_failure(exc) from None

    def stage_failure(self, exc: Exception) -> TestFailed:
        """Any error of aiosmtplib, ssl or the OS as the failure of the stage in progress: the one
        place that maps them, so no failure leaves without the stage's error and report."""
        stage = self.rec.stage
        cause = _cause(exc)
        if isinstance(cause, aiosmtplib.SMTPResponseException) and cause.code >= 0:
            self.rec.server(cause.code, cause.message)
            refused = stage is Stage.GREETING
            return self.fail(
                stage, "the server refused the connection" if refused else f"the server answered {cause.code}"
            )
        detail = self.problem(cause, stage)
        self.rec.note(detail)
        return self.fail(stage, detail)

    def problem(self, cause: BaseException, stage: Stage) -> str:
        """What went wrong, in English, for an error that is not a server reply."""
        if isinstance(cause, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
            if stage is Stage.TLS:
                return f"no TLS handshake within {self.settings.smtp_connect_timeout:g}s"
            if stage is Stage.GREETING:
                return f"no greeting within {self.settings.smtp_connect_timeout:g}s"
            return f"no reply within {self.settings.smtp_command_timeout:g}s"
        if isinstance(cause, ConnectionError):  # aiosmtplib.SMTPServerDisconnected is one
            if stage is Stage.GREETING:
                return "the server closed the connection before its greeting"
            return "the server closed the connection"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate verification failed: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {_describe(cause)}"
        if isinstance(cause, aiosmtplib.SMTPResponseException):  # a negative code: no valid reply
            return f"the server's reply is not valid SMTP: {cause.message}"
        return _describe(cause)

    async def command(
        self, stage: Stage, shown: str, *args: bytes, expect: tuple[int, ...]
    ) -> aiosmtplib.SMTPResponse:
        """Send one raw command line; fail at `stage` unless the reply code is in `expect`."""
        smtp = self.smtp
        assert smtp is not None
        response = await self.call(stage, shown, lambda: smtp.execute_command(*args))
        if expect and response.code not in expect:
            raise self.fail(stage, f"the server answered {response.code}")
        return response

    async def ehlo(self) -> None:
        smtp = self.smtp
        assert smtp is not None and self.sock is not None
        helo = await self.tester.helo_name(self.sock)
        try:
            await self.call(Stage.EHLO, f"EHLO {helo}", lambda: smtp.ehlo(hostname=helo))
        except TestFailed as failed:
            # Servers that predate ESMTP answer 5xx to EHLO; HELO is their greeting (RFC 5321 3.2).
            if not 500 <= failed.report.reply_code < 600 or not smtp.is_connected:
                raise
            await self.call(Stage.EHLO, f"HELO {helo}", lambda: smtp.helo(hostname=helo))

    async def starttls(self, name: str, context: ssl.SSLContext) -> None:
        smtp = self.smtp
        assert smtp is not None
        self.rec.stage = Stage.STARTTLS
        if not smtp.supports_extension("starttls"):
            detail = "tls is on, but the server offers neither implicit TLS nor STARTTLS"
            self.rec.note(detail)
            raise self.fail(Stage.STARTTLS, detail)
        await self.call(
            Stage.STARTTLS, "STARTTLS", lambda: smtp.starttls(server_hostname=name, tls_context=context)
        )
        self.note_tls()
        self.rec.tls_mode = TlsMode.STARTTLS

    async def authenticate(self) -> None:
        auth = self.email.auth
        smtp = self.smtp
        assert smtp is not None
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
            if self.email.secret_from_store:
                detail += "; the stored secret is not sent"
            self.rec.note(detail)
            raise self.fail(Stage.AUTH, detail)
        if isinstance(auth, OAUTH_GRANTS):
            await self.auth_xoauth2(auth, offered)
        elif "PLAIN" in offered:
            await self.auth_plain(auth.password)
        elif "LOGIN" in offered:
            await self.auth_login(auth.password)
        else:
            raise self.fail(
                Stage.AUTH, f"the server offers neither PLAIN nor LOGIN, only {' '.join(offered)}"
            )

    def payload(self, raw: str) -> bytes:
        """Base64 of an AUTH payload, registered with the redactor before it goes anywhere."""
        encoded = base64.b64encode(raw.encode()).decode("ascii")
        self.redactor.add(encoded)
        return encoded.encode("ascii")

    async def auth_plain(self, password: Secret) -> None:
        self.rec.auth_mechanism = "PLAIN"
        payload = self.payload(f"\0{self.email.user}\0{password.value}")
        await self.command(Stage.AUTH, f"AUTH PLAIN {REDACTED}", b"AUTH", b"PLAIN", payload, expect=(235,))

    async def auth_login(self, password: Secret) -> None:
        # The three-step form, answering the server's Username:/Password: challenges as Go does.
        self.rec.auth_mechanism = "LOGIN"
        await self.command(Stage.AUTH, "AUTH LOGIN", b"AUTH", b"LOGIN", expect=(334,))
        await self.command(Stage.AUTH, REDACTED, self.payload(self.email.user), expect=(334,))
        await self.command(Stage.AUTH, REDACTED, self.payload(password.value), expect=(235,))

    async def auth_xoauth2(self, grant: OAuthGrant[Secret], offered: list[str]) -> None:
        self.rec.auth_mechanism = "XOAUTH2"
        if "XOAUTH2" not in offered:
            raise self.fail(Stage.AUTH, f"the server does not offer AUTH XOAUTH2, only {' '.join(offered)}")
        kind = "JWT-bearer" if isinstance(grant, JwtBearer) else "client-credentials"
        self.rec.note(f"requesting an access token from {grant.token_endpoint} ({kind} grant)")
        # XOAUTH2 logs in as the mailbox a JWT-bearer grant impersonates, else as the provider's user.
        user = grant.subject if isinstance(grant, JwtBearer) and grant.subject else self.email.user
        try:
            token = await self.tester.tokens.token(grant)
        except PolicyRefused as exc:
            self.rec.note(exc.detail)
            raise self.refused(f"token endpoint: {exc.detail}") from None
        except TokenError as exc:
            self.rec.note(exc.detail)
            raise self.fail(Stage.AUTH, exc.detail) from None
        self.redactor.add(token)
        payload = self.payload(f"user={user}\x01auth=Bearer {token}\x01\x01")
        response = await self.command(
            Stage.AUTH, f"AUTH XOAUTH2 {REDACTED}", b"AUTH", b"XOAUTH2", payload, expect=()
        )
        if response.code == 334:
            # RFC 7628: the challenge is the server's error (base64 JSON); an empty line ends the exchange.
            response = await self.command(Stage.AUTH, "(empty response)", b"", expect=())
        if response.code != 235:
            # The token may have been revoked: fetch a fresh one next time.
            self.tester.tokens.forget(grant)
            raise self.fail(Stage.AUTH, f"the server answered {response.code}")

    async def mail_from(self, composed: ComposedEmail) -> None:
        smtp = self.smtp
        assert smtp is not None
        self.rec.stage = Stage.MAIL_FROM
        options: list[bytes] = []
        if composed.smtputf8:
            if not smtp.supports_extension("smtputf8"):
                raise self.fail(
                    Stage.MAIL_FROM, "a non-ASCII address needs SMTPUTF8, which the server does not offer"
                )
            options.append(b"SMTPUTF8")
            if smtp.supports_extension("8bitmime"):
                options.append(b"BODY=8BITMIME")
        line = f"FROM:<{composed.mail_from}>"
        shown = " ".join(["MAIL", line, *(option.decode() for option in options)])
        await self.command(Stage.MAIL_FROM, shown, b"MAIL", line.encode(), *options, expect=(250,))

    async def rcpt_to(self, composed: ComposedEmail) -> None:
        line = f"TO:<{composed.rcpt_to}>"
        await self.command(Stage.RCPT_TO, f"RCPT {line}", b"RCPT", line.encode(), expect=(250, 251))

    async def data(self, composed: ComposedEmail) -> None:
        smtp = self.smtp
        assert smtp is not None
        self.rec.stage = Stage.DATA
        self.rec.client("DATA")
        self.rec.note(f"sending the test email ({len(composed.data)} bytes) and the final '.'")
        await self.call(Stage.DATA, "", lambda: smtp.data(composed.data))

    async def quit(self) -> None:
        # A raw QUIT (not smtp.quit(), which closes gracefully) leaves the transport for close() to abort.
        await self.command(Stage.QUIT, "QUIT", b"QUIT", expect=(221,))


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
