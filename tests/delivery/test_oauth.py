"""XOAUTH2 access tokens: a real HTTPS token endpoint, caching, client authentication, failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from mailgate.config import Settings
from mailgate.delivery.oauth import TokenCache, TokenError
from mailgate.delivery.policy import OutboundPolicy, PolicyRefused

from .conftest import CLIENT_ID, CLIENT_SECRET, SCOPE, RawServer, TokenEndpoint, fake_resolver


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(settings: Settings, **kwargs: object) -> TokenCache:
    return TokenCache(settings, OutboundPolicy(settings, resolver=fake_resolver), **kwargs)  # type: ignore[arg-type]


async def test_token_is_cached_until_shortly_before_expiry(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    clock = Clock()
    tokens = cache(settings, clock=clock)
    url = token_endpoint.url()
    first = await tokens.token(url, CLIENT_ID, CLIENT_SECRET, [SCOPE])
    assert first in token_endpoint.issued
    assert await tokens.token(url, CLIENT_ID, CLIENT_SECRET, (SCOPE,)) == first
    clock.now += 3600 - 61
    assert await tokens.token(url, CLIENT_ID, CLIENT_SECRET, [SCOPE]) == first
    clock.now += 2  # within the last minute of the token's life: renew
    assert await tokens.token(url, CLIENT_ID, CLIENT_SECRET, [SCOPE]) != first
    assert len(token_endpoint.requests) == 2


async def test_cache_key_includes_scopes_and_secret(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    tokens = cache(settings)
    url = token_endpoint.url()
    await tokens.token(url, CLIENT_ID, CLIENT_SECRET, [SCOPE])
    await tokens.token(url, CLIENT_ID, CLIENT_SECRET, [SCOPE, "offline_access"])
    with pytest.raises(TokenError):
        await tokens.token(url, CLIENT_ID, "another-secret", [SCOPE])  # never served from the cache
    assert len(token_endpoint.requests) == 3  # Basic worked for this endpoint: no body retry
    assert token_endpoint.requests[1]["form"]["scope"] == f"{SCOPE} offline_access"


async def test_form_body_credentials_when_basic_is_refused(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.accept = "body"
    tokens = cache(settings)
    url = token_endpoint.url()
    await tokens.token(url, CLIENT_ID, CLIENT_SECRET, [SCOPE])
    basic, body = token_endpoint.requests
    assert basic["authorization"].startswith("Basic ") and "client_secret" not in basic["form"]
    assert body["authorization"] == "" and body["form"]["client_secret"] == CLIENT_SECRET
    await tokens.token(url, CLIENT_ID, CLIENT_SECRET, ["other-scope"])
    assert token_endpoint.requests[2]["authorization"] == ""  # remembered: body straight away


async def test_missing_expires_in_keeps_the_token_for_five_minutes(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.lifetime = None
    clock = Clock()
    tokens = cache(settings, clock=clock)
    first = await tokens.token(token_endpoint.url(), CLIENT_ID, CLIENT_SECRET, [])
    clock.now += 239
    assert await tokens.token(token_endpoint.url(), CLIENT_ID, CLIENT_SECRET, []) == first
    clock.now += 2
    assert await tokens.token(token_endpoint.url(), CLIENT_ID, CLIENT_SECRET, []) != first
    assert "scope" not in token_endpoint.requests[0]["form"]


async def test_forget_and_lru_bound(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    tokens = cache(settings, max_entries=2)
    url = token_endpoint.url()
    for scope in ("a", "b", "c"):
        await tokens.token(url, CLIENT_ID, CLIENT_SECRET, [scope])
    await tokens.token(url, CLIENT_ID, CLIENT_SECRET, ["c"])  # cached
    await tokens.token(url, CLIENT_ID, CLIENT_SECRET, ["a"])  # evicted: fetched again
    assert len(token_endpoint.requests) == 4
    tokens.forget(url, CLIENT_ID, CLIENT_SECRET, ["a"])
    await tokens.token(url, CLIENT_ID, CLIENT_SECRET, ["a"])
    assert len(token_endpoint.requests) == 5


async def test_redirects_are_not_followed(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    token_endpoint.redirect = True
    with pytest.raises(TokenError, match="answered 302; redirects are not followed"):
        await cache(settings).token(token_endpoint.url(), CLIENT_ID, CLIENT_SECRET, [SCOPE])
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
        await cache(settings).token(token_endpoint.url(), CLIENT_ID, CLIENT_SECRET, [SCOPE])
    assert CLIENT_SECRET not in info.value.detail


async def test_certificate_is_checked_against_the_name(
    settings: Settings, token_endpoint: TokenEndpoint
) -> None:
    with pytest.raises(TokenError, match="CERTIFICATE_VERIFY_FAILED") as info:
        await cache(settings).token(token_endpoint.url("uncertified.test"), CLIENT_ID, CLIENT_SECRET, [SCOPE])
    assert "uncertified.test" in info.value.detail
    assert token_endpoint.requests == []


async def test_refused_endpoint_address(settings: Settings, token_endpoint: TokenEndpoint) -> None:
    with pytest.raises(PolicyRefused):
        await cache(settings).token(token_endpoint.url("metadata.test"), CLIENT_ID, CLIENT_SECRET, [SCOPE])


@pytest.mark.parametrize(
    "url", ["ftp://token.test/x", "not a url", "https:///path", "http://nowhere.test/token"]
)
async def test_unusable_endpoints(settings: Settings, url: str) -> None:
    with pytest.raises(TokenError):
        await cache(settings).token(url, CLIENT_ID, CLIENT_SECRET, [SCOPE])


async def test_hanging_endpoint_times_out(
    settings: Settings, raw_server: Callable[[str], Awaitable[RawServer]]
) -> None:
    server = await raw_server("hang")
    with pytest.raises(TokenError, match=r"ReadTimeout|did not answer"):
        await cache(settings).token(
            f"http://token.test:{server.port}/token", CLIENT_ID, CLIENT_SECRET, [SCOPE]
        )
