"""Real servers for the delivery tests: aiosmtpd SMTP servers, a TLS token endpoint, a CA from trustme."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, unquote_plus

import jwt
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf import json_format

from mailgate.api.status import smtp_test_report
from mailgate.config import Settings
from mailgate.delivery.report import TestReport
from mailgate.delivery.smtp import SmtpTester

USER = "alice@example.com"
PASSWORD = "pw-Sup3r-S3cret-9f2c"
CLIENT_ID = "mailgate-client"
CLIENT_SECRET = "cs-T0p-S3cret-77aa41"
SCOPE = "https://outlook.office365.com/.default"
# The JWT-bearer grant as a Google service account with domain-wide delegation uses it.
JWT_KEY_ID = "k-3f9a1c"
JWT_CLIENT_ID = "104702512345678901234"
JWT_ISSUER = "mailer@project.iam.gserviceaccount.com"
JWT_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_SCOPE = "https://mail.google.com/"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAIL_NAME = "mail.test"  # every TLS server's certificate is for this name (or for other.test)
# The outbound policy refuses loopback by default; tests that reach their local servers say so.
LOCAL_ALLOW = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

# What the injected resolver answers; tests never touch real DNS.
NAMES: dict[str, list[str]] = {
    MAIL_NAME: ["127.0.0.1"],
    "token.test": ["127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "mapped.test": ["::ffff:169.254.169.254"],
    "mixed.test": ["127.0.0.1", "169.254.169.254"],
    "uncertified.test": ["127.0.0.1"],  # no test certificate names it
}


async def fake_resolver(host: str, port: int) -> list[str]:
    """Resolve from NAMES; unknown names fail like getaddrinfo does."""
    await asyncio.sleep(0)
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return NAMES[host]


# --- certificates -------------------------------------------------------------------------------


@dataclass
class Pki:
    ca: trustme.CA
    ca_file: Path
    server: ssl.SSLContext  # certificate for mail.test and token.test
    wrong_host: ssl.SSLContext  # certificate for other.test only


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("pki") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(MAIL_NAME, "token.test").configure_cert(server)
    wrong = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.test").configure_cert(wrong)
    return Pki(ca, ca_file, server, wrong)


# Every test server listens on loopback, which the outbound policy refuses by default.
LOCAL_ALLOW = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.fixture
def make_settings(pki: Pki) -> Callable[..., Settings]:
    """Settings with small timeouts, the test CA trusted and loopback allowed; keyword overrides win."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_connect_timeout": 1.0,
            "smtp_command_timeout": 1.0,
            "smtp_test_timeout": 5.0,
            "smtp_ca_file": pki.ca_file,
            "smtp_helo_name": "client.test",
            "outbound_allow": LOCAL_ALLOW,
        }
        values.update(overrides)
        return Settings.from_env({}, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def tester(settings: Settings) -> SmtpTester:
    return SmtpTester(settings, resolver=fake_resolver)


# --- SMTP servers -------------------------------------------------------------------------------


class Handler:
    """Records every accepted message; recipients reject@... and drop... trigger misbehaviour."""

    def __init__(self, tokens: set[str]) -> None:
        self.messages: list[Any] = []
        self.tokens = tokens  # access tokens the token endpoint issued (shared set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("reject@"):
            return "550 5.1.1 <reject@example.com>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(rcpt.startswith("drop") for rcpt in envelope.rcpt_tos):
            server.transport.close()  # hang up before answering the message
            return "250 never sent"
        self.messages.append(envelope)
        return "250 2.0.0 Ok: queued as 4711"

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        """AUTH XOAUTH2 (RFC-less, Google/Microsoft style): accept tokens the token endpoint issued."""
        blob = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        if fields.get("user") == USER and token in self.tokens:
            return AuthResult(success=True, auth_data=LoginPassword(USER.encode(), b""))
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": SCOPE})
        await server.challenge_auth(error)
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted"
        )


