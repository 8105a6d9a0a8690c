"""A database made by migration 0001, with rows in it, upgrades to head and serves as before.

The rows are written the way 0001's schema held them (its columns only, secrets sealed by the real
SecretBox with the associated data mailgate has always used, token hashes as plain SHA-256); then
the upgrade runs as a start does, and a server on that database is asked through its APIs.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from alembic import command
from google.protobuf import timestamp_pb2
from sqlalchemy import MetaData, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mailgate.config import Settings
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import object_pb2, settings_pb2
from mailgate.secrets import SecretBox, load_master_key
from mailgate.store.database import Database
from mailgate.store.migrate import alembic_config, migrate
from mailgate.store.tables import instances, providers, tokens
from tests.fixtures.servers import start_server
from tests.fixtures.smtp import running_smtp

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

INSTANCE = "acme"
SEQUENCE = 9  # the instance's sequence after the writes that made these rows
USER, PASSWORD = "mailer@example.com", "pw-from-0001-7c1d"
CLIENT_SECRET, SIGNING_KEY = "client-secret-from-0001", "signing-key-from-0001"
PLAIN_ID, XOAUTH2_ID, NONE_ID, HTTP_ID = (
    "310000000000000001",
    "310000000000000002",
    "3100000003",
    "3100000004",
)
# The columns added since 0001 (0002's, 0005's) and the values existing rows must read with.
NEW_COLUMNS = {
    "oauth_grant": "client_credentials",
    "token_endpoint_auth": "CLIENT_SECRET_BASIC",
    "jwt_key_id": "",
    "jwt_issuer": "",
    "jwt_subject": "",
    "jwt_audience": "",
    "jwt_signing_algorithm": "RS256",
    "private_key_sealed": None,
    "version": 1,  # 0005's
}


def _us(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 9, 30, 15, 123456, tzinfo=UTC).timestamp() * 1_000_000)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Mailbox:
    """An SMTP server that accepts mail only after AUTH with USER and PASSWORD."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 Ok: queued"


def _check_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    with running_smtp(
        handler, authenticator=_check_login, auth_required=True, auth_require_tls=False
    ) as port:
        yield handler, port


def _rows(box: SecretBox, smtp_port: int) -> list[dict[str, Any]]:
    """Four providers as mailgate wrote them under 0001: PLAIN (active), XOAUTH2, no auth, HTTP."""

    def sealed(provider_id: str, field: str, secret: str) -> str:
        return box.seal(secret, f"{INSTANCE}/{provider_id}/{field}")

    common = {
        "instance_id": INSTANCE,
        "state": 2,
        "sender_address": "noreply@acme.example",
        "sender_name": "Acme",
        "reply_to_address": "",
        "tls": True,
        "smtp_user": "",
        "auth": "none",
        "password_sealed": None,
        "token_endpoint": "",
        "scopes": [],
        "client_id": "",
        "client_secret_sealed": None,
        "endpoint": "",
        "signing_key_sealed": None,
    }
    return [
        {
            **common,
            "id": PLAIN_ID,
            "kind": "smtp",
            "state": 1,
            "description": "primary relay",
            "creation_sequence": 1,
            "sequence": 7,
            "created_us": _us(2025, 3, 1),
            "changed_us": _us(2025, 6, 2),
            "reply_to_address": "support@acme.example",
            "tls": False,
            "host": f"127.0.0.1:{smtp_port}",
            "smtp_user": USER,
            "auth": "plain",
            "password_sealed": sealed(PLAIN_ID, "password", PASSWORD),
        },
        {
            **common,
            "id": XOAUTH2_ID,
            "kind": "smtp",
            "description": "microsoft 365",
            "creation_sequence": 2,
            "sequence": 8,
            "created_us": _us(2025, 4, 1),
            "changed_us": _us(2025, 7, 3),
            "host": "smtp.office365.com:587",
            "smtp_user": "noreply@acme.example",
            "auth": "xoauth2",
            "token_endpoint": "https://login.microsoftonline.com/acme/oauth2/v2.0/token",
            "scopes": ["https://outlook.office365.com/.default"],
            "client_id": "mailgate-client",
            "client_secret_sealed": sealed(XOAUTH2_ID, "client_secret", CLIENT_SECRET),
        },
        {
            **common,
            "id": NONE_ID,
            "kind": "smtp",
            "description": "internal relay",
            "creation_sequence": 3,
            "sequence": 3,
            "created_us": _us(2025, 5, 1),
            "changed_us": _us(2025, 5, 1),
            "tls": False,
            "host": "relay.acme.internal:25",
        },
        {
            **common,
            "id": HTTP_ID,
            "kind": "http",
            "description": "webhook",
            "creation_sequence": 4,
            "sequence": 9,
            "created_us": _us(2025, 8, 1),
            "changed_us": _us(2025, 8, 4),
            "sender_address": "",
            "sender_name": "",
            "tls": False,
            "host": "",
            "endpoint": "https://hooks.acme.example/mail",
            "signing_key_sealed": sealed(HTTP_ID, "signing_key", SIGNING_KEY),
        },
    ]


