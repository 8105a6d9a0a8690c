"""PATCH changes only what it names; a stored secret never follows a changed destination (9.6)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.providers.sealing import secret_context
from tests.fixtures.oauth import RsaKey
from tests.fixtures.rpc import Admin, plain
from tests.fixtures.servers import RunningServer
from tests.okta.conftest import Okta, assert_error, basic, causes, served

from .test_auth_types import client_credentials, jwt_bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")

REENTRY = "MG-SECRET-REENTRY"


async def _sealed(server: RunningServer, provider_id: str) -> dict[str, str | None]:
    async with server.services.db.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT password_sealed, client_secret_sealed, private_key_sealed FROM email_providers "
                    "WHERE instance_id = :instance AND id = :id"
                ),
                {"instance": server.instance, "id": provider_id},
            )
        ).one()
    return dict(row._mapping)


def _password(server: RunningServer, provider_id: str, sealed: str | None) -> str:
    assert sealed is not None
    return server.services.box.open(sealed, secret_context(server.instance, provider_id, "password"))


def _reentry(response: httpx.Response) -> None:
    error = assert_error(response, 400, "E0000001")
    assert [REENTRY in cause for cause in causes(error)] == [True]


async def test_alias_only(okta: Okta, server: RunningServer) -> None:
    created = await okta.add(basic())
    before = await _sealed(server, created["id"])
    response = await okta.patch(created["id"], {"alias": "new name"})
    assert response.json() == {**created, "alias": "new name"}
    assert await _sealed(server, created["id"]) == before  # the password was not touched


async def test_password_only(okta: Okta, server: RunningServer) -> None:
    created = await okta.add(basic())
    response = await okta.patch(created["id"], {"password": "pw-rotated-2"})
    assert response.json() == created and "pw-rotated-2" not in response.text
    sealed = (await _sealed(server, created["id"]))["password_sealed"]
    assert _password(server, created["id"], sealed) == "pw-rotated-2"


async def test_enabled_only(okta: Okta) -> None:
    created = await okta.add(basic())
    response = await okta.patch(created["id"], {"enabled": True})
    assert response.json() == {**created, "enabled": True}


async def test_empty_patch_changes_nothing(okta: Okta) -> None:
    created = await okta.add(basic())
    response = await okta.patch(created["id"], {})
    assert (response.status_code, response.json()) == (200, created)


@pytest.mark.parametrize("change", [{"host": "evil.example.com"}, {"port": 2525}, {"username": "someone"}])
async def test_destination_change_without_the_password_is_refused(
    okta: Okta, change: dict[str, object]
) -> None:
    created = await okta.add(basic())
    _reentry(await okta.patch(created["id"], change))
    assert served(await okta.get(created["id"])) == created


async def test_destination_change_with_the_password(okta: Okta, server: RunningServer) -> None:
    created = await okta.add(basic())
    change = {"host": "smtp2.example.com", "port": 465, "username": "other", "password": "pw-new-3"}
    response = await okta.patch(created["id"], change)
    assert response.status_code == 200, response.text
    assert response.json() == {**created, "host": "smtp2.example.com", "port": 465, "username": "other"}
    sealed = (await _sealed(server, created["id"]))["password_sealed"]
    assert _password(server, created["id"], sealed) == "pw-new-3"


async def test_same_host_and_port_are_no_change(okta: Okta) -> None:
    created = await okta.add(basic())
    response = await okta.patch(
        created["id"], {"host": "smtp.example.com", "port": 587, "username": "mailer"}
    )
    assert (response.status_code, response.json()) == (200, created)


async def test_token_endpoint_or_client_id_change_needs_the_client_secret(okta: Okta) -> None:
    created = await okta.add(client_credentials())
    kind = {"authType": "OAUTH2_CLIENT_CREDENTIALS"}
    _reentry(await okta.patch(created["id"], {**kind, "tokenEndpoint": "https://evil.example.com/token"}))
    _reentry(await okta.patch(created["id"], {**kind, "clientId": "another-client"}))
    changed = await okta.patch(
        created["id"], {**kind, "tokenEndpoint": "https://login2.example.com/token", "clientSecret": "cs-2"}
    )
    assert changed.json()["tokenEndpoint"] == "https://login2.example.com/token"


async def test_jwt_host_change_needs_the_private_key(okta: Okta, rsa_key: RsaKey) -> None:
    created = await okta.add(jwt_bearer(rsa_key))
    _reentry(await okta.patch(created["id"], {"host": "smtp.evil.example.com"}))
    moved = await okta.patch(created["id"], {"host": "smtp-relay.gmail.com", "privateKey": rsa_key.pem})
    assert moved.json() == {**created, "host": "smtp-relay.gmail.com"}
    # Claims and scopes are no destination: they change without the key.
    subject = await okta.patch(created["id"], {"subject": "bob@example.com", "scopes": ["a"]})
    assert subject.json() == {
        **created,
        "host": "smtp-relay.gmail.com",
        "subject": "bob@example.com",
        "scopes": ["a"],
    }


async def test_a_provider_without_auth_takes_any_destination(okta: Okta, zitadel: Admin) -> None:
    provider_id = await zitadel.add_smtp(none=pb.SMTPNoAuth())
    response = await okta.patch(provider_id, {"host": "relay.internal", "port": 25})
    assert response.status_code == 200, response.text
    assert response.json()["host"] == "relay.internal"
    with_password = await okta.patch(provider_id, {"username": "u", "password": "pw-first-4"})
    assert with_password.json()["username"] == "u"
    config = await zitadel.get(provider_id)
    assert config.smtp.WhichOneof("Auth") == "plain" and config.smtp.host == "relay.internal:25"


async def test_zitadel_made_password_provider_follows_the_same_rule(okta: Okta, zitadel: Admin) -> None:
    provider_id = await zitadel.add_smtp(user="mailer", plain=plain("pw-zitadel-5"))
    _reentry(await okta.patch(provider_id, {"host": "evil.example.com"}))
    assert (await okta.patch(provider_id, {"alias": "kept"})).status_code == 200


async def test_invalid_patch_values(okta: Okta) -> None:
    created = await okta.add(basic())
    error = assert_error(
        await okta.patch(created["id"], {"port": "587", "enabled": 1, "alias": None, "host": "a b"}),
        400,
        "E0000001",
    )
    assert causes(error) == [
        "host: must be a host name or IP address, without the port (send it as port)",
        "port: must be an integer from 1 to 65535",
        "enabled: must be true or false",
    ]
