"""Okta's request bodies, declared once: each gives both its checks and its OpenAPI schema.

A body lists its fields (`fields.Field`) in the order their problems are reported, says which it
requires, and builds its typed value from what the checks let through (`reader.Body`): a create
request per authType (`CREATIONS`, all parsed by `CREATE`), the PATCH body and the test email's
addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mailgate.api.okta.fields import (
    Choice,
    EmailAddress,
    Field,
    Flag,
    Host,
    Port,
    PrivateKey,
    Schema,
    Scopes,
    Text,
    Url,
)
from mailgate.api.okta.reader import Body, Reader, object_schema
from mailgate.api.okta.wire import AUTH_TYPES
from mailgate.hostport import join_host_port
from mailgate.providers.auth import AuthVariant, NoAuth, PlainAuth, TokenEndpointAuth, field_names
from mailgate.providers.inputs import AuthPatch, SmtpInput, SmtpPatch
from mailgate.providers.patching import patched_auth

ALIAS = Field("alias", Text(200))
HOST = Field("host", Host())
PORT = Field("port", Port())
USERNAME = Field("username", Text(200))
ENABLED = Field("enabled", Flag())
AUTH_TYPE: Field[AuthVariant] = Field("authType", Choice(AUTH_TYPES))
# The auth union's fields (providers.auth): `carries` is the variants' name for each.
TOKEN_ENDPOINT_AUTH_METHOD = Field(
    "tokenEndpointAuthMethod", Choice({m.value: m for m in TokenEndpointAuth}), "token_endpoint_auth"
)
SCOPES = Field("scopes", Scopes(), "scopes")
PASSWORD = Field("password", Text(200), "password", secret=True)
CLIENT_ID = Field("clientId", Text(200), "client_id")
CLIENT_SECRET = Field("clientSecret", Text(200), "client_secret", secret=True)
TOKEN_ENDPOINT = Field("tokenEndpoint", Url(), "token_endpoint")
SIGNING_ALGORITHM = Field("signingAlgorithm", Choice({"RS256": "RS256"}), "signing_algorithm")
KEY_ID = Field("keyId", Text(200), "key_id")
ISSUER = Field("issuer", Text(500), "issuer")
SUBJECT = Field("subject", Text(500), "subject")
AUDIENCE = Field("audience", Text(2048), "audience")
PRIVATE_KEY = Field("privateKey", PrivateKey(), "private_key", secret=True)
FROM_ADDRESS = Field("fromAddress", EmailAddress())
TO_ADDRESS = Field("toAddress", EmailAddress())

BASE = (ALIAS, HOST, PORT, USERNAME, ENABLED)
BASE_REQUIRED = (ALIAS, HOST, PORT, USERNAME)
# Defaults belong to creation only: in a PATCH, a default would be sent as if the user set it.
ENABLED_ON_CREATE = replace(ENABLED, default=False)
_BASE_ON_CREATE = (ALIAS, HOST, PORT, USERNAME, ENABLED_ON_CREATE)
# The auth union's text fields: who authenticates where, and the JWT assertion's.
_CREDENTIALS = (PASSWORD, CLIENT_ID, CLIENT_SECRET, TOKEN_ENDPOINT)
_ASSERTION = (SIGNING_ALGORITHM, KEY_ID, ISSUER, SUBJECT, AUDIENCE, PRIVATE_KEY)
# Every property a server's auth is written with, in the order their problems are told.
_AUTH = (AUTH_TYPE, TOKEN_ENDPOINT_AUTH_METHOD, *_CREDENTIALS, SCOPES, *_ASSERTION)
_CARRYING = {field.carries: field for field in _AUTH if field.carries}
# Every authType's fields in turn, each once: the order problems of a variant's fields are told in.
_UNION_FIELDS = tuple(dict.fromkeys(name for v in AUTH_TYPES.values() for name in field_names(v)))
# The variants' field names (providers.auth) to Okta's property names.
OKTA_NAMES = {name: _CARRYING[name].name for name in _UNION_FIELDS}


@dataclass(frozen=True)
class NewServer:
    """A create request: the new provider (TLS on, no sender) and whether to enable it at once."""

    settings: SmtpInput
    enabled: bool


@dataclass(frozen=True)
class Addresses:
    """A test request: the test email's sender and receiver."""

    sender: str
    receiver: str