def _tokens() -> dict[str, tuple[str, dict[str, Any]]]:
    """Tokens of 0001's time by role: the plaintext a client holds and the row stored for it."""
    made = {}
    for role, permission, revoked in (
        ("writer", "iam.write", None),
        ("reader", "iam.read", None),
        ("revoked", "iam.write", _us(2025, 9, 1)),
    ):
        token = "mgt_" + secrets.token_urlsafe(32)
        row = {
            "id": secrets.token_hex(6),
            "token_hash": _token_hash(token),
            "instance_id": INSTANCE,
            "permission": permission,
            "description": f"{role} from 0001",
            "created_us": _us(2025, 2, 1),
            "revoked_us": revoked,
        }
        made[role] = (token, row)
    return made


def _fill_0001(conn: Connection, rows: list[dict[str, Any]], token_rows: list[dict[str, Any]]) -> None:
    command.upgrade(alembic_config(conn), "0001")
    schema = MetaData()
    schema.reflect(conn)
    old = schema.tables["email_providers"]
    assert "oauth_grant" not in old.c  # this really is 0001's table
    conn.execute(insert(schema.tables["instances"]).values(id=INSTANCE, sequence=SEQUENCE))
    conn.execute(insert(old), rows)
    conn.execute(insert(schema.tables["api_tokens"]), token_rows)


def _read_back(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int | None]:
    found = [dict(row) for row in conn.execute(select(providers).order_by(providers.c.id)).mappings()]
    stored = [dict(row) for row in conn.execute(select(tokens).order_by(tokens.c.id)).mappings()]
    sequence = conn.execute(select(instances.c.sequence).where(instances.c.id == INSTANCE)).scalar()
    return found, stored, sequence


