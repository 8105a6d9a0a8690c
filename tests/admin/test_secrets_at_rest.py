"""Secrets at rest (issue item 6) and never in answers (9.13)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.providers.sealing import secret_context
from mailgate.secrets import SecretBox, SecretError, key_id
from tests.fixtures.rpc import Admin, plain, rotate_now, smtp_update, xoauth2
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOST_MARK = "smtp-at-rest.example.com:587"  # proves the search looks where providers are stored


@dataclass
class Stored:
    """Providers holding every kind of secret, and the secrets themselves."""

    smtp_id: str
    xoauth2_id: str
    http_id: str
    secrets: list[str]


async def _store_secrets(admin: Admin) -> Stored:
    tag = secrets.token_hex(6)
    password = f"Pw-{tag}-first"
    second_password = f"Pw-{tag}-second"
    legacy_password = f"Pw-{tag}-legacy"
    client_secret = f"Cs-{tag}-client"
    smtp_id = await admin.add_smtp(host=HOST_MARK, user="mailer", plain=plain(password))
    await admin(
        "UpdateEmailProviderSMTPPassword",
        pb.UpdateEmailProviderSMTPPasswordRequest(id=smtp_id, password=second_password),
    )
    legacy = await admin(
        "AddSMTPConfig",
        pb.AddSMTPConfigRequest(
            sender_address="a@example.com", sender_name="A", host=HOST_MARK, password=legacy_password
        ),
    )
    xoauth2_id = await admin.add_smtp(
        host=HOST_MARK, user="mailer", xoauth2=xoauth2(client_secret=client_secret)
    )
    added = await admin(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="https://relay.example.com/h")
    )
    rotated = await admin(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(
            id=added.id, endpoint="https://relay.example.com/h", expiration_signing_key=rotate_now()
        ),
    )
    await admin.activate(smtp_id)
    assert legacy.id
    return Stored(
        smtp_id,
        xoauth2_id,
        added.id,
        [password, second_password, legacy_password, client_secret, added.signing_key, rotated.signing_key],
    )


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), raw.hex().encode()]


def _leaks(blob: bytes, stored: Stored) -> list[str]:
    return [secret for secret in stored.secrets if any(form in blob for form in _forms(secret))]


async def _database_text(server: RunningServer) -> bytes:
    """Every row of every table of the PostgreSQL database, as text."""
    async with server.services.db.engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
                "FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
        )
        tables = found.scalars().all()
        assert "public.email_providers" in tables
        dump = []
        for table in tables:
            rows = await conn.execute(text(f"SELECT t::text FROM {table} t"))
            dump.extend(row[0] for row in rows)
    return "\n".join(dump).encode()


async def test_secrets_are_not_in_the_database(admin: Admin, server: RunningServer, backend: str) -> None:
    stored = await _store_secrets(admin)
    await admin("ListEmailProviders", pb.ListEmailProvidersRequest())

    if backend == "sqlite":
        data_dir = server.services.settings.data_dir
        files = sorted(p for p in data_dir.iterdir() if p.is_file())
        assert {"mailgate.db", "mailgate.db-wal"} <= {p.name for p in files}
        blob = b"".join(p.read_bytes() for p in files)
    else:
        blob = await _database_text(server)

    assert HOST_MARK.encode() in blob  # the providers are in what was searched
    assert _leaks(blob, stored) == []


async def test_stored_secrets_are_sealed_with_the_key_id_and_bound_to_their_row(
    admin: Admin, server: RunningServer
) -> None:
    stored = await _store_secrets(admin)
    async with server.services.db.engine.connect() as conn:
        rows = {
            row.id: row
            for row in await conn.execute(
                text(
                    "SELECT id, password_sealed, client_secret_sealed, signing_key_sealed "
                    "FROM email_providers WHERE instance_id = :instance"
                ),
                {"instance": server.instance},
            )
        }
    box: SecretBox = server.services.box
    instance = server.instance
    password_sealed = rows[stored.smtp_id].password_sealed

    assert key_id(server.services.settings.master_key or _key_file(server)) in password_sealed
    assert (
        box.open(password_sealed, secret_context(instance, stored.smtp_id, "password")) == stored.secrets[1]
    )
    client_secret = box.open(
        rows[stored.xoauth2_id].client_secret_sealed,
        secret_context(instance, stored.xoauth2_id, "client_secret"),
    )
    assert client_secret == stored.secrets[3]
    signing_key = box.open(
        rows[stored.http_id].signing_key_sealed, secret_context(instance, stored.http_id, "signing_key")
    )
    assert signing_key == stored.secrets[5]  # the rotated key replaced the first one
    # A sealed value copied to another row, instance or field does not open.
    for context in (
        secret_context(instance, stored.xoauth2_id, "password"),
        secret_context(instance + "-other", stored.smtp_id, "password"),
        secret_context(instance, stored.smtp_id, "client_secret"),
    ):
        with pytest.raises(SecretError):
            box.open(password_sealed, context)


def _key_file(server: RunningServer) -> bytes:
    path = server.services.settings.data_dir / "master.key"
    return base64.b64decode(path.read_text().strip())


async def test_reads_never_return_secrets(admin: Admin, reader: Admin) -> None:
    stored = await _store_secrets(admin)
    answers: list[bytes] = []
    for caller in (admin, reader):
        for rpc, request in (
            ("ListEmailProviders", pb.ListEmailProvidersRequest()),
            ("ListSMTPConfigs", pb.ListSMTPConfigsRequest()),
            ("GetEmailProvider", pb.GetEmailProviderRequest()),
            ("GetSMTPConfig", pb.GetSMTPConfigRequest()),
        ):
            answers.append((await caller(rpc, request)).SerializeToString())
        for provider_id in (stored.smtp_id, stored.xoauth2_id, stored.http_id):
            answers.append(
                (
                    await caller("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=provider_id))
                ).SerializeToString()
            )
            answers.append(
                (
                    await caller("GetSMTPConfigById", pb.GetSMTPConfigByIdRequest(id=provider_id))
                ).SerializeToString()
            )

    blob = b"\n".join(answers)
    assert blob.count(HOST_MARK.encode()) >= 10  # the answers describe the providers
    assert _leaks(blob, stored) == []


async def test_writes_answer_no_secret_but_the_new_signing_key(admin: Admin) -> None:
    password = "Pw-" + secrets.token_hex(8)
    added = await admin(
        "AddEmailProviderSMTP",
        pb.AddEmailProviderSMTPRequest(
            sender_address="a@example.com", sender_name="A", host=HOST_MARK, user="u", plain=plain(password)
        ),
    )
    answers = [
        added,
        await admin(
            "UpdateEmailProviderSMTP",
            smtp_update(added.id, host=HOST_MARK, user="u", plain=plain(password + "2")),
        ),
        await admin(
            "UpdateEmailProviderSMTPPassword",
            pb.UpdateEmailProviderSMTPPasswordRequest(id=added.id, password=password + "3"),
        ),
        await admin.activate(added.id),
    ]
    http = await admin(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="https://relay.example.com/h")
    )
    kept = await admin(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(id=http.id, endpoint="https://relay.example.com/g"),
    )

    blob = b"\n".join(answer.SerializeToString() for answer in answers)
    assert password.encode() not in blob
    assert http.signing_key and not kept.HasField("signing_key")
    assert http.signing_key.encode() not in kept.SerializeToString()