def check_password(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class FreePortController(Controller):
    """aiosmtpd Controller on a free port chosen by the OS (port=0)."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class SmtpServer:
    handler: Handler
    port: int

    @property
    def host(self) -> str:
        return f"{MAIL_NAME}:{self.port}"

    def received(self, receiver: str) -> list[Any]:
        # aiosmtpd keeps non-ASCII envelope addresses as surrogate-escaped UTF-8 bytes.
        def text(address: str) -> str:
            return address.encode("utf-8", "surrogateescape").decode("utf-8")

        return [env for env in self.handler.messages if receiver in map(text, env.rcpt_tos)]


@pytest.fixture(scope="session")
def issued_tokens() -> set[str]:
    return set()


@pytest.fixture(scope="session")
def smtp_servers(pki: Pki, issued_tokens: set[str]) -> Iterator[dict[str, SmtpServer]]:
    """All SMTP servers, started once: they run in their own threads and event loops."""
    plain_auth = {"authenticator": check_password, "auth_require_tls": False}
    specs: dict[str, dict[str, Any]] = {
        # plaintext; AUTH PLAIN, LOGIN and XOAUTH2 offered without TLS
        "plain": dict(plain_auth),
        # plaintext; only LOGIN
        "login_only": {**plain_auth, "auth_exclude_mechanism": ["PLAIN", "XOAUTH2"]},
        # plaintext; AUTH needs TLS and there is no TLS, so AUTH is never offered
        "no_auth": {"authenticator": check_password, "auth_require_tls": True},
        # STARTTLS required before MAIL; AUTH only after STARTTLS
        "starttls": {"authenticator": check_password, "tls_context": pki.server, "require_starttls": True},
        # implicit TLS on a random port (not 465); aiosmtpd's auth_require_tls only knows STARTTLS
        "implicit": {"authenticator": check_password, "ssl_context": pki.server, "auth_require_tls": False},
        # implicit TLS with a certificate for another name
        "wrong_cert": {"ssl_context": pki.wrong_host},
    }
    controllers: list[Controller] = []
    servers: dict[str, SmtpServer] = {}
    try:
        for name, kwargs in specs.items():
            handler = Handler(issued_tokens)
            controller = FreePortController(
                handler, hostname="127.0.0.1", port=0, server_hostname=MAIL_NAME, **kwargs
            )
            controller.start()
            controllers.append(controller)
            servers[name] = SmtpServer(handler, controller.port)
        yield servers
    finally:
        for started in controllers:
            started.stop()


# --- misbehaving raw servers ----------------------------------------------------------------------


@dataclass
class RawServer:
    port: int
    accepted: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # what a "script" server received


SCRIPT_DEFAULTS = {
    "GREETING": "220 scripted.test ESMTP",
    "EHLO": "250-scripted.test\r\n250 AUTH PLAIN",
    "HELO": "250 scripted.test",
    "AUTH": "235 2.7.0 ok",
    "MAIL": "250 2.1.0 ok",
    "RCPT": "250 2.1.5 ok",
    "DATA": "354 go ahead",
    ".": "250 2.0.0 queued",
    "QUIT": "221 2.0.0 bye",
}


async def _scripted(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    replies: dict[str, str | bytes],
    state: RawServer,
) -> None:
    """A tiny SMTP server answering each command with the scripted reply (see SCRIPT_DEFAULTS);
    a reply given as bytes is sent as it is (invalid UTF-8, no line end, ...)."""
    script: dict[str, str | bytes] = {**SCRIPT_DEFAULTS, **replies}

    def send(key: str) -> None:
        reply = script[key]
        writer.write(reply if isinstance(reply, bytes) else reply.encode() + b"\r\n")

    send("GREETING")
    in_data = False
    while line := await reader.readline():
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        state.commands.append(text)
        if in_data:
            if text == ".":
                in_data = False
                send(".")
            continue
        verb = text.split(" ", 1)[0].upper()
        send(verb if verb in script else "MAIL")
        in_data = verb == "DATA" and str(script["DATA"]).startswith("354")
        if verb == "QUIT":
            break
    writer.close()


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    """Start a TCP server on 127.0.0.1 (or `host`): "hang" (accepts, never sends), "trickle" (a greeting
    one byte at a time, never finished) or "script" (an SMTP server whose replies the test chooses);
    with `tls`, implicit TLS first."""
    servers: list[asyncio.Server] = []
    states: list[RawServer] = []

    async def start(
        behaviour: str,
        replies: dict[str, str | bytes] | None = None,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> RawServer:
        state = RawServer(port=0)

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            state.accepted += 1
            state.writers.append(writer)
            try:
                if behaviour == "script":
                    await _scripted(reader, writer, replies or {}, state)
                    return
                if behaviour == "trickle":
                    writer.write(b"220-")
                    while not writer.is_closing():  # one byte at a time, never a complete reply
                        await asyncio.sleep(0.05)
                        writer.write(b"x")
                        await writer.drain()
                await asyncio.sleep(3600)
            except (ConnectionError, asyncio.CancelledError):
                pass

        server = await asyncio.start_server(serve, host, 0, ssl=tls)
        state.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        states.append(state)
        return state

    yield start
    for state in states:
        for writer in state.writers:
            writer.close()
    for server in servers:
        server.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- OAuth2 token endpoint ------------------------------------------------------------------------


@dataclass(frozen=True)
class RsaKey:
    """An RSA key pair: the PEM a provider stores, and the public key the token endpoint trusts."""

    pem: str
    public: rsa.RSAPublicKey


def new_rsa_key() -> RsaKey:
    """A fresh 2048-bit RSA key pair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return RsaKey(pem.decode(), key.public_key())


@pytest.fixture(scope="session")
def rsa_key() -> RsaKey:
    """The service account's key: the token endpoint trusts it under JWT_KEY_ID."""
    return new_rsa_key()


@pytest.fixture(scope="session")
def other_rsa_key() -> RsaKey:
    """A key nobody trusts."""
    return new_rsa_key()


class TokenEndpoint:
    """A real HTTPS token endpoint in a thread: client-credentials and JWT-bearer grants.

    Client credentials are checked as `accept` says: "basic" takes HTTP Basic only, "body" the
    form body only, and a request using both is refused (RFC 6749 2.3). A JWT assertion must be
    signed with a key in `jwt_keys` (by its kid) and carry the expected iss, sub, aud and scope.
    """

    def __init__(self, context: ssl.SSLContext, issued: set[str]) -> None:
        self.issued = issued
        self.accept = "basic"
        self.requests: list[dict[str, Any]] = []
        self.redirect = False
        self.lifetime: int | None = 3600
        self.canned: tuple[int, bytes] | None = None  # answer this instead of the real grant
        self.echo = False  # refuse, quoting what the client sent (tests redaction)
        # refuse with the error_description this returns from (headers, raw body, form)
        self.echo_back: Callable[[dict[str, str], bytes, dict[str, str]], str] | None = None
        self.jwt_keys: dict[str, rsa.RSAPublicKey] = {}
        self.jwt_expect = {"iss": JWT_ISSUER, "sub": USER, "aud": JWT_AUDIENCE, "scope": JWT_SCOPE}
        self.assertions: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (header, claims) accepted
        endpoint = self

        class RequestHandler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
                auth = self.headers.get("Authorization", "")
                endpoint.requests.append({"form": form, "authorization": auth, "host": self.headers["Host"]})
                if endpoint.redirect:
                    self._answer(302, {}, location="https://token.test/elsewhere")
                    return
                if endpoint.canned is not None:
                    self._send(*endpoint.canned)
                    return
                if endpoint.echo_back is not None:
                    echoed = endpoint.echo_back(dict(self.headers.items()), body, form)
                    self._answer(400, {"error": "invalid_request", "error_description": echoed})
                    return
                if endpoint.echo:
                    quoted = form.get("assertion") or form.get("client_secret") or auth
                    self._answer(400, {"error": "invalid_request", "error_description": f"got {quoted}"})
                    return
                if form.get("grant_type") == JWT_BEARER:
                    problem = endpoint.check_assertion(form.get("assertion", ""), set(form) - {"grant_type"})
                else:
                    problem = endpoint.check_client(auth, form)
                if problem:
                    self._answer(problem[0], {"error": problem[1], "error_description": problem[2]})
                    return
                token = "at-" + secrets.token_urlsafe(24)
                endpoint.issued.add(token)
                grant: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
                if endpoint.lifetime is not None:
                    grant["expires_in"] = endpoint.lifetime
                self._answer(200, grant)

            def _answer(self, status: int, data: dict[str, Any], location: str = "") -> None:
                self._send(status, json.dumps(data).encode(), location)

            def _send(self, status: int, payload: bytes, location: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        # A short poll interval: shutdown() waits for one, once per test.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def check_client(self, auth: str, form: dict[str, str]) -> tuple[int, str, str] | None:
        """Why a client-credentials request is refused (status, error, description), or None."""
        in_body = "client_id" in form or "client_secret" in form
        if auth and in_body:
            return 400, "invalid_request", "more than one client authentication method"
        client: tuple[str | None, ...] | None = None
        if auth.startswith("Basic ") and self.accept == "basic":
            client = tuple(unquote_plus(part) for part in base64.b64decode(auth[6:]).decode().split(":", 1))
        elif in_body and self.accept == "body":
            client = (form.get("client_id"), form.get("client_secret"))
        if client != (CLIENT_ID, CLIENT_SECRET):
            return 401, "invalid_client", "bad client credentials"
        if form.get("grant_type") != "client_credentials":
            return 400, "unsupported_grant_type", "expected client_credentials"
        return None

    def check_assertion(self, assertion: str, other_fields: set[str]) -> tuple[int, str, str] | None:
        """Verify the JWT-bearer assertion's signature (by kid) and claims, as Google does."""
        if other_fields != {"assertion"}:
            return 400, "invalid_request", f"unexpected fields {sorted(other_fields)}"
        try:
            header = jwt.get_unverified_header(assertion)
            key = self.jwt_keys[header.get("kid", "")]
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=self.jwt_expect["aud"],
                issuer=self.jwt_expect["iss"],
                options={"require": ["iss", "sub", "aud", "iat", "exp"]},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            return 400, "invalid_grant", f"invalid JWT: {type(exc).__name__}"
        if claims["sub"] != self.jwt_expect["sub"] or claims.get("scope") != self.jwt_expect["scope"]:
            return 400, "invalid_grant", "unexpected sub or scope"
        if not 0 < claims["exp"] - claims["iat"] <= 3600:
            return 400, "invalid_grant", "Invalid JWT: expiration must be at most one hour after iat"
        self.assertions.append((header, claims))
        return None

    def url(self, name: str = "token.test") -> str:
        return f"https://{name}:{self.port}/oauth2/v2.0/token"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def token_endpoint(pki: Pki, issued_tokens: set[str], rsa_key: RsaKey) -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint(pki.server, issued_tokens)
    endpoint.jwt_keys[JWT_KEY_ID] = rsa_key.public
    yield endpoint
    endpoint.close()


# --- secret checks ------------------------------------------------------------------------------------


def secret_forms(values: Sequence[str]) -> list[str]:
    """Each secret, its base64, and the AUTH payloads that would carry it."""
    forms: list[str] = []
    for value in values:
        xoauth2 = f"user={USER}\x01auth=Bearer {value}\x01\x01"  # the AUTH XOAUTH2 payload if a token
        forms += [
            value,
            base64.b64encode(value.encode()).decode(),
            base64.b64encode(xoauth2.encode()).decode(),
        ]
    forms.append(base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode())
    forms.append(base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode())  # HTTP Basic
    return forms


# Characters that URL and form encoding change, so each encoded form differs from the secret.
ODD_SECRET = "cs/T0p+S3cret=77 aa&41%x"


def client_secret_forms(secret: str) -> list[str]:
    """Every form of a client secret that mailgate itself writes into a token request."""
    basic = _b64(f"{quote_plus(CLIENT_ID)}:{quote_plus(secret)}")  # RFC 6749 2.3.1
    forms = [secret, quote_plus(secret), quote(secret, safe=""), _b64(secret), basic, f"Basic {basic}"]
    return forms + [form.rstrip("=") for form in forms]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def echo_everything(headers: dict[str, str], body: bytes, form: dict[str, str]) -> str:
    """What a careless endpoint puts in its error: the request's headers and raw body (the
    credentials first, before mailgate clips the text)."""
    credentials = headers.get("Authorization", "-")
    return f"bad request; authorization {credentials}; body {body.decode()}; headers {headers}"


def assert_no_secrets(caplog: pytest.LogCaptureFixture, *things: Any, extra: Sequence[str] = ()) -> None:
    """No password, client secret, token, or base64 of them in the report, error or our logs."""
    texts = []
    for thing in things:
        texts.append(str(thing))
        report = getattr(thing, "report", thing)
        if isinstance(report, TestReport):  # the engine's report: as the transports will send it
            report = smtp_test_report(report)
        if hasattr(report, "DESCRIPTOR"):
            texts.append(json_format.MessageToJson(report))
            texts.append(report.SerializeToString().decode("utf-8", "replace"))
    # The aiosmtpd test servers' own logs ("mail.log") are the far side, not mailgate.
    texts += [record.getMessage() for record in caplog.records if not record.name.startswith("mail.log")]
    for form in secret_forms([PASSWORD, CLIENT_SECRET, *extra]):
        for text in texts:
            assert form not in text, f"secret form {form[:6]}... leaked into: {text[:300]}"


@pytest.fixture(autouse=True)
def _capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