def _timestamp(us: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=us // 1_000_000, nanos=us % 1_000_000 * 1000)


def _as_zitadel_shows(row: dict[str, Any]) -> settings_pb2.EmailProvider:
    """What ZITADEL's read model must show of a 0001 row."""
    shown = settings_pb2.EmailProvider(
        details=object_pb2.ObjectDetails(
            sequence=row["sequence"],
            creation_date=_timestamp(row["created_us"]),
            change_date=_timestamp(row["changed_us"]),
            resource_owner=INSTANCE,
        ),
        id=row["id"],
        state=row["state"],
        description=row["description"],
    )
    if row["kind"] == "http":
        shown.http.endpoint = row["endpoint"]
        return shown
    shown.smtp.CopyFrom(
        settings_pb2.EmailProviderSMTP(
            sender_address=row["sender_address"],
            sender_name=row["sender_name"],
            tls=row["tls"],
            host=row["host"],
            user=row["smtp_user"],
            reply_to_address=row["reply_to_address"],
        )
    )
    if row["auth"] == "plain":
        shown.smtp.plain.SetInParent()
    elif row["auth"] == "xoauth2":
        shown.smtp.xoauth2.token_endpoint = row["token_endpoint"]
        shown.smtp.xoauth2.scopes.extend(row["scopes"])
        shown.smtp.xoauth2.client_credentials.client_id = row["client_id"]
    else:
        shown.smtp.none.SetInParent()
    return shown


async def test_a_0001_database_with_rows_upgrades_and_serves_them_as_before(
    empty_env: dict[str, str], mailbox: tuple[Mailbox, int]
) -> None:
    received, smtp_port = mailbox
    env = {
        **empty_env,
        "MAILGATE_OUTBOUND_ALLOW": "127.0.0.0/8,::1/128",
        "MAILGATE_SMTP_HELO_NAME": "gw.test",
    }
    settings = Settings.from_env(env)
    box = SecretBox(load_master_key(settings))
    rows, made = _rows(box, smtp_port), _tokens()
    token_rows = [row for _, row in made.values()]
    db = Database(settings)
    try:
        async with db.engine.connect() as conn:
            await conn.run_sync(_fill_0001, rows, token_rows)
            await conn.commit()
        await migrate(db)  # as every start does
        async with db.engine.connect() as conn:
            found, stored, sequence = await conn.run_sync(_read_back)
        # The invariant survived the upgrade (SQLite rebuilds the table for 0002).
        with pytest.raises(IntegrityError):
            async with db.write() as conn:
                await conn.execute(update(providers).where(providers.c.id == NONE_ID).values(state=1))
    finally:
        await db.close()

    assert found == sorted(({**row, **NEW_COLUMNS} for row in rows), key=lambda row: row["id"])
    assert stored == sorted(token_rows, key=lambda row: row["id"])
    assert sequence == SEQUENCE

    server = await start_server(env)
    try:
        # The server's own key opens what was sealed under 0001 (the password: see the test email).
        by_id = {row["id"]: row for row in found}
        opened = [
            server.services.box.open(
                by_id[XOAUTH2_ID]["client_secret_sealed"], f"{INSTANCE}/{XOAUTH2_ID}/client_secret"
            ),
            server.services.box.open(
                by_id[HTTP_ID]["signing_key_sealed"], f"{INSTANCE}/{HTTP_ID}/signing_key"
            ),
        ]
        assert opened == [CLIENT_SECRET, SIGNING_KEY]
        await _served_as_before(server.stub, server.http_base, made, rows, received)
    finally:
        await server.close()


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def _served_as_before(
    stub: Any,
    http_base: str,
    made: dict[str, tuple[str, dict[str, Any]]],
    rows: list[dict[str, Any]],
    received: Mailbox,
) -> None:
    writer, reader, revoked = (_bearer(made[role][0]) for role in ("writer", "reader", "revoked"))
    expected = {row["id"]: _as_zitadel_shows(row) for row in rows}

    listed = await stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=reader)
    assert {shown.id: shown for shown in listed.result} == expected
    assert (listed.details.total_result, listed.details.processed_sequence) == (len(rows), SEQUENCE)
    for provider_id, shown in expected.items():
        got = await stub.GetEmailProviderById(pb.GetEmailProviderByIdRequest(id=provider_id), metadata=reader)
        assert got.config == shown
    assert (await stub.GetEmailProvider(pb.GetEmailProviderRequest(), metadata=reader)).config.id == PLAIN_ID

    # Okta's API shows the new column's default for the client-credentials provider.
    async with httpx.AsyncClient(base_url=http_base, timeout=10) as http:
        okta = await http.get(
            f"/api/v1/email-servers/{XOAUTH2_ID}", headers={"Authorization": f"SSWS {made['writer'][0]}"}
        )
    assert okta.status_code == 200, okta.text
    assert (okta.json()["authType"], okta.json()["tokenEndpointAuthMethod"]) == (
        "OAUTH2_CLIENT_CREDENTIALS",
        "CLIENT_SECRET_BASIC",
    )

    # The stored password still opens: a test email authenticates with it.
    await stub.TestEmailProviderSMTPById(
        pb.TestEmailProviderSMTPByIdRequest(id=PLAIN_ID, receiver_address="admin@acme.example"),
        metadata=writer,
        timeout=30,
    )
    assert [message.rcpt_tos for message in received.messages] == [["admin@acme.example"]]

    # Tokens keep their permission; the revoked one stays revoked.
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stub.AddEmailProviderHTTP(
            pb.AddEmailProviderHTTPRequest(endpoint="https://x.example"), metadata=reader
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=revoked)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    # Writes go on from the stored sequence, and activation keeps one active provider.
    activated = await stub.ActivateEmailProvider(
        pb.ActivateEmailProviderRequest(id=XOAUTH2_ID), metadata=writer
    )
    assert activated.details.sequence == SEQUENCE + 1
    listed = await stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=reader)
    active = [shown.id for shown in listed.result if shown.state == settings_pb2.EMAIL_PROVIDER_ACTIVE]
    assert active == [XOAUTH2_ID]