@dataclass(frozen=True)
class Creation:
    """The create body of one authType: the base properties and exactly that variant's, each
    required; authType too, but for BASIC_SMTP_AUTH (older SDKs never send authType)."""

    auth_type: str  # "OAUTH2_CLIENT_CREDENTIALS"
    name: str  # its schema's name in the OpenAPI document

    @property
    def variant(self) -> AuthVariant:
        return AUTH_TYPES[self.auth_type]

    def _own(self) -> tuple[Field[object], ...]:
        return tuple(_CARRYING[name] for name in field_names(self.variant))

    def check(self, read: Reader) -> None:
        """Every field of the variant is there, and none of another variant's."""
        own = field_names(self.variant)
        for name in _UNION_FIELDS:
            field = _CARRYING[name]
            if name in own and not read.present(field):
                read.refuse(field, f"is required for authType {self.auth_type}")
            elif name not in own and read.present(field):
                read.refuse(field, f"does not belong to authType {self.auth_type}")

    def schema(self) -> Schema:
        """This authType's create body."""
        auth_type = Field("authType", Choice({self.auth_type: self.variant}))
        required = [*BASE_REQUIRED, *self._own()]
        if self.variant is not PlainAuth:
            required.append(auth_type)
        return object_schema([*_BASE_ON_CREATE, auth_type, *self._own()], required)


CREATIONS = (
    Creation("BASIC_SMTP_AUTH", "okta.EmailServerCreateBasic"),
    Creation("OAUTH2_CLIENT_CREDENTIALS", "okta.EmailServerCreateClientCredentials"),
    Creation("OAUTH2_JWT_BEARER_GRANT", "okta.EmailServerCreateJwtBearer"),
)
_CREATION_OF = {creation.variant: creation for creation in CREATIONS}


def _auth_patch(read: Reader) -> AuthPatch:
    """Every auth property the body sets; None leaves one as it is."""
    texts = {field.carries: read(field) for field in (*_CREDENTIALS, *_ASSERTION)}
    return AuthPatch(
        variant=read(AUTH_TYPE),
        token_endpoint_auth=read(TOKEN_ENDPOINT_AUTH_METHOD),
        scopes=read(SCOPES),
        **texts,
    )


def _new_server(read: Reader) -> NewServer | None:
    alias, host, port, user = read(ALIAS), read(HOST), read(PORT), read(USERNAME)
    enabled = read(ENABLED_ON_CREATE)
    auth = _auth_patch(read)
    # No authType means basic (older SDKs); an unknown one is refused, and asks nothing of the rest.
    variant = auth.variant if read.present(AUTH_TYPE) else PlainAuth
    creation = _CREATION_OF.get(variant) if variant else None
    if creation is not None:
        creation.check(read)
    if read.refused() or creation is None:
        return None
    assert alias is not None and host is not None and port is not None and user is not None
    assert enabled is not None  # it has a default
    settings = SmtpInput(
        sender_address="",
        sender_name="",
        host=join_host_port(host, port),
        tls=True,  # Okta has no TLS switch; mailgate never sends credentials in the clear for it
        user=user,
        reply_to_address="",
        description=alias,
        auth=patched_auth(NoAuth(), auth),  # a new server is a patch of nothing
    )
    return NewServer(settings, enabled)


def _patch(read: Reader) -> SmtpPatch:
    # Which auth fields fit is the domain's call (it knows the stored authType).
    return SmtpPatch(
        description=read(ALIAS),
        host=read(HOST),
        port=read(PORT),
        user=read(USERNAME),
        enabled=read(ENABLED),
        auth=_auth_patch(read),
    )


def _addresses(read: Reader) -> Addresses | None:
    sender, receiver = read(FROM_ADDRESS), read(TO_ADDRESS)
    return None if sender is None or receiver is None else Addresses(sender, receiver)


# Its schema is one per authType (CREATIONS); it checks every property any authType has.
CREATE = Body("okta.EmailServerCreate", (*_BASE_ON_CREATE, *_AUTH), _new_server, BASE_REQUIRED)
PATCH = Body(
    "okta.EmailServerUpdate",
    (*BASE, *_AUTH),
    _patch,
    description="Only the properties sent change: one left out, or null, keeps its value.",
)
TEST = Body("okta.EmailTestAddresses", (FROM_ADDRESS, TO_ADDRESS), _addresses, (FROM_ADDRESS, TO_ADDRESS))
