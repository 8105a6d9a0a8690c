"""What a request asks for, in domain terms; the servicers build these from request messages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

from mailgate.providers.model import AuthKind, OAuthGrant, SmtpAuth, TokenEndpointAuth


@dataclass(frozen=True)
class JwtInput:
    """The JWT-bearer grant's claims and key (PEM text, sealed before it is stored)."""

    key_id: str = ""
    issuer: str = ""
    subject: str = ""
    audience: str = ""
    signing_algorithm: str = "RS256"
    private_key: str = ""


@dataclass(frozen=True)
class AuthInput:
    """A request's auth choice. `kind=None` means the request did not set the Auth oneof (older clients).

    `grant` and `token_endpoint_auth` None mean "not said" (ZITADEL's requests cannot say them):
    an update keeps what is stored, a new provider gets client credentials with HTTP Basic.
    """

    kind: AuthKind | None = None
    password: str = ""
    token_endpoint: str = ""
    scopes: tuple[str, ...] = ()
    client_id: str = ""
    client_secret: str = ""
    grant: OAuthGrant | None = None
    token_endpoint_auth: TokenEndpointAuth | None = None
    jwt: JwtInput | None = None

    @property
    def secret(self) -> str:
        """The secret this request supplies for its auth kind ("" when it leaves it to the store)."""
        if self.kind is AuthKind.XOAUTH2:
            if self.grant is OAuthGrant.JWT_BEARER:
                return self.jwt.private_key if self.jwt else ""
            return self.client_secret
        return self.password


@dataclass(frozen=True)
class SmtpInput:
    sender_address: str
    sender_name: str
    host: str
    tls: bool
    user: str
    reply_to_address: str
    description: str
    auth: AuthInput


class AuthVariant(enum.StrEnum):
    """The three ways to authenticate a provider the Okta API knows (no auth is edited as PLAIN)."""

    PLAIN = "plain"
    CLIENT_CREDENTIALS = "client_credentials"
    JWT_BEARER = "jwt_bearer"


@dataclass(frozen=True)
class AuthPatch:
    """A partial auth change: None leaves a field as stored; `variant` None keeps the stored variant."""

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


# The fields of each variant; all of them are needed to switch a provider to that variant.
VARIANT_FIELDS: dict[AuthVariant, tuple[str, ...]] = {
    AuthVariant.PLAIN: ("password",),
    AuthVariant.CLIENT_CREDENTIALS: (
        "client_id",
        "client_secret",
        "token_endpoint",
        "token_endpoint_auth",
        "scopes",
    ),
    AuthVariant.JWT_BEARER: (
        "client_id",
        "token_endpoint",
        "signing_algorithm",
        "key_id",
        "issuer",
        "subject",
        "audience",
        "scopes",
        "private_key",
    ),
}
# The secret field of each variant: a patch that leaves it out reuses the stored secret (decision 9.6).
VARIANT_SECRET = {
    AuthVariant.PLAIN: "password",
    AuthVariant.CLIENT_CREDENTIALS: "client_secret",
    AuthVariant.JWT_BEARER: "private_key",
}


def variant_of(auth: SmtpAuth) -> AuthVariant:
    """The variant a stored auth is edited as; a provider without auth counts as PLAIN."""
    if auth.kind is not AuthKind.XOAUTH2:
        return AuthVariant.PLAIN
    if auth.grant is OAuthGrant.JWT_BEARER:
        return AuthVariant.JWT_BEARER
    return AuthVariant.CLIENT_CREDENTIALS


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
