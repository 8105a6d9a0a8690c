"""OAuth2 client-credentials access tokens for XOAUTH2, fetched over HTTP and cached until they expire."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote_plus

import httpx

from mailgate.config import Settings

from .policy import OutboundPolicy, ResolveError, parse_ip

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a token response is a few KiB; more is not a token endpoint
DEFAULT_LIFETIME = 300.0  # seconds to keep a token whose response has no expires_in


class TokenError(Exception):
    """No access token: `detail` says why in English (never containing the client secret)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _ClientAuth(Enum):
    # RFC 6749 2.3.1: servers must accept HTTP Basic; many (Microsoft Entra) also take the form body.
    BASIC = "basic"
    BODY = "body"


@dataclass(frozen=True)
class _Key:
    endpoint: str
    client_id: str
    scopes: tuple[str, ...]
    secret_sha256: str  # the secret itself is never kept as a key


@dataclass(frozen=True)
class _Entry:
    token: str
    expires_at: float


def _key(endpoint: str, client_id: str, client_secret: str, scopes: Sequence[str]) -> _Key:
    return _Key(endpoint, client_id, tuple(scopes), hashlib.sha256(client_secret.encode()).hexdigest())


class TokenCache:
    """Access tokens by (endpoint, client id, scopes, sha256 of secret), kept until shortly before expiry."""

    def __init__(
        self,
        settings: Settings,
        policy: OutboundPolicy | None = None,
        *,
        max_entries: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy or OutboundPolicy(settings)
        self._connect_timeout = settings.smtp_connect_timeout
        self._read_timeout = settings.smtp_command_timeout
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock
        # Which client authentication an endpoint accepted, so the next fetch sends that one first.
        self._styles: dict[str, _ClientAuth] = {}

    async def token(self, endpoint: str, client_id: str, client_secret: str, scopes: Sequence[str]) -> str:
        """A valid access token for these client credentials: cached, or fetched from `endpoint`.

        Raises TokenError, or PolicyRefused when the endpoint's address is refused.
        """
        key = _key(endpoint, client_id, client_secret, scopes)
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at > self._clock():
            self._entries.move_to_end(key)
            return entry.token
        token, lifetime = await self._fetch(endpoint, client_id, client_secret, tuple(scopes))
        # Renew a minute early (or halfway for short-lived tokens) so a token never expires mid-test.
        keep = max(lifetime - 60.0, lifetime / 2)
        self._entries[key] = _Entry(token, self._clock() + keep)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return token

    def forget(self, endpoint: str, client_id: str, client_secret: str, scopes: Sequence[str]) -> None:
        """Drop a cached token (for example one the SMTP server refused), so the next call fetches anew."""
        self._entries.pop(_key(endpoint, client_id, client_secret, scopes), None)

    async def _fetch(
        self, endpoint: str, client_id: str, secret: str, scopes: tuple[str, ...]
    ) -> tuple[str, float]:
        try:
            url = httpx.URL(endpoint)
        except httpx.InvalidURL:
            raise TokenError("the token endpoint is not a valid URL") from None
        if url.scheme not in ("https", "http") or not url.raw_host:
            raise TokenError("the token endpoint must be an https:// (or http://) URL")
        host = url.raw_host.decode("ascii")
        try:
            addresses = await self._policy.resolve(host, url.port or (443 if url.scheme == "https" else 80))
        except ResolveError as exc:
            raise TokenError(f"token endpoint: {exc.detail}") from None
        limit = self._connect_timeout + 2 * self._read_timeout
        try:
            async with asyncio.timeout(limit) as deadline:
                return await self._request(url, host, addresses, client_id, secret, scopes)
        except TimeoutError:
            if deadline.expired():
                raise TokenError(f"the token endpoint did not answer within {limit:g}s") from None
            raise

    async def _request(
        self,
        url: httpx.URL,
        host: str,
        addresses: list[str],
        client_id: str,
        secret: str,
        scopes: tuple[str, ...],
    ) -> tuple[str, float]:
        endpoint = str(url)
        remembered = self._styles.get(endpoint)
        styles = [remembered] if remembered else [_ClientAuth.BASIC, _ClientAuth.BODY]
        timeout = httpx.Timeout(self._read_timeout, connect=self._connect_timeout)
        tls = await self._policy.tls_context("http")
        # One client per fetch: the pool is keyed by address, and a kept connection verified for
        # one name must not serve another name on the same address. trust_env=False: a proxy from
        # the environment would connect to the name itself, bypassing the checked address.
        async with httpx.AsyncClient(
            verify=tls, trust_env=False, follow_redirects=False, timeout=timeout
        ) as client:
            last_error = "the token endpoint has no address"
            for address in addresses:
                try:
                    for index, style in enumerate(styles):
                        status, body = await self._post(
                            client, url, host, address, client_id, secret, scopes, style
                        )
                        retry = status in (400, 401) and index + 1 < len(styles)
                        if not retry:
                            break
                except httpx.ConnectError as exc:
                    last_error = f"could not connect to the token endpoint at {address}: {exc}"
                    continue  # the next address may answer
                except httpx.HTTPError as exc:
                    raise TokenError(f"token request failed: {type(exc).__name__}: {exc}") from None
                if 200 <= status < 300:
                    self._styles[endpoint] = style
                return _parse_response(status, body)
        raise TokenError(last_error)

    async def _post(
        self,
        client: httpx.AsyncClient,
        url: httpx.URL,
        host: str,
        address: str,
        client_id: str,
        secret: str,
        scopes: tuple[str, ...],
        style: _ClientAuth,
    ) -> tuple[int, bytes]:
        form = {"grant_type": "client_credentials"}
        if scopes:
            form["scope"] = " ".join(scopes)
        headers = {"Host": url.netloc.decode("ascii"), "Accept": "application/json"}
        if style is _ClientAuth.BASIC:
            pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form["client_id"] = client_id
            form["client_secret"] = secret
        # Connect to the checked address; TLS still verifies the certificate against the name (SNI).
        extensions: dict[str, Any] = {} if parse_ip(host) else {"sni_hostname": host}
        request = client.build_request(
            "POST", url.copy_with(host=address), data=form, headers=headers, extensions=extensions
        )
        response = await client.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > MAX_BODY:
                    raise TokenError(f"the token endpoint's answer is larger than {MAX_BODY} bytes")
        finally:
            await response.aclose()
        return response.status_code, bytes(body)


def _parse_response(status: int, body: bytes) -> tuple[str, float]:
    """(access token, lifetime in seconds) from a token response, or TokenError saying what is wrong."""
    if 300 <= status < 400:
        raise TokenError(f"the token endpoint answered {status}; redirects are not followed")
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not 200 <= status < 300:
        problem = f"the token endpoint answered {status}"
        if isinstance(data, dict):
            # RFC 6749 5.2 error fields tell the admin what to fix (invalid_client, invalid_scope, ...).
            parts = [str(data[name]) for name in ("error", "error_description") if data.get(name)]
            if parts:
                problem += ": " + ": ".join(parts)[:300]
        raise TokenError(problem)
    if not isinstance(data, dict):
        raise TokenError("the token endpoint's answer is not a JSON object")
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise TokenError("the token endpoint's answer has no access_token")
    lifetime = DEFAULT_LIFETIME
    expires_in = data.get("expires_in")
    try:
        if expires_in is not None and float(expires_in) > 0:
            lifetime = float(expires_in)
    except (TypeError, ValueError):
        pass
    log.info("fetched an XOAUTH2 access token valid for %.0fs", lifetime)
    return token, lifetime
