"""authType: each variant's fields, required fields, write-only secrets, switching on PATCH."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.credentials import (
    CLIENT_ID,
    CLIENT_SECRET,
    JWT_AUDIENCE,
    JWT_CLIENT_ID,
    JWT_ISSUER,
    JWT_KEY_ID,
    JWT_SCOPE,
    SCOPE,
    USER,
)
from tests.fixtures.oauth import RsaKey
from tests.okta.conftest import Okta, assert_error, basic, causes, served

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN_URL = "https://login.example.com/oauth2/v2.0/token"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


def client_credentials(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alias": "Microsoft 365",
        "host": "smtp.office365.com",
        "port": 587,
        "username": USER,
        "enabled": False,
        "authType": "OAUTH2_CLIENT_CREDENTIALS",
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "tokenEndpoint": TOKEN_URL,
        "tokenEndpointAuthMethod": "CLIENT_SECRET_POST",
        "scopes": [SCOPE],
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def jwt_bearer(key: RsaKey, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alias": "Google Workspace",
        "host": "smtp.gmail.com",
        "port": 465,
        "username": USER,
        "enabled": False,
        "authType": "OAUTH2_JWT_BEARER_GRANT",
        "clientId": JWT_CLIENT_ID,
        "tokenEndpoint": GOOGLE_TOKEN_URL,
        "signingAlgorithm": "RS256",
        "keyId": JWT_KEY_ID,
        "issuer": JWT_ISSUER,
        "subject": USER,
        "audience": JWT_AUDIENCE,
        "scopes": [JWT_SCOPE],
        "privateKey": key.pem,
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in names}


async def test_client_credentials_round_trip_without_the_secret(okta: Okta) -> None:
    response = await okta.create(client_credentials())
    assert response.status_code == 201
    created = response.json()
    assert without(created, "id") == without(client_credentials(), "clientSecret")
    assert CLIENT_SECRET not in response.text
    got = await okta.get(created["id"])
    assert served(got) == created and CLIENT_SECRET not in got.text


async def test_jwt_bearer_round_trip_without_the_private_key(okta: Okta, rsa_key: RsaKey) -> None:
    response = await okta.create(jwt_bearer(rsa_key))
    assert response.status_code == 201, response.text
    created = response.json()
    assert without(created, "id") == without(jwt_bearer(rsa_key), "privateKey")
    listed = await okta.list()
    for text in (response.text, listed.text):
        assert "PRIVATE KEY" not in text and rsa_key.pem.splitlines()[1] not in text


async def test_basic_is_the_default_auth_type(okta: Okta) -> None:
    created = await okta.add(basic(authType=None))  # older SDKs never send authType
    assert created["authType"] == "BASIC_SMTP_AUTH"
    assert "password" not in created


async def test_enabled_defaults_to_false(okta: Okta) -> None:
    created = await okta.add(basic(enabled=None))
    assert created["enabled"] is False


@pytest.mark.parametrize(
    ("auth_type", "required"),
    [
        ("BASIC_SMTP_AUTH", ["password"]),
        (
            "OAUTH2_CLIENT_CREDENTIALS",
            ["clientId", "clientSecret", "tokenEndpoint", "tokenEndpointAuthMethod", "scopes"],
        ),
        (
            "OAUTH2_JWT_BEARER_GRANT",
            [
                "clientId",
                "tokenEndpoint",
                "scopes",
                "signingAlgorithm",
                "keyId",
                "issuer",
                "subject",
                "audience",
                "privateKey",
            ],
        ),
    ],
)
async def test_each_variant_requires_all_its_fields(okta: Okta, auth_type: str, required: list[str]) -> None:
    body = {"alias": "a", "host": "smtp.example.com", "port": 587, "username": "u", "authType": auth_type}
    error = assert_error(await okta.create(body), 400, "E0000001")
    assert causes(error) == [f"{name}: is required for authType {auth_type}" for name in required]
    assert (await okta.list()).json() == {"email-servers": []}


async def test_every_invalid_field_is_one_cause(okta: Okta) -> None:
    body = {
        "alias": "",
        "host": "smtp.example.com:587",
        "port": 70000,
        "enabled": "yes",
        "authType": "OAUTH2_CLIENT_CREDENTIALS",
        "clientId": 7,
        "clientSecret": "s",
        "tokenEndpoint": "ftp://example.com/token",
        "tokenEndpointAuthMethod": "PRIVATE_KEY_JWT",
        "scopes": [],
        "password": "pw",
    }
    error = assert_error(await okta.create(body), 400, "E0000001")
    assert causes(error) == [
        "username: is required",
        "alias: length must be between 1 and 200 characters",
        "host: must be a host name or IP address, without the port (send it as port)",
        "port: must be an integer from 1 to 65535",
        "enabled: must be true or false",
        "tokenEndpointAuthMethod: must be one of CLIENT_SECRET_BASIC, CLIENT_SECRET_POST",
        "clientId: must be a string",
        "tokenEndpoint: must be an http or https URL",
        "scopes: must be a list of 1 to 20 scopes",
        "password: does not belong to authType OAUTH2_CLIENT_CREDENTIALS",
    ]
    assert error["errorSummary"] == "Api validation failed: username: is required"


async def test_bad_values_of_the_jwt_variant(okta: Okta, rsa_key: RsaKey) -> None:
    body = jwt_bearer(
        rsa_key, signingAlgorithm="HS256", privateKey="-----BEGIN PRIVATE KEY-----\nnope\n", scopes=[""]
    )
    error = assert_error(await okta.create(body), 400, "E0000001")
    assert causes(error) == [
        "scopes[0]: length must be between 1 and 100 characters",
        "signingAlgorithm: must be one of RS256",
        "privateKey: the private key is not a PEM-encoded RSA private key",
    ]


async def test_unknown_auth_type(okta: Okta) -> None:
    error = assert_error(await okta.create(basic(authType="NTLM")), 400, "E0000001")
    assert causes(error) == [
        "authType: must be one of BASIC_SMTP_AUTH, OAUTH2_CLIENT_CREDENTIALS, OAUTH2_JWT_BEARER_GRANT"
    ]


async def test_ipv6_hosts(okta: Okta) -> None:
    for given in ("2001:db8::25", "[2001:db8::25]"):
        created = await okta.add(basic(host=given, port=25))
        assert (created["host"], created["port"]) == ("2001:db8::25", 25)


async def test_switching_auth_type_needs_that_variants_fields(okta: Okta, rsa_key: RsaKey) -> None:
    created = await okta.add(basic())
    refused = await okta.patch(
        created["id"], {"authType": "OAUTH2_CLIENT_CREDENTIALS", "clientId": CLIENT_ID, "scopes": [SCOPE]}
    )
    error = assert_error(refused, 400, "E0000001")
    assert causes(error) == [
        "clientSecret: is required to switch authType",
        "tokenEndpoint: is required to switch authType",
        "tokenEndpointAuthMethod: is required to switch authType",
    ]
    assert served(await okta.get(created["id"])) == created

    switch = without(client_credentials(), "alias", "host", "port", "username", "enabled")
    switched = await okta.patch(created["id"], switch)
    assert switched.status_code == 200, switched.text
    assert without(switched.json(), "id") == without(
        {
            **client_credentials(),
            "alias": created["alias"],
            "host": created["host"],
            "port": 587,
            "username": created["username"],
        },
        "clientSecret",
    )

    to_jwt = without(jwt_bearer(rsa_key), "alias", "host", "port", "username", "enabled")
    assert (await okta.patch(created["id"], to_jwt)).json()["authType"] == "OAUTH2_JWT_BEARER_GRANT"
    back = await okta.patch(created["id"], {"authType": "BASIC_SMTP_AUTH"})
    assert causes(assert_error(back, 400, "E0000001")) == ["password: is required to switch authType"]
    basic_again = await okta.patch(created["id"], {"authType": "BASIC_SMTP_AUTH", "password": "pw-2"})
    assert without(basic_again.json(), "id") == without(created, "id")


async def test_fields_of_another_auth_type_are_refused_on_patch(okta: Okta) -> None:
    created = await okta.add(client_credentials())
    error = assert_error(await okta.patch(created["id"], {"password": "pw"}), 400, "E0000001")
    assert causes(error) == ["password: does not belong to this authType"]


async def test_patch_of_oauth_fields_keeps_the_rest(okta: Okta) -> None:
    created = await okta.add(client_credentials())
    patched = await okta.patch(
        created["id"],
        {
            "authType": "OAUTH2_CLIENT_CREDENTIALS",
            "scopes": ["a", "b"],
            "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC",
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json() == {
        **created,
        "scopes": ["a", "b"],
        "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC",
    }
