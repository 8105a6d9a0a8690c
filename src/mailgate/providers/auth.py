"""How an SMTP provider authenticates: one tagged union of frozen variants, dispatched with `match`.

Each variant holds its own fields and nothing else, and is generic over the form of its one
secret: `StoredAuth` (sealed, or none) in the domain and the store, `OpenedAuth` (`Secret`) in the
engine, `SmtpAuth[str]` in requests (where "" leaves the secret to the store) and `MergedAuth`
between the two (a request's new secret, or the stored one it keeps). A variant's `SECRET` names
its secret field, which is also the field its sealed value is bound to (providers.sealing).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import ClassVar, Final, Generic, TypeVar

from mailgate.providers.sealing import ProviderSecrets, Sealed, Secret

S = TypeVar("S", covariant=True)  # the secret's form
T = TypeVar("T")


class TokenEndpointAuth(enum.StrEnum):
    """How the client authenticates at the token endpoint (RFC 6749 2.3): exactly one way, never both."""

    CLIENT_SECRET_BASIC = "CLIENT_SECRET_BASIC"  # HTTP Basic with the client id and secret
    CLIENT_SECRET_POST = "CLIENT_SECRET_POST"  # client_id and client_secret in the form body


@dataclass(frozen=True)
class NoAuth:
    """The relay takes mail without AUTH."""

    SECRET: ClassVar[str] = ""  # it has none
    KIND: ClassVar[str] = "none"

    @property
    def secret(self) -> None:
        """The variant's one secret, in the form it has here; none for this one."""
        return None

    def with_secret(self, secret: object) -> NoAuth:
        """The same auth with `secret` (another form of it) in its place."""
        return self


@dataclass(frozen=True)
class PlainAuth(Generic[S]):
    """AUTH PLAIN or LOGIN (whichever the server offers) as the provider's user, with its password."""

    SECRET: ClassVar[str] = "password"
    KIND: ClassVar[str] = "plain"
    password: S

    @property
    def secret(self) -> S:
        """The variant's one secret, in the form it has here."""
        return self.password

    def with_secret(self, secret: T) -> PlainAuth[T]:
        """The same auth with `secret` (another form of it) in its place."""
        return PlainAuth(password=secret)


@dataclass(frozen=True)
class ClientCredentials(Generic[S]):
    """AUTH XOAUTH2 with an access token from the client-credentials grant (RFC 6749 4.4; Microsoft)."""

    SECRET: ClassVar[str] = "client_secret"
    KIND: ClassVar[str] = "client_credentials"
    client_id: str
    client_secret: S
    token_endpoint: str
    token_endpoint_auth: TokenEndpointAuth
    scopes: tuple[str, ...]

    @property
    def secret(self) -> S:
        """The variant's one secret, in the form it has here."""
        return self.client_secret

    def with_secret(self, secret: T) -> ClientCredentials[T]:
        """The same auth with `secret` (another form of it) in its place."""
        return ClientCredentials(
            client_id=self.client_id,
            client_secret=secret,
            token_endpoint=self.token_endpoint,
            token_endpoint_auth=self.token_endpoint_auth,
            scopes=self.scopes,
        )


@dataclass(frozen=True)
class JwtBearer(Generic[S]):
    """AUTH XOAUTH2 as `subject` with a token from the JWT-bearer grant (RFC 7523 2.1): an RS256
    assertion signed with the private key (PEM), as Google service accounts use."""

    SECRET: ClassVar[str] = "private_key"
    KIND: ClassVar[str] = "jwt_bearer"
    client_id: str
    token_endpoint: str
    signing_algorithm: str
    key_id: str
    issuer: str
    subject: str
    audience: str
    scopes: tuple[str, ...]
    private_key: S

    @property
    def secret(self) -> S:
        """The variant's one secret, in the form it has here."""
        return self.private_key

    def with_secret(self, secret: T) -> JwtBearer[T]:
        """The same auth with `secret` (another form of it) in its place."""
        return JwtBearer(
            client_id=self.client_id,
            token_endpoint=self.token_endpoint,
            signing_algorithm=self.signing_algorithm,
            key_id=self.key_id,
            issuer=self.issuer,
            subject=self.subject,
            audience=self.audience,
            scopes=self.scopes,
            private_key=secret,
        )


SmtpAuth = NoAuth | PlainAuth[S] | ClientCredentials[S] | JwtBearer[S]
StoredAuth = SmtpAuth[Sealed | None]  # as the domain and the store hold it
OpenedAuth = SmtpAuth[Secret]  # as the engine uses it
MergedAuth = SmtpAuth[Secret | Sealed | None]  # a request's new secret, or the stored one it keeps
OAuthGrant = ClientCredentials[S] | JwtBearer[S]  # the variants that fetch an access token
OAUTH_GRANTS: Final = (ClientCredentials, JwtBearer)  # the same, for isinstance
AuthVariant = (
    type[NoAuth] | type[PlainAuth[object]] | type[ClientCredentials[object]] | type[JwtBearer[object]]
)


def field_names(variant: AuthVariant) -> tuple[str, ...]:
    """A variant's fields in order; together they make one (its secret among them)."""
    return tuple(field.name for field in fields(variant))


def oauth_client(auth: SmtpAuth[object]) -> tuple[str, str] | None:
    """The token endpoint and client id an OAuth variant's secret is presented to; None for the others."""
    if isinstance(auth, OAUTH_GRANTS):
        return auth.token_endpoint, auth.client_id
    return None


def with_kept_secret(auth: SmtpAuth[str], stored: StoredAuth | None) -> MergedAuth:
    """`auth` with the secret it gives, else with `stored`'s when that is the same variant, else none.

    The one place where a secret left empty keeps (or, for a test, borrows) the stored one; whether
    a kept secret may go where `auth` sends it is the secret rule's call (providers.secret_rule).
    """
    given = auth.secret
    if given:
        return auth.with_secret(Secret(given))
    kept = stored.secret if stored is not None and type(stored) is type(auth) else None
    return auth.with_secret(kept)


def carries_stored_secret(auth: MergedAuth) -> bool:
    """True when `auth` uses a secret kept from the store rather than one its request gave."""
    secret = auth.secret
    return secret is not None and not isinstance(secret, Secret)


def sealed(auth: MergedAuth, secrets: ProviderSecrets) -> StoredAuth:
    """`auth` as the store holds it: a new secret sealed, a kept one as it was."""
    secret = auth.secret
    if isinstance(secret, Secret):
        return auth.with_secret(secrets.seal(auth.SECRET, secret))
    return auth.with_secret(secret)


def opened(auth: MergedAuth, secrets: ProviderSecrets) -> OpenedAuth:
    """`auth` as the engine uses it, a stored secret opened (`secrets` are its provider's)."""
    match auth:
        case PlainAuth(password=None):
            return NoAuth()  # a user without a password (older clients): the relay takes no AUTH
    secret = auth.secret
    if secret is None:
        # An OAuth variant stored without its secret: the token endpoint will say what is missing.
        return auth.with_secret(Secret(""))
    if isinstance(secret, Secret):
        return auth.with_secret(secret)
    return auth.with_secret(secrets.open(auth.SECRET, secret))
