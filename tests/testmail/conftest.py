"""Real servers for the test RPCs: mailgate on gRPC (SQLite and PostgreSQL), aiosmtpd servers and an
HTTPS token endpoint on 127.0.0.1, with certificates for 127.0.0.1 and localhost from a trustme CA.

mailgate resolves names with the system resolver here, so every server listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import ssl
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import grpc
import pytest
import trustme
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from mailgate.gen.mailgate.v1.smtp_test_report_pb2 import SmtpTestReport
from mailgate.gen.zitadel import admin_pb2_grpc, message_pb2
from tests.conftest import RunningServer, start_server
from tests.delivery.conftest import (
    JWT_KEY_ID,
    FreePortController,
    Handler,
    RsaKey,
    SmtpServer,
    TokenEndpoint,
    check_password,
    new_rsa_key,
)

LOCAL = "127.0.0.1"


@pytest.fixture(autouse=True)
def _capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Debug logs of every logger, so leak checks see everything mailgate could log."""
    caplog.set_level(logging.DEBUG)
    _quiet_aiosmtpd()


def _quiet_aiosmtpd() -> None:
    # The "auth_required" server takes AUTH without TLS on purpose; aiosmtpd warns about that.
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)


# --- certificates and servers ---------------------------------------------------------------------


@dataclass(frozen=True)
class LocalPki:
    ca_file: Path
    server: ssl.SSLContext  # certificate for 127.0.0.1 and localhost


@pytest.fixture(scope="session")
def local_pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPki:
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("local-pki") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(LOCAL, "localhost").configure_cert(context)
    return LocalPki(ca_file, context)


class LocalSmtpServer(SmtpServer):
    """An aiosmtpd server on 127.0.0.1, addressed by its IP (the certificate names it)."""

    @property
    def host(self) -> str:
        return f"{LOCAL}:{self.port}"

    def message(self, receiver: str) -> EmailMessage:
        """The one message delivered to `receiver`, parsed."""
        [envelope] = self.received(receiver)
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@pytest.fixture(scope="session")
def local_tokens() -> set[str]:
    """Access tokens the local token endpoint issued; the SMTP servers accept exactly these."""
    return set()


@pytest.fixture(scope="session")
def mailboxes(local_pki: LocalPki, local_tokens: set[str]) -> Iterator[dict[str, LocalSmtpServer]]:
    """SMTP servers on 127.0.0.1, started once for the session (each in its own thread)."""
    auth = {"authenticator": check_password, "auth_require_tls": False}
    specs: dict[str, dict[str, Any]] = {
        # plaintext; PLAIN, LOGIN and XOAUTH2 offered but not required
        "plain": dict(auth),
        # plaintext; MAIL FROM is refused (530) until the client authenticated
        "auth_required": {**auth, "auth_required": True},
        # STARTTLS required before MAIL; AUTH only after STARTTLS
        "starttls": {
            "authenticator": check_password,
            "tls_context": local_pki.server,
            "require_starttls": True,
        },
        # implicit TLS on a random port
        "implicit": {**auth, "ssl_context": local_pki.server},
    }
    controllers: list[FreePortController] = []
    servers: dict[str, LocalSmtpServer] = {}
    try:
        with warnings.catch_warnings():  # start() makes a first connection to each server
            _quiet_aiosmtpd()
            for name, kwargs in specs.items():
                handler = Handler(local_tokens)
                controller = FreePortController(
                    handler, hostname=LOCAL, port=0, server_hostname="mx.local", **kwargs
                )
                controller.start()
                controllers.append(controller)
                servers[name] = LocalSmtpServer(handler, controller.port)
        yield servers
    finally:
        for started in controllers:
            started.stop()


@pytest.fixture(scope="session")
def jwt_key() -> RsaKey:
    """The service-account key the local token endpoint trusts under JWT_KEY_ID."""
    return new_rsa_key()


@pytest.fixture
def token_endpoint(local_pki: LocalPki, local_tokens: set[str], jwt_key: RsaKey) -> Iterator[TokenEndpoint]:
    """A real HTTPS token endpoint on 127.0.0.1 (see tests.delivery.conftest.TokenEndpoint)."""
    endpoint = TokenEndpoint(local_pki.server, local_tokens)
    endpoint.jwt_keys[JWT_KEY_ID] = jwt_key.public
    yield endpoint
    endpoint.close()


@dataclass
class Recorder:
    """A TCP listener that counts the connections it accepted and never answers them."""

    port: int = 0
    accepted: int = 0


