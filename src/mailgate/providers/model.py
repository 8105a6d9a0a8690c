"""What an email provider is, independent of any API or table."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class State(enum.IntEnum):
    """Numbers as in EmailProviderState / SMTPConfigState."""

    ACTIVE = 1
    INACTIVE = 2


class AuthKind(enum.StrEnum):
    NONE = "none"
    PLAIN = "plain"
    XOAUTH2 = "xoauth2"


class OAuthGrant(enum.StrEnum):
    """How an XOAUTH2 provider gets its access token."""

    CLIENT_CREDENTIALS = "client_credentials"  # client id and secret (Microsoft)
    JWT_BEARER = "jwt_bearer"  # a JWT signed with a private key (Google service accounts)


class TokenEndpointAuth(enum.StrEnum):
    """How the client authenticates at the token endpoint (client-credentials grant)."""

    CLIENT_SECRET_BASIC = "CLIENT_SECRET_BASIC"
    CLIENT_SECRET_POST = "CLIENT_SECRET_POST"


@dataclass(frozen=True)
class JwtBearer:
    """The JWT-bearer grant's claims and key; the private key stays sealed."""

    key_id: str = ""
    issuer: str = ""
    subject: str = ""
    audience: str = ""
    signing_algorithm: str = "RS256"
    private_key_sealed: str | None = None


@dataclass(frozen=True)
class SmtpAuth:
    """How the provider authenticates; secrets stay sealed (see mailgate.secrets)."""

    kind: AuthKind = AuthKind.NONE
    password_sealed: str | None = None
    token_endpoint: str = ""
    scopes: tuple[str, ...] = ()
    client_id: str = ""
    client_secret_sealed: str | None = None
    grant: OAuthGrant = OAuthGrant.CLIENT_CREDENTIALS
    token_endpoint_auth: TokenEndpointAuth = TokenEndpointAuth.CLIENT_SECRET_BASIC
    jwt: JwtBearer | None = None  # set for the JWT-bearer grant

    @property
    def has_secret(self) -> bool:
        private_key = self.jwt.private_key_sealed if self.jwt else None
        return bool(self.password_sealed or self.client_secret_sealed or private_key)


@dataclass(frozen=True)
class SmtpSettings:
    sender_address: str
    sender_name: str
    host: str
    tls: bool = False
    user: str = ""
    reply_to_address: str = ""
    auth: SmtpAuth = field(default_factory=SmtpAuth)


@dataclass(frozen=True)
class HttpSettings:
    endpoint: str
    signing_key_sealed: str | None = None


@dataclass(frozen=True)
class Provider:
    """One email provider of an instance: exactly one of `smtp` and `http` is set."""

    instance_id: str
    id: str
    state: State
    description: str
    creation_sequence: int
    sequence: int
    created_at: datetime
    changed_at: datetime
    smtp: SmtpSettings | None = None
    http: HttpSettings | None = None

    @property
    def is_active(self) -> bool:
        return self.state is State.ACTIVE


@dataclass(frozen=True)
class Change:
    """What a write did: the instance sequence it took and when."""

    sequence: int
    at: datetime
    resource_owner: str


@dataclass(frozen=True)
class Page:
    """One page of an instance's providers, with the totals a list response reports."""

    providers: list[Provider]
    total: int
    instance_sequence: int
