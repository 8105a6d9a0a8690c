"""Okta's PATCH in domain terms: the whole provider a partial change leaves behind."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.hostport import join_host_port, parse_host_port
from mailgate.providers.inputs import (
    VARIANT_FIELDS,
    AuthInput,
    AuthPatch,
    AuthVariant,
    JwtInput,
    variant_of,
)
from mailgate.providers.model import AuthKind, JwtBearer, OAuthGrant, SmtpAuth

T = TypeVar("T")
AUTH_FIELDS_ID = "MG-AUTH-FIELDS"


def _auth_fields_error(variant: AuthVariant, problems: list[tuple[str, str]]) -> InvalidArgument:
    """INVALID_ARGUMENT naming every auth field that is missing for, or foreign to, `variant`."""
    name, reason = problems[0]
    text = f"Invalid argument: {name} {reason} ({variant.value} auth)"
    return InvalidArgument(AUTH_FIELDS_ID, text, [FieldViolation(field, why) for field, why in problems])


def patched_auth(stored: SmtpAuth, patch: AuthPatch | None) -> AuthInput:
    """The whole auth a patch leaves behind; secrets left out are "" (the stored one is kept)."""
    patch = patch or AuthPatch()
    current = variant_of(stored)
    variant = patch.variant or current
    allowed = VARIANT_FIELDS[variant]
    problems = [(name, "does not belong to this authType") for name in patch.given() if name not in allowed]
    if variant is not current:  # a new variant shares nothing with the stored one
        problems += [
            (name, "is required to switch authType") for name in allowed if getattr(patch, name) is None
        ]
        stored = SmtpAuth()
    if problems:
        raise _auth_fields_error(variant, problems)
    if variant is AuthVariant.PLAIN:
        # A provider without auth stays so until it gets a password.
        plain = patch.password is not None or stored.kind is AuthKind.PLAIN
        return AuthInput(kind=AuthKind.PLAIN if plain else AuthKind.NONE, password=patch.password or "")
    common = AuthInput(
        kind=AuthKind.XOAUTH2,
        token_endpoint=pick(patch.token_endpoint, stored.token_endpoint),
        scopes=pick(patch.scopes, stored.scopes),
        client_id=pick(patch.client_id, stored.client_id),
    )
    if variant is AuthVariant.CLIENT_CREDENTIALS:
        return replace(
            common,
            grant=OAuthGrant.CLIENT_CREDENTIALS,
            client_secret=patch.client_secret or "",
            token_endpoint_auth=pick(patch.token_endpoint_auth, stored.token_endpoint_auth),
        )
    jwt = stored.jwt or JwtBearer()
    return replace(
        common,
        grant=OAuthGrant.JWT_BEARER,
        jwt=JwtInput(
            key_id=pick(patch.key_id, jwt.key_id),
            issuer=pick(patch.issuer, jwt.issuer),
            subject=pick(patch.subject, jwt.subject),
            audience=pick(patch.audience, jwt.audience),
            signing_algorithm=pick(patch.signing_algorithm, jwt.signing_algorithm),
            private_key=patch.private_key or "",
        ),
    )


def pick(given: T | None, stored: T) -> T:
    """`given` unless the patch left it out (None)."""
    return stored if given is None else given


def patched_host(stored: str, host: str | None, port: int | None) -> str:
    """The stored "host:port" with the host name and/or port a patch gives."""
    if host is None and port is None:
        return stored
    old_host, old_port = parse_host_port(stored) or ("", 0)
    return join_host_port(pick(host, old_host).strip(), pick(port, old_port))