Listener = Callable[[], Awaitable[Recorder]]


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    """Start recording listeners on 127.0.0.1: a connection to one means something was sent there."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start() -> Recorder:
        recorder = Recorder()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            recorder.accepted += 1
            writers.append(writer)

        server = await asyncio.start_server(accept, LOCAL, 0)
        recorder.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return recorder

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()


# --- mailgate -----------------------------------------------------------------------------------------


# The outbound policy refuses loopback by default; every server here listens on it.
LOCAL_ALLOW = "127.0.0.0/8,::1/128"


def mail_settings(local_pki: LocalPki) -> dict[str, str]:
    """Settings for a mailgate that trusts the local CA and may reach loopback, with short deadlines
    and a generous rate."""
    return {
        "MAILGATE_OUTBOUND_ALLOW": LOCAL_ALLOW,
        "MAILGATE_SMTP_CA_FILE": str(local_pki.ca_file),
        "MAILGATE_SMTP_HELO_NAME": "client.test",
        "MAILGATE_SMTP_CONNECT_TIMEOUT": "2",
        "MAILGATE_SMTP_COMMAND_TIMEOUT": "2",
        "MAILGATE_SMTP_TEST_TIMEOUT": "5",
        "MAILGATE_TEST_RATE": "600",
        "MAILGATE_TEST_BURST": "100",
    }


@pytest.fixture
def mail_env(local_pki: LocalPki) -> dict[str, str]:
    return mail_settings(local_pki)


StartServer = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def start_mail_server(
    settings_env: dict[str, str], mail_env: dict[str, str]
) -> AsyncIterator[StartServer]:
    """Start mailgate (on the test's backend) with `mail_env` plus MAILGATE_* overrides."""
    started: list[RunningServer] = []

    async def start(**env: str) -> RunningServer:
        running = await start_server({**settings_env, **mail_env, **env})
        started.append(running)
        return running

    yield start
    for running in started:
        await running.close()


@pytest.fixture
async def mail_server(start_mail_server: StartServer) -> RunningServer:
    return await start_mail_server()


# --- callers and failures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A failed call as a client sees it: code, message and the decoded grpc-status-details-bin."""

    code: grpc.StatusCode
    message: str
    status: status_pb2.Status

    def details(self, kind: type[Message]) -> list[Any]:
        found = []
        for item in self.status.details:
            if item.Is(kind.DESCRIPTOR):
                message = kind()
                item.Unpack(message)
                found.append(message)
        return found

    def details_all(self) -> list[Message]:
        """Every detail this suite knows, unpacked."""
        kinds: list[type[Message]] = [message_pb2.ErrorDetail, SmtpTestReport, error_details_pb2.RetryInfo]
        return [detail for kind in kinds for detail in self.details(kind)]

    @property
    def error_detail(self) -> message_pb2.ErrorDetail:
        """The first detail, which must be ZITADEL's ErrorDetail."""
        assert self.status.details and self.status.details[0].Is(message_pb2.ErrorDetail.DESCRIPTOR)
        [detail] = self.details(message_pb2.ErrorDetail)
        return detail

    @property
    def error_id(self) -> str:
        return str(self.error_detail.id)

    @property
    def report(self) -> SmtpTestReport:
        """The SmtpTestReport, which must be the second detail, after the ErrorDetail."""
        assert len(self.status.details) == 2, self.status
        assert self.status.details[1].Is(SmtpTestReport.DESCRIPTOR)
        [report] = self.details(SmtpTestReport)
        return report

    @property
    def retry_info(self) -> error_details_pb2.RetryInfo:
        [info] = self.details(error_details_pb2.RetryInfo)
        return info

    def is_zitadel(self, code: grpc.StatusCode, error_id: str) -> bool:
        """ZITADEL's form: the code, "<text> (<id>)", and an ErrorDetail with that id and text."""
        detail = self.error_detail
        return (
            self.code == code
            and detail.id == error_id
            and bool(detail.message)
            and self.message == f"{detail.message} ({error_id})"
        )


@dataclass(frozen=True)
class Caller:
    """One token's view of the AdminService."""

    stub: admin_pb2_grpc.AdminServiceStub
    metadata: tuple[tuple[str, str], ...]

    async def __call__(self, rpc: str, request: Message) -> Any:
        return await getattr(self.stub, rpc)(request, metadata=self.metadata)

    async def fail(self, rpc: str, request: Message) -> Failure:
        try:
            response = await self(rpc, request)
        except grpc.aio.AioRpcError as error:
            status = rpc_status.from_call(error)
            assert status is not None, f"no grpc-status-details-bin: {error}"
            return Failure(error.code(), error.details() or "", status)
        raise AssertionError(f"{rpc} succeeded: {response}")


async def caller(server: RunningServer, permission: str = "iam.write", instance: str | None = None) -> Caller:
    return Caller(server.stub, await server.metadata(permission, instance))


@pytest.fixture
async def admin(mail_server: RunningServer) -> Caller:
    """iam.write on the test's instance."""
    return await caller(mail_server)
