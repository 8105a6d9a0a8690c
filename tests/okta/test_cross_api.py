"""One provider, two APIs: what Okta's API makes ZITADEL's shows and edits, and the other way round."""

from __future__ import annotations

import grpc
import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy import text

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.credentials import JWT_AUDIENCE, JWT_CLIENT_ID, JWT_ISSUER, JWT_KEY_ID, JWT_SCOPE, USER
from tests.fixtures.oauth import RsaKey
from tests.fixtures.rpc import ACTIVE, Admin, plain, smtp_update, xoauth2
from tests.fixtures.servers import RunningServer
from tests.okta.conftest import Okta, basic, served

from .test_auth_types import GOOGLE_TOKEN_URL, client_credentials, jwt_bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_okta_made_basic_server_through_zitadel(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(basic(enabled=True))
    config = await zitadel.get(created["id"])
    assert config.description == "Primary relay" and config.state == ACTIVE
    smtp = config.smtp
    assert (smtp.host, smtp.user, smtp.tls) == ("smtp.example.com:587", "mailer", True)
    assert (smtp.sender_address, smtp.sender_name) == ("", "")  # Okta has none
    assert smtp.WhichOneof("Auth") == "plain"
    listed = await zitadel.listing()
    assert [p.id for p in listed.result] == [created["id"]]


async def test_okta_made_ipv6_server_through_zitadel(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(basic(host="2001:db8::25", port=25))
    assert (await zitadel.get(created["id"])).smtp.host == "[2001:db8::25]:25"


async def test_jwt_bearer_server_through_zitadel_grpc_and_json(
    okta: Okta, zitadel: Admin, server: RunningServer, http: httpx.AsyncClient, rsa_key: RsaKey
) -> None:
    created = await okta.add(jwt_bearer(rsa_key))
    config = await zitadel.get(created["id"])
    xo = config.smtp.xoauth2
    assert config.smtp.WhichOneof("Auth") == "xoauth2" and xo.WhichOneof("OAuth2Type") == "jwt_bearer"
    assert (xo.token_endpoint, list(xo.scopes)) == (GOOGLE_TOKEN_URL, [JWT_SCOPE])
    grant = xo.jwt_bearer
    assert (grant.client_id, grant.key_id, grant.issuer, grant.subject, grant.audience) == (
        JWT_CLIENT_ID,
        JWT_KEY_ID,
        JWT_ISSUER,
        USER,
        JWT_AUDIENCE,
    )
    assert grant.signing_algorithm == "RS256"
    assert b"PRIVATE KEY" not in config.SerializeToString()

    token = await server.token("iam.read")
    response = await http.get(
        f"/admin/v1/email/{created['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["config"]["smtp"]["xoauth2"] == {
        "tokenEndpoint": GOOGLE_TOKEN_URL,
        "scopes": [JWT_SCOPE],
        "jwtBearer": {
            "clientId": JWT_CLIENT_ID,
            "keyId": JWT_KEY_ID,
            "issuer": JWT_ISSUER,
            "subject": USER,
            "audience": JWT_AUDIENCE,
            "signingAlgorithm": "RS256",
        },
    }
    assert "PRIVATE KEY" not in response.text


async def test_client_credentials_server_through_zitadel(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(client_credentials())
    xo = (await zitadel.get(created["id"])).smtp.xoauth2
    assert xo.WhichOneof("OAuth2Type") == "client_credentials"
    assert xo.client_credentials.client_id == created["clientId"]
    assert json_format.MessageToDict(xo.client_credentials) == {"clientId": created["clientId"]}


async def test_zitadel_made_servers_through_okta(okta: Okta, zitadel: Admin) -> None:
    plain_id = await zitadel.add_smtp(user="mailer", plain=plain("pw-z-1"), description="plain one")
    oauth_id = await zitadel.add_smtp(
        user=USER, xoauth2=xoauth2(client_secret="cs-z-2"), description="oauth one"
    )
    none_id = await zitadel.add_smtp(user="ignored", none=pb.SMTPNoAuth(), host="[::1]:25")
    await zitadel.activate(oauth_id)
    listed = {item["id"]: item for item in (await okta.list()).json()["email-servers"]}
    assert listed[plain_id] == {
        "id": plain_id,
        "alias": "plain one",
        "enabled": False,
        "authType": "BASIC_SMTP_AUTH",
        "host": "smtp.example.com",
        "port": 587,
        "username": "mailer",
    }
    assert listed[oauth_id] == {
        "id": oauth_id,
        "alias": "oauth one",
        "enabled": True,
        "authType": "OAUTH2_CLIENT_CREDENTIALS",
        "host": "smtp.example.com",
        "port": 587,
        "username": USER,
        "clientId": "client-1",
        "tokenEndpoint": "https://login.example.com/token",
        "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC",  # ZITADEL's requests cannot say otherwise
        "scopes": ["https://outlook.office365.com/.default"],
    }
    # No auth: shown as basic auth without a username.
    assert listed[none_id] == {
        "id": none_id,
        "alias": "",
        "enabled": False,
        "authType": "BASIC_SMTP_AUTH",
        "host": "::1",
        "port": 25,
    }


async def test_zitadel_update_of_an_okta_made_server(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(basic())
    failure = await zitadel.fail(
        "TestEmailProviderSMTPById",
        pb.TestEmailProviderSMTPByIdRequest(id=created["id"], receiver_address="bob@example.com"),
    )
    assert failure.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-SENDER-MISSING")

    update = smtp_update(
        created["id"], host="smtp.example.com:587", user="mailer", tls=True, description="via zitadel"
    )
    await zitadel("UpdateEmailProviderSMTP", update)
    got = served(await okta.get(created["id"]))
    assert got == {**created, "alias": "via zitadel"}
    assert (await zitadel.get(created["id"])).smtp.sender_address == "noreply@example.com"


async def test_okta_patch_of_a_zitadel_made_server_keeps_what_okta_cannot_see(
    okta: Okta, zitadel: Admin
) -> None:
    provider_id = await zitadel.add_smtp(
        user="mailer", plain=plain("pw-z-3"), reply_to_address="help@example.com", tls=False
    )
    response = await okta.patch(provider_id, {"alias": "renamed", "enabled": True})
    assert response.status_code == 200, response.text
    config = await zitadel.get(provider_id)
    assert (config.description, config.state) == ("renamed", ACTIVE)
    smtp = config.smtp
    assert (smtp.sender_address, smtp.sender_name, smtp.reply_to_address, smtp.tls) == (
        "noreply@example.com",
        "Example",
        "help@example.com",
        False,
    )


async def test_zitadel_update_keeps_a_jwt_bearer_grant_and_its_key(
    okta: Okta, zitadel: Admin, server: RunningServer, rsa_key: RsaKey
) -> None:
    created = await okta.add(jwt_bearer(rsa_key))
    sealed_before = await _private_key_sealed(server, created["id"])
    # What a ZITADEL client sends back after reading the provider: no secret, client credentials shape.
    update = smtp_update(
        created["id"],
        host="smtp.gmail.com:465",
        user=USER,
        tls=True,
        description="with sender",
        xoauth2=xoauth2(token_endpoint=GOOGLE_TOKEN_URL, client_id=JWT_CLIENT_ID, scopes=(JWT_SCOPE,)),
    )
    await zitadel("UpdateEmailProviderSMTP", update)
    assert served(await okta.get(created["id"])) == {**created, "alias": "with sender"}
    assert await _private_key_sealed(server, created["id"]) == sealed_before

    # Sending a client secret through ZITADEL's API switches it to client credentials.
    switch = smtp_update(
        created["id"],
        host="smtp.gmail.com:465",
        user=USER,
        tls=True,
        xoauth2=xoauth2(token_endpoint=GOOGLE_TOKEN_URL, client_id=JWT_CLIENT_ID, client_secret="cs-new"),
    )
    await zitadel("UpdateEmailProviderSMTP", switch)
    assert served(await okta.get(created["id"]))["authType"] == "OAUTH2_CLIENT_CREDENTIALS"
    assert await _private_key_sealed(server, created["id"]) is None


async def test_zitadel_update_keeps_the_token_endpoint_auth_method(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(client_credentials(host="smtp.office365.com"))
    assert created["tokenEndpointAuthMethod"] == "CLIENT_SECRET_POST"
    update = smtp_update(
        created["id"],
        host="smtp.office365.com:587",
        user=USER,
        tls=True,
        xoauth2=xoauth2(token_endpoint=created["tokenEndpoint"], client_id=created["clientId"]),
    )
    await zitadel("UpdateEmailProviderSMTP", update)
    assert served(await okta.get(created["id"]))["tokenEndpointAuthMethod"] == "CLIENT_SECRET_POST"


async def test_zitadel_delete_and_activation_show_on_okta(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(basic())
    await zitadel.activate(created["id"])
    assert served(await okta.get(created["id"]))["enabled"] is True
    await zitadel("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=created["id"]))
    assert (await okta.get(created["id"])).status_code == 404


async def _private_key_sealed(server: RunningServer, provider_id: str) -> str | None:
    async with server.services.db.engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT private_key_sealed FROM email_providers WHERE instance_id = :i AND id = :id"),
            {"i": server.instance, "id": provider_id},
        )
    return None if value is None else str(value)
