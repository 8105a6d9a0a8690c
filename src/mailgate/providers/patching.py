"""Okta's PATCH in domain terms: the whole provider a partial change leaves behind."""

from __future__ import annotations

from typing import TypeVar

from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.hostport import join_host_port, parse_host_port
from mailgate.providers.auth import (
    AuthVariant,
    ClientCredentials,
    JwtBearer,
    NoAuth,
    PlainAuth,
    SmtpAuth,
    StoredAuth,
    TokenEndpointAuth,
    field_names,
)
from mailgate.providers.inputs import AuthPatch

T = TypeVar("T")
AUTH_FIELDS_ID = "MG-AUTH-FIELDS"
# What a switch to a variant builds on: nothing (a switch must give every field).
_NO_CLIENT_CREDENTIALS = ClientCredentials(
    client_id="",
    client_secret="",
    token_endpoint="",
    token_endpoint_auth=TokenEndpointAuth.CLIENT_SECRET_BASIC,
    scopes=(),
)
_NO_JWT_BEARER = JwtBearer(
    client_id="",
    token_endpoint="",
    signing_algorithm="",
    key_id="",
    issuer="",
    subject="",
    audience="",
    scopes=(),
    private_key="",
)


def _auth_fields_error(variant: AuthVariant, problems: list[tuple[str, str]]) -> InvalidArgument:
    """INVALID_ARGUMENT naming every auth field that is missing for, or foreign to, `variant`."""
    name, reason = problems[0]
    text = f"Invalid argument: {name} {reason} ({variant.KIND} auth)"
    return InvalidArgument(AUTH_FIELDS_ID, text, [FieldViolation(field, why) for field, why in problems])


def edited_as(auth: SmtpAuth[object]) -> AuthVariant:
    """The variant Okta edits an auth as: a provider without auth counts as plain (BASIC_SMTP_AUTH)."""
    return PlainAuth if isinstance(auth, NoAuth) else type(auth)


def patched_auth(stored: StoredAuth, patch: AuthPatch | None) -> SmtpAuth[str]:
    """The whole auth a patch leaves behind; secrets left out are "" (the stored one is kept)."""
    patch = patch or AuthPatch()
    current = edited_as(stored)
    variant = patch.variant or current
    allowed = field_names(variant)
    problems = [(name, "does not belong to this authType") for name in patch.given() if name not in allowed]
    if variant is not current:  # a new variant shares nothing with the stored one
        problems += [
            (name, "is required to switch authType") for name in allowed if getattr(patch, name) is None
        ]
    if problems:
        raise _auth_fields_error(variant, problems)
    if variant is ClientCredentials:
        cc = stored if isinstance(stored, ClientCredentials) else _NO_CLIENT_CREDENTIALS
        return ClientCredentials(
            client_id=pick(patch.client_id, cc.client_id),
            client_secret=patch.client_secret or "",
            token_endpoint=pick(patch.token_endpoint, cc.token_endpoint),
            token_endpoint_auth=pick(patch.token_endpoint_auth, cc.token_endpoint_auth),
            scopes=pick(patch.scopes, cc.scopes),
        )
    if variant is JwtBearer:
        jwt = stored if isinstance(stored, JwtBearer) else _NO_JWT_BEARER
        return JwtBearer(
            client_id=pick(patch.client_id, jwt.client_id),
            token_endpoint=pick(patch.token_endpoint, jwt.token_endpoint),
            signing_algorithm=pick(patch.signing_algorithm, jwt.signing_algorithm),
            key_id=pick(patch.key_id, jwt.key_id),
            issuer=pick(patch.issuer, jwt.issuer),
            subject=pick(patch.subject, jwt.subject),
            audience=pick(patch.audience, jwt.audience),
            scopes=pick(patch.scopes, jwt.scopes),
            private_key=patch.private_key or "",
        )
    if patch.password is None and isinstance(stored, NoAuth):
        return NoAuth()  # a provider without auth stays so until it gets a password
    return PlainAuth(password=patch.password or "")


def pick(given: T | None, stored: T) -> T:
    """`given` unless the patch left it out (None)."""
    return stored if given is None else given


def patched_host(stored: str, host: str | None, port: int | None) -> str:
    """The stored "host:port" with the host name and/or port a patch gives."""
    if host is None and port is None:
        return stored
    old_host, old_port = parse_host_port(stored) or ("", 0)
    return join_host_port(pick(host, old_host).strip(), pick(port, old_port))
