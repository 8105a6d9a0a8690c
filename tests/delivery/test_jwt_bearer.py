"""The JWT-bearer grant: an RS256 assertion verified by a real token endpoint, caching, bad keys."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mailgate.config import Settings
from mailgate.delivery.oauth import TokenCache, TokenError
from mailgate.delivery.policy import OutboundPolicy
from mailgate.providers.auth import JwtBearer
from mailgate.providers.sealing import Secret
from tests.delivery.conftest import fake_resolver
from tests.fixtures.credentials import (
    JWT_AUDIENCE,
    JWT_BEARER,
    JWT_CLIENT_ID,
    JWT_ISSUER,
    JWT_KEY_ID,
    JWT_SCOPE,
    USER,
)
from tests.fixtures.oauth import RsaKey, TokenEndpoint, jwt_bearer_auth


def cache(settings: Settings) -> TokenCache:
    return TokenCache(settings, OutboundPolicy(settings, resolver=fake_resolver))


def jwt_grant(endpoint: TokenEndpoint, key: str, **changes: str) -> JwtBearer[Secret]:
    return replace(jwt_bearer_auth(endpoint.url(), Secret(key)), **changes)


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, password: bytes | None = None) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    raw = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return raw.decode()


async def test_signed_assertion_is_exchanged_for_a_token(
    settings: Settings, token_endpoint: TokenEndpoint, rsa_key: RsaKey
) -> None:
    before = int(time.time())
    token = await cache(settings).token(jwt_grant(token_endpoint, rsa_key.pem))
    assert token in token_endpoint.issued
    [request] = token_endpoint.requests
    # Exactly the RFC 7523 form: no client secret, no Basic header.
    assert set(request["form"]) == {"grant_type", "assertion"}
    assert request["form"]["grant_type"] == JWT_BEARER
    assert request["authorization"] == ""
    # The endpoint verified the signature with the public key; these are the verified contents.
    [(header, claims)] = token_endpoint.assertions
    assert header == {"alg": "RS256", "kid": JWT_KEY_ID, "typ": "JWT"}
    assert (claims["iss"], claims["sub"], claims["aud"], claims["scope"]) == (
        JWT_ISSUER,
        USER,
        JWT_AUDIENCE,
        JWT_SCOPE,
    )
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 3600


async def test_multiple_scopes_are_space_joined(
    settings: Settings, token_endpoint: TokenEndpoint, rsa_key: RsaKey
) -> None:
    scopes = (JWT_SCOPE, "https://www.googleapis.com/auth/gmail.send")
    token_endpoint.jwt_expect["scope"] = " ".join(scopes)
    await cache(settings).token(replace(jwt_grant(token_endpoint, rsa_key.pem), scopes=scopes))
    assert token_endpoint.assertions[0][1]["scope"] == " ".join(scopes)


async def test_tokens_are_cached_per_subject_and_key(
    settings: Settings, token_endpoint: TokenEndpoint, rsa_key: RsaKey, other_rsa_key: RsaKey
) -> None:
    tokens = cache(settings)
    first = await tokens.token(jwt_grant(token_endpoint, rsa_key.pem))
    assert await tokens.token(jwt_grant(token_endpoint, rsa_key.pem)) == first
    assert len(token_endpoint.requests) == 1
    # Another mailbox is another delegation: a token of its own.
    token_endpoint.jwt_expect["sub"] = "bob@example.com"
    assert await tokens.token(jwt_grant(token_endpoint, rsa_key.pem, subject="bob@example.com")) != first
    # Another key is never answered from the cache: the endpoint sees it (and refuses it).
    with pytest.raises(TokenError, match="invalid_grant"):
        await tokens.token(jwt_grant(token_endpoint, other_rsa_key.pem, subject="bob@example.com"))
    assert len(token_endpoint.requests) == 3


async def test_untrusted_key_is_refused_without_leaking_the_assertion(
    settings: Settings, token_endpoint: TokenEndpoint, other_rsa_key: RsaKey
) -> None:
    with pytest.raises(TokenError, match="400: invalid_grant: invalid JWT: InvalidSignatureError") as info:
        await cache(settings).token(jwt_grant(token_endpoint, other_rsa_key.pem))
    assertion = token_endpoint.requests[0]["form"]["assertion"]
    assert assertion not in info.value.detail
    assert token_endpoint.assertions == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [({"key_id": "unknown-kid"}, "KeyError"), ({"audience": "https://elsewhere"}, "InvalidAudienceError")],
)
async def test_endpoint_checks_kid_and_audience(
    settings: Settings, token_endpoint: TokenEndpoint, rsa_key: RsaKey, change: dict[str, str], problem: str
) -> None:
    with pytest.raises(TokenError, match=problem):
        await cache(settings).token(jwt_grant(token_endpoint, rsa_key.pem, **change))


async def test_error_text_echoing_the_assertion_is_redacted(
    settings: Settings, token_endpoint: TokenEndpoint, rsa_key: RsaKey
) -> None:
    token_endpoint.echo = True
    with pytest.raises(TokenError, match=r"got \[redacted\]$") as info:
        await cache(settings).token(jwt_grant(token_endpoint, rsa_key.pem))
    assert token_endpoint.requests[0]["form"]["assertion"] not in info.value.detail


async def test_key_pasted_with_escaped_newlines_works(
    settings: Settings, token_endpoint: TokenEndpoint, rsa_key: RsaKey
) -> None:
    # As it appears inside a Google service-account JSON file.
    escaped = rsa_key.pem.replace("\n", "\\n")
    assert await cache(settings).token(jwt_grant(token_endpoint, escaped)) in token_endpoint.issued


def _bad_keys() -> list[tuple[str, str]]:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return [
        ("not a key at all", "not a PEM-encoded RSA private key"),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "not a PEM-encoded RSA private key",
        ),
        (pem(ec.generate_private_key(ec.SECP256R1())), "not an RSA key"),
        (pem(short), "has 1024 bits; RS256 needs at least 2048"),
    ]


@pytest.mark.parametrize(("key", "problem"), _bad_keys())
async def test_unusable_keys_fail_before_any_request(
    settings: Settings, token_endpoint: TokenEndpoint, key: str, problem: str
) -> None:
    with pytest.raises(TokenError, match=problem) as info:
        await cache(settings).token(jwt_grant(token_endpoint, key))
    assert key.strip() not in info.value.detail
    assert token_endpoint.requests == []


async def test_encrypted_key_says_so(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(TokenError, match="encrypted; store it without a passphrase"):
        await cache(settings).token(jwt_grant(token_endpoint, pem(key, b"passphrase")))
    assert token_endpoint.requests == []


def test_grant_repr_hides_the_key(rsa_key: RsaKey) -> None:
    key = Secret(rsa_key.pem)
    claims = (JWT_KEY_ID, JWT_ISSUER, USER, JWT_AUDIENCE)
    grant = JwtBearer(JWT_CLIENT_ID, "https://t", "RS256", *claims, (), key)
    assert "PRIVATE KEY" not in repr(grant)
