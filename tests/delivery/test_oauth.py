"""XOAUTH2 access tokens: a real HTTPS token endpoint, caching, client authentication, failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from mailgate.config import Settings
from mailgate.delivery.oauth import TokenCache, TokenError
from mailgate.delivery.policy import OutboundPolicy, PolicyRefused
from mailgate.providers.auth import ClientCredentials, TokenEndpointAuth
from mailgate.providers.sealing import Secret
from tests.delivery.conftest import fake_resolver
from tests.fixtures.credentials import CLIENT_ID, CLIENT_SECRET, SCOPE
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.smtp import RawServer

CLIENT_SECRET_BASIC = TokenEndpointAuth.CLIENT_SECRET_BASIC
CLIENT_SECRET_POST = TokenEndpointAuth.CLIENT_SECRET_POST


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(settings: Settings, **kwargs: object) -> TokenCache:
    return TokenCache(settings, OutboundPolicy(settings, resolver=fake_resolver), **kwargs)  # type: ignore[arg-type]


def grant(
    url: str,
    secret: str = CLIENT_SECRET,
    scopes: tuple[str, ...] | list[str] = (SCOPE,),
    method: str = CLIENT_SECRET_BASIC,
) -> ClientCredentials[Secret]:
    # `method` may be one no API would store (a str): the engine refuses it itself.
    return ClientCredentials(CLIENT_ID, Secret(secret), url, method, tuple(scopes))  # type: ignore[arg-type]


async def test_token_is_cached_until_shortly_before_expiry(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    clock = Clock()
    tokens = cache(settings, clock=clock)
    url = token_endpoint.url()
    first = await tokens.token(grant(url, CLIENT_SECRET, [SCOPE]))
    assert first in token_endpoint.issued
    assert await tokens.token(grant(url, CLIENT_SECRET)) == first
    clock.now += 3600 - 61
    assert await tokens.token(grant(url, CLIENT_SECRET, [SCOPE])) == first
    clock.now += 2  # within the last minute of the token's life: renew
    assert await tokens.token(grant(url, CLIENT_SECRET, [SCOPE])) != first
    assert len(token_endpoint.requests) == 2


async def test_cache_key_includes_scopes_and_secret(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    tokens = cache(settings)
    url = token_endpoint.url()
    await tokens.token(grant(url, CLIENT_SECRET, [SCOPE]))
    await tokens.token(grant(url, CLIENT_SECRET, [SCOPE, "offline_access"]))
    with pytest.raises(TokenError):
        await tokens.token(grant(url, "another-secret"))  # never served from the cache
    assert len(token_endpoint.requests) == 3
    assert token_endpoint.requests[1]["form"]["scope"] == f"{SCOPE} offline_access"


@pytest.mark.parametrize(
    ("method", "accepted", "refused"),
    [(CLIENT_SECRET_BASIC, "basic", "body"), (CLIENT_SECRET_POST, "body", "basic")],
)
async def test_token_endpoint_auth_method_is_honoured_exactly(
    settings: Settings, token_endpoint: TokenEndpoint, method: str, accepted: str, refused: str
) -> None:
    url = token_endpoint.url()
    token_endpoint.accept = accepted
    assert await cache(settings).token(grant(url, method=method)) in token_endpoint.issued
    [request] = token_endpoint.requests
    if method == CLIENT_SECRET_BASIC:
        assert request["authorization"].startswith("Basic ")
        assert "client_id" not in request["form"] and "client_secret" not in request["form"]
    else:
        assert request["authorization"] == ""
        assert (request["form"]["client_id"], request["form"]["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    # An endpoint that wants the other method refuses, and the other method is never tried.
    token_endpoint.accept = refused
    with pytest.raises(TokenError, match="401: invalid_client") as info:
        await cache(settings).token(grant(url, method=method))
    assert len(token_endpoint.requests) == 2
    assert CLIENT_SECRET not in info.value.detail


async def test_unknown_token_endpoint_auth_method(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    with pytest.raises(TokenError, match="unknown token endpoint auth method 'PRIVATE_KEY_JWT'"):
        await cache(settings).token(grant(token_endpoint.url(), method="PRIVATE_KEY_JWT"))
    assert token_endpoint.requests == []


async def test_cache_key_includes_the_auth_method(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    tokens = cache(settings)
    url = token_endpoint.url()
    await tokens.token(grant(url))
    token_endpoint.accept = "body"
    # A changed method is really tried, not answered from the cache.
    assert await tokens.token(grant(url, method=CLIENT_SECRET_POST)) in token_endpoint.issued
    assert len(token_endpoint.requests) == 2


async def test_error_text_echoing_the_secret_is_redacted(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.echo = True
    with pytest.raises(TokenError, match=r"400: invalid_request: got \[redacted\]") as info:
        await cache(settings).token(grant(token_endpoint.url(), method=CLIENT_SECRET_POST))
    assert CLIENT_SECRET not in info.value.detail


async def test_missing_expires_in_keeps_the_token_for_five_minutes(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.lifetime = None
    clock = Clock()
    tokens = cache(settings, clock=clock)
    first = await tokens.token(grant(token_endpoint.url(), scopes=[]))
    clock.now += 239
    assert await tokens.token(grant(token_endpoint.url(), scopes=[])) == first
    clock.now += 2
    assert await tokens.token(grant(token_endpoint.url(), scopes=[])) != first
    assert "scope" not in token_endpoint.requests[0]["form"]


async def test_forget_and_lru_bound(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    tokens = cache(settings, max_entries=2)
    url = token_endpoint.url()
    for scope in ("a", "b", "c"):
        await tokens.token(grant(url, CLIENT_SECRET, [scope]))
    await tokens.token(grant(url, CLIENT_SECRET, ["c"]))  # cached
    await tokens.token(grant(url, CLIENT_SECRET, ["a"]))  # evicted: fetched again
    assert len(token_endpoint.requests) == 4
    tokens.forget(grant(url, CLIENT_SECRET, ["a"]))
    await tokens.token(grant(url, CLIENT_SECRET, ["a"]))
    assert len(token_endpoint.requests) == 5


async def test_redirects_are_not_followed(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    token_endpoint.redirect = True
    with pytest.raises(TokenError, match="answered 302; redirects are not followed"):
        await cache(settings).token(grant(token_endpoint.url()))
    assert len(token_endpoint.requests) == 1


@pytest.mark.parametrize(
    ("canned", "problem"),
    [
        ((200, b"<html>"), "not a JSON object"),
        ((200, b'{"token_type": "Bearer"}'), "no access_token"),
        (
            (400, b'{"error": "invalid_scope", "error_description": "AADSTS70011"}'),
            "400: invalid_scope: AADSTS70011",
        ),
        ((500, b"oops"), "answered 500"),
        ((200, b"x" * 70_000), "larger than"),
    ],
)
async def test_bad_answers(
    settings: Settings, token_endpoint: TokenEndpoint, canned: tuple[int, bytes], problem: str
) -> None:
    token_endpoint.canned = canned
    with pytest.raises(TokenError, match=problem) as info:
        await cache(settings).token(grant(token_endpoint.url()))
    assert CLIENT_SECRET not in info.value.detail


async def test_certificate_is_checked_against_the_name(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    with pytest.raises(TokenError, match="CERTIFICATE_VERIFY_FAILED") as info:
        await cache(settings).token(grant(token_endpoint.url("uncertified.test")))
    assert "uncertified.test" in info.value.detail
    assert token_endpoint.requests == []


async def test_refused_endpoint_address(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    with pytest.raises(PolicyRefused):
        await cache(settings).token(grant(token_endpoint.url("metadata.test")))


@pytest.mark.parametrize(
    "url", ["ftp://token.test/x", "not a url", "https:///path", "http://nowhere.test/token"]
)
async def test_unusable_endpoints(settings: Settings, url: str) -> None:
    with pytest.raises(TokenError):
        await cache(settings).token(grant(url))


async def test_hanging_endpoint_times_out(
    settings: Settings, raw_server: Callable[[str], Awaitable[RawServer]]
) -> None:
    server = await raw_server("hang")
    with pytest.raises(TokenError, match=r"ReadTimeout|did not answer"):
        await cache(settings).token(grant(f"http://token.test:{server.port}/token"))
