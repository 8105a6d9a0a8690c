"""XOAUTH2 access tokens: the client-credentials and JWT-bearer grants, fetched over HTTP and cached.

Client credentials (RFC 6749 4.4) authenticate exactly as configured: HTTP Basic or the form body,
never one after the other. The JWT-bearer grant (RFC 7523 2.1) signs an RS256 assertion with the
stored private key, as Google service accounts with domain-wide delegation expect.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote_plus

import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailgate.config import Settings
from mailgate.errors import MailgateError
from mailgate.providers.auth import ClientCredentials, JwtBearer, OAuthGrant, TokenEndpointAuth
from mailgate.providers.sealing import Secret

from .outbound_http import outbound_client, read_body, request_to
from .policy import OutboundPolicy, ResolveError
from .redaction import Redactor

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a token response is a few KiB; more is not a token endpoint
DEFAULT_LIFETIME = 300.0  # seconds to keep a token whose response has no expires_in

JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME = 3600  # seconds; Google refuses assertions valid for longer than an hour
MIN_RSA_BITS = 2048


class TokenError(MailgateError):
    """No access token: `detail` says why in English (never a secret, key, assertion or token)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


Grant = OAuthGrant[Secret]


@dataclass(frozen=True)
class _Entry:
    token: str
    expires_at: float


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _cache_key(grant: Grant) -> tuple[str, ...]:
    """What a cached token belongs to; secrets and keys only as hashes, never themselves."""
    match grant:
        case ClientCredentials():
            # The auth method is part of the key so a test of a changed method really tries it.
            return (
                grant.KIND,
                grant.token_endpoint,
                grant.client_id,
                grant.token_endpoint_auth,
                *grant.scopes,
                _sha256(grant.client_secret.value),
            )
        case JwtBearer():
            return (
                grant.KIND,
                grant.token_endpoint,
                grant.client_id,
                grant.issuer,
                grant.subject,
                grant.audience,
                grant.key_id,
                *grant.scopes,
                _sha256(grant.private_key.value),
            )


