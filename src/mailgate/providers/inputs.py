"""What a request asks for, in domain terms; the servicers build these from request messages."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar
from urllib.parse import urlsplit

from mailgate.providers.auth import (
    AuthVariant,
    ClientCredentials,
    JwtBearer,
    MergedAuth,
    NoAuth,
    PlainAuth,
    SmtpAuth,
    StoredAuth,
    TokenEndpointAuth,
    with_kept_secret,
)


@dataclass(frozen=True)
class LegacyAuth:
    """ZITADEL's request without the Auth oneof (older clients, the deprecated SMTPConfig RPCs).

    It carries a password only. On Add and Test it means plain auth when a user or password is set,
    else no auth; on Update a password switches to plain auth, and none leaves the auth as stored.
    """

    SECRET: ClassVar[str] = "password"
    password: str

    def meaning(self, user: str, stored: StoredAuth | None) -> SmtpAuth[str]:
        """The auth this asks for; `stored` is the auth an Update changes (None on Add and Test)."""
        if stored is None:
            return PlainAuth(password=self.password) if user or self.password else NoAuth()
        if self.password:
            return PlainAuth(password=self.password)
        return stored.with_secret("")  # as stored, its secret kept


@dataclass(frozen=True)
class ZitadelXOAuth2:
    """ZITADEL's xoauth2 auth, which cannot name the grant nor how to authenticate at the token endpoint.

    It means client credentials with HTTP Basic (as ZITADEL does), unless the provider an Update
    changes says otherwise: its stored method stays, and a JWT-bearer provider stays one, with its
    claims and key, while no client secret is sent (a client that read it and sends it back has none).
    """

    SECRET: ClassVar[str] = "client_secret"
    client_id: str
    client_secret: str
    token_endpoint: str
    scopes: tuple[str, ...]

    def meaning(self, stored: StoredAuth | None) -> ClientCredentials[str] | JwtBearer[str]:
        """The auth this asks for; `stored` is the auth an Update changes (None on Add and Test)."""
        if isinstance(stored, JwtBearer) and not self.client_secret:
            return replace(
                stored.with_secret(""),
                client_id=self.client_id,
                token_endpoint=self.token_endpoint,
                scopes=self.scopes,
            )
        method = TokenEndpointAuth.CLIENT_SECRET_BASIC
        if isinstance(stored, ClientCredentials):
            method = stored.token_endpoint_auth
        return ClientCredentials(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint=self.token_endpoint,
            token_endpoint_auth=method,
            scopes=self.scopes,
        )


# A request's auth: a variant whose empty secret leaves it to the store, or one of ZITADEL's two
# shapes that mean a variant only against what is stored.
AuthRequest = SmtpAuth[str] | LegacyAuth | ZitadelXOAuth2


def requested(given: AuthRequest, user: str, stored: StoredAuth | None) -> SmtpAuth[str]:
    """The variant a request asks for; `stored` is the auth an Update changes (None on Add and Test)."""
    match given:
        case LegacyAuth():
            return given.meaning(user, stored)
        case ZitadelXOAuth2():
            return given.meaning(stored)
        case _:
            return given


def merged(given: AuthRequest, user: str, stored: StoredAuth | None) -> MergedAuth:
    """What a request's auth leaves behind: the variant it asks for, with the secret it gives or
    the one it keeps of `stored` (the auth an Update changes; None on Add)."""
    return with_kept_secret(requested(given, user, stored), stored)


def public_texts(given: AuthRequest) -> list[str]:
    """Every text of a request's auth but its secret (which is sealed, so any text will do)."""
    texts: list[str] = []
    for field in fields(given):
        if field.name == given.SECRET:
            continue
        value: object = getattr(given, field.name)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, tuple):
            texts.extend(item for item in value if isinstance(item, str))
    return texts


@dataclass(frozen=True)
class SmtpInput:
    sender_address: str
    sender_name: str
    host: str
    tls: bool
    user: str
    reply_to_address: str
    description: str
    auth: AuthRequest


@dataclass(frozen=True)
class AuthPatch:
    """Okta's partial auth change: None leaves a field as stored; `variant` None keeps the stored variant.

    The field names are the variants' own (providers.auth), so a variant's fields are checked by name.
    """

    variant: AuthVariant | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_endpoint: str | None = None
    token_endpoint_auth: TokenEndpointAuth | None = None
    scopes: tuple[str, ...] | None = None
    signing_algorithm: str | None = None
    key_id: str | None = None
    issuer: str | None = None
    subject: str | None = None
    audience: str | None = None
    private_key: str | None = None

    def given(self) -> list[str]:
        """The names of the fields this patch sets (besides `variant`)."""
        return [f.name for f in fields(self) if f.name != "variant" and getattr(self, f.name) is not None]


@dataclass(frozen=True)
class SmtpPatch:
    """A partial update of an SMTP provider (Okta's PATCH): None leaves a field as stored.

    `host` is the host name alone (the stored value is "host:port"); `enabled` True activates the
    provider (deactivating any other), False deactivates it, and neither fails when already so.
    """

    description: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    enabled: bool | None = None
    auth: AuthPatch | None = None


def storable(text: str) -> bool:
    """False for text no store can hold: NUL (PostgreSQL refuses it) or lone surrogates (not UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def http_url(text: str) -> bool:
    """True for an http or https URL with a host (an HTTP provider's endpoint, a token endpoint)."""
    try:
        parts = urlsplit(text)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[x": urlsplit refuses an unclosed IPv6 literal
        return False