class TokenCache:
    """Access tokens per grant (endpoint, client, subject, scopes, hash of secret or key) until expiry."""

    def __init__(
        self,
        settings: Settings,
        policy: OutboundPolicy | None = None,
        *,
        max_entries: int = 100,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._policy = policy or OutboundPolicy(settings)
        self._connect_timeout = settings.smtp_connect_timeout
        self._read_timeout = settings.smtp_command_timeout
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock
        self._wall_clock = wall_clock  # iat/exp of JWT assertions are epoch seconds

    async def token(self, grant: Grant) -> str:
        """A valid access token for `grant`: cached, or fetched from its token endpoint.

        Raises TokenError, or PolicyRefused when the endpoint's address is refused.
        """
        key = _cache_key(grant)
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at > self._clock():
            self._entries.move_to_end(key)
            return entry.token
        token, lifetime = await self._fetch(grant)
        # Renew a minute early (or halfway for short-lived tokens) so a token never expires mid-test.
        keep = max(lifetime - 60.0, lifetime / 2)
        self._entries[key] = _Entry(token, self._clock() + keep)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return token

    def forget(self, grant: Grant) -> None:
        """Drop a cached token (for example one the SMTP server refused), so the next call fetches anew."""
        self._entries.pop(_cache_key(grant), None)

    async def _fetch(self, grant: Grant) -> tuple[str, float]:
        url = _endpoint_url(grant.token_endpoint)
        # Build (and for JWT, sign) the request first: a bad key fails before any packet is sent.
        form, headers, hidden = await self._token_request(grant)
        redactor = Redactor(hidden)
        # RFC 6874: a zone id in a URL is written %25eth0; the policy reads the host as the system does.
        host = url.raw_host.decode("ascii").replace("%25", "%", 1)
        try:
            addresses = await self._policy.resolve(host, url.port or (443 if url.scheme == "https" else 80))
        except ResolveError as exc:
            raise TokenError(f"token endpoint: {exc.detail}") from None
        limit = self._connect_timeout + 2 * self._read_timeout
        try:
            async with asyncio.timeout(limit) as deadline:
                status, body = await self._request(url, host, addresses, form, headers)
        except TimeoutError:
            if deadline.expired():
                raise TokenError(f"the token endpoint did not answer within {limit:g}s") from None
            raise
        except TokenError as exc:
            raise TokenError(redactor.scrub(exc.detail)) from None
        return _parse_response(status, body, redactor)

    async def _token_request(self, grant: Grant) -> tuple[dict[str, str], dict[str, str], list[str]]:
        """(form, headers, every secret and secret-derived value in them) for the token request."""
        if isinstance(grant, JwtBearer):
            assertion = await asyncio.to_thread(sign_assertion, grant, self._wall_clock())
            form = {"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion}
            # The signature alone is as good as the assertion: header and claims are guessable.
            return form, {}, [assertion, assertion.rpartition(".")[2], grant.private_key.value]
        form, headers = _client_credentials_request(grant)
        # An endpoint may echo any of these in its error; the Redactor adds their encoded forms.
        secret = grant.client_secret.value
        hidden = [secret, quote_plus(secret)]
        if "Authorization" in headers:
            hidden.append(headers["Authorization"].removeprefix("Basic "))
        return form, headers, hidden

    async def _request(
        self,
        url: httpx.URL,
        host: str,
        addresses: list[str],
        form: dict[str, str],
        headers: dict[str, str],
    ) -> tuple[int, bytes]:
        timeout = httpx.Timeout(self._read_timeout, connect=self._connect_timeout)
        tls = await self._policy.tls_context("http")
        # One client per fetch: the pool is keyed by address, and a kept connection verified for
        # one name must not serve another name on the same address.
        async with outbound_client(tls, timeout) as client:
            last_error = "the token endpoint has no address"
            for address in addresses:
                try:
                    return await _post(client, url, host, address, form, headers)
                except httpx.ConnectError as exc:
                    last_error = f"could not connect to the token endpoint at {address}: {exc}"
                    continue  # the next address may answer
                except httpx.HTTPError as exc:
                    raise TokenError(f"token request failed: {type(exc).__name__}: {exc}") from None
        raise TokenError(last_error)


def _endpoint_url(endpoint: str) -> httpx.URL:
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL:
        raise TokenError("the token endpoint is not a valid URL") from None
    if url.scheme not in ("https", "http") or not url.raw_host:
        raise TokenError("the token endpoint must be an https:// (or http://) URL")
    return url


def _client_credentials_request(
    grant: ClientCredentials[Secret],
) -> tuple[dict[str, str], dict[str, str]]:
    """Form and headers with the client authenticated exactly one way (RFC 6749 2.3: never two)."""
    form = {"grant_type": "client_credentials"}
    if grant.scopes:
        form["scope"] = " ".join(grant.scopes)
    headers: dict[str, str] = {}
    secret = grant.client_secret.value
    match grant.token_endpoint_auth:
        case TokenEndpointAuth.CLIENT_SECRET_BASIC:
            # RFC 6749 2.3.1: id and secret are form-urlencoded before they are joined and encoded.
            pair = f"{quote_plus(grant.client_id)}:{quote_plus(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        case TokenEndpointAuth.CLIENT_SECRET_POST:
            form["client_id"] = grant.client_id
            form["client_secret"] = secret
        case unknown:  # only a grant built by hand (no API stores one) gets here
            raise TokenError(
                f"unknown token endpoint auth method {unknown!r}; use {' or '.join(TokenEndpointAuth)}"
            )
    return form, headers


def load_rsa_private_key(pem: str) -> rsa.RSAPrivateKey:
    """The RSA private key of an unencrypted PEM text; TokenError saying what is wrong otherwise."""
    text = pem.strip()
    if "\\n" in text and "\n" not in text:
        # Pasted from a service-account JSON file without decoding it: a PEM never has backslashes.
        text = text.replace("\\n", "\n")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        raise TokenError("the private key is encrypted; store it without a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        # `from None`: the parser's own message is not shown, so nothing of the key can leak.
        raise TokenError("the private key is not a PEM-encoded RSA private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TokenError("the private key is not an RSA key; RS256 needs one")
    if key.key_size < MIN_RSA_BITS:
        raise TokenError(f"the private key has {key.key_size} bits; RS256 needs at least {MIN_RSA_BITS}")
    return key


def sign_assertion(grant: JwtBearer[Secret], now: float) -> str:
    """The grant's JWT: RS256, header kid, claims iss, sub, aud, scope, iat and exp (one hour later)."""
    key = load_rsa_private_key(grant.private_key.value)
    issued = int(now)
    claims: dict[str, str | int] = {
        "iss": grant.issuer,
        "sub": grant.subject,
        "aud": grant.audience,
        "iat": issued,
        "exp": issued + JWT_LIFETIME,
    }
    if grant.scopes:
        claims["scope"] = " ".join(grant.scopes)
    headers = {"typ": "JWT"}
    if grant.key_id:
        headers["kid"] = grant.key_id
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


async def _post(
    client: httpx.AsyncClient,
    url: httpx.URL,
    host: str,
    address: str,
    form: dict[str, str],
    extra_headers: dict[str, str],
) -> tuple[int, bytes]:
    """POST the form to the checked `address`; (status, body) with the body size-limited."""
    headers = {"Accept": "application/json", **extra_headers}
    request = request_to(client, url, host, address, headers=headers, form=form)
    response = await client.send(request, stream=True)
    body = await read_body(response, MAX_BODY)
    if body is None:
        raise TokenError(f"the token endpoint's answer is larger than {MAX_BODY} bytes")
    return response.status_code, body


def _parse_response(status: int, body: bytes, redactor: Redactor) -> tuple[str, float]:
    """(access token, lifetime in seconds) from a token response, or TokenError saying what is wrong.

    `redactor` knows what this request sent: an endpoint may echo it (an assertion, a secret) in its error.
    """
    if 300 <= status < 400:
        raise TokenError(f"the token endpoint answered {status}; redirects are not followed")
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not 200 <= status < 300:
        problem = f"the token endpoint answered {status}"
        if isinstance(data, dict):
            # RFC 6749 5.2 error fields tell the admin what to fix (invalid_client, invalid_grant, ...).
            parts = [str(data[name]) for name in ("error", "error_description") if data.get(name)]
            if parts:
                # Scrub before clipping (a clipped secret would no longer be recognised), and over
                # both fields at once: an echo may be split between them.
                problem += ": " + ": ".join(redactor.scrub_pieces(parts))[:300]
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
