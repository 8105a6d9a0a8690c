"""Okta's EmailServer JSON to domain inputs and providers back to JSON.

alias is the description, host + port the stored "host:port", username the user, enabled the
state; secrets (password, clientSecret, privateKey) are write-only.
"""

from __future__ import annotations

import json
from typing import Any

from mailgate.api.okta.fields import Problems
from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.hostport import join_host_port, parse_host_port
from mailgate.providers.auth import (
    AuthVariant,
    ClientCredentials,
    JwtBearer,
    NoAuth,
    PlainAuth,
    SmtpAuth,
    TokenEndpointAuth,
    field_names,
)
from mailgate.providers.inputs import AuthPatch, SmtpInput, SmtpPatch
from mailgate.providers.model import Provider
from mailgate.providers.patching import edited_as

PREFIX = "/api/v1/email-servers"
AUTH_TYPES: dict[str, AuthVariant] = {
    "BASIC_SMTP_AUTH": PlainAuth,
    "OAUTH2_CLIENT_CREDENTIALS": ClientCredentials,
    "OAUTH2_JWT_BEARER_GRANT": JwtBearer,
}
AUTH_TYPE_NAMES = {variant: name for name, variant in AUTH_TYPES.items()}
# The variants' field names (providers.auth) to Okta's property names.
OKTA_NAMES = {
    "password": "password",
    "client_id": "clientId",
    "client_secret": "clientSecret",
    "token_endpoint": "tokenEndpoint",
    "token_endpoint_auth": "tokenEndpointAuthMethod",
    "scopes": "scopes",
    "signing_algorithm": "signingAlgorithm",
    "key_id": "keyId",
    "issuer": "issuer",
    "subject": "subject",
    "audience": "audience",
    "private_key": "privateKey",
}
SIGNING_ALGORITHMS = ("RS256",)
BASE_REQUIRED = ("alias", "host", "port", "username")
LIST_PROPERTY = "email-servers"


def decode(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or INVALID_ARGUMENT."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        value = None
        reason = "is not valid JSON"
    else:
        reason = "must be a JSON object"
    if not isinstance(value, dict):
        raise InvalidArgument.fields([FieldViolation("body", reason)])
    return value


def _auth_patch(problems: Problems, body: dict[str, Any]) -> AuthPatch:
    """Every auth property the body sets, checked one by one."""
    auth_type = problems.choice(body, "authType", tuple(AUTH_TYPES))
    method = problems.choice(body, "tokenEndpointAuthMethod", tuple(m.value for m in TokenEndpointAuth))
    return AuthPatch(
        variant=AUTH_TYPES[auth_type] if auth_type else None,
        password=problems.text(body, "password", 200),
        client_id=problems.text(body, "clientId", 200),
        client_secret=problems.text(body, "clientSecret", 200),
        token_endpoint=problems.url(body, "tokenEndpoint"),
        token_endpoint_auth=TokenEndpointAuth(method) if method else None,
        scopes=problems.scopes(body),
        signing_algorithm=problems.choice(body, "signingAlgorithm", SIGNING_ALGORITHMS),
        key_id=problems.text(body, "keyId", 200),
        issuer=problems.text(body, "issuer", 500),
        subject=problems.text(body, "subject", 500),
        audience=problems.text(body, "audience", 2048),
        private_key=problems.private_key(body),
    )


def _check_variant_fields(problems: Problems, body: dict[str, Any], variant: AuthVariant) -> None:
    """On create: every field of the variant is there, and none of another variant's."""
    allowed = field_names(variant)
    name = AUTH_TYPE_NAMES[variant]
    for field in OKTA_NAMES:
        present = body.get(OKTA_NAMES[field]) is not None
        if field in allowed and not present:
            problems.add(OKTA_NAMES[field], f"is required for authType {name}")
        elif field not in allowed and present:
            problems.add(OKTA_NAMES[field], f"does not belong to authType {name}")


def parse_create(body: dict[str, Any]) -> tuple[SmtpInput, bool]:
    """A create request as a new provider (TLS on, no sender) and whether to enable it."""
    problems = Problems()
    problems.require(body, BASE_REQUIRED)
    alias = problems.text(body, "alias", 200)
    host = problems.host(body)
    port = problems.port(body)
    user = problems.text(body, "username", 200)
    enabled = problems.flag(body, "enabled")
    auth = _auth_patch(problems, body)
    if body.get("authType") is None or auth.variant is not None:  # older SDKs never send authType
        _check_variant_fields(problems, body, auth.variant or PlainAuth)
    if problems.found:
        raise InvalidArgument.fields(problems.found)
    assert alias is not None and host is not None and port is not None and user is not None
    data = SmtpInput(
        sender_address="",
        sender_name="",
        host=join_host_port(host, port),
        tls=True,  # Okta has no TLS switch; mailgate never sends credentials in the clear for it
        user=user,
        reply_to_address="",
        description=alias,
        auth=_auth_input(auth),
    )
    return data, bool(enabled)


def _auth_input(auth: AuthPatch) -> SmtpAuth[str]:
    """A checked, complete create request's auth."""
    variant = auth.variant or PlainAuth
    if variant is ClientCredentials:
        return ClientCredentials(
            client_id=auth.client_id or "",
            client_secret=auth.client_secret or "",
            token_endpoint=auth.token_endpoint or "",
            token_endpoint_auth=auth.token_endpoint_auth or TokenEndpointAuth.CLIENT_SECRET_BASIC,
            scopes=auth.scopes or (),
        )
    if variant is JwtBearer:
        return JwtBearer(
            client_id=auth.client_id or "",
            token_endpoint=auth.token_endpoint or "",
            signing_algorithm=auth.signing_algorithm or "RS256",
            key_id=auth.key_id or "",
            issuer=auth.issuer or "",
            subject=auth.subject or "",
            audience=auth.audience or "",
            scopes=auth.scopes or (),
            private_key=auth.private_key or "",
        )
    return PlainAuth(password=auth.password or "")


def parse_patch(body: dict[str, Any]) -> SmtpPatch:
    """A PATCH body: only what it sets changes. Which auth fields fit is the domain's call (it knows
    the stored authType)."""
    problems = Problems()
    patch = SmtpPatch(
        description=problems.text(body, "alias", 200),
        host=problems.host(body),
        port=problems.port(body),
        user=problems.text(body, "username", 200),
        enabled=problems.flag(body, "enabled"),
        auth=_auth_patch(problems, body),
    )
    if problems.found:
        raise InvalidArgument.fields(problems.found)
    return patch


def parse_test(body: dict[str, Any]) -> tuple[str, str]:
    """`fromAddress` and `toAddress` of a test request."""
    problems = Problems()
    problems.require(body, ("fromAddress", "toAddress"))
    sender = problems.address(body, "fromAddress")
    receiver = problems.address(body, "toAddress")
    if problems.found:
        raise InvalidArgument.fields(problems.found)
    assert sender is not None and receiver is not None
    return sender, receiver


def render_item(provider: Provider) -> dict[str, Any]:
    """A by-id answer: the EmailServer, plus itself in a one-item list under LIST_PROPERTY.

    Okta's SDKs disagree on this answer's shape: the Node SDK (8.1.0) reads the object, the Python
    SDK (okta 3.4.6) reads `{"email-servers": [...]}`, as Okta's spec once typed it. Each ignores
    the other's properties, so this one answer serves both.
    """
    body = render(provider)
    return {**body, LIST_PROPERTY: [body]}


def render(provider: Provider) -> dict[str, Any]:
    """An SMTP provider as Okta's EmailServer; secrets are never part of it."""
    assert provider.smtp is not None
    smtp, auth = provider.smtp, provider.smtp.auth
    host, port = parse_host_port(smtp.host) or (smtp.host, 0)
    body: dict[str, Any] = {
        "id": provider.id,
        "alias": provider.description,
        "enabled": provider.is_active,
        "authType": AUTH_TYPE_NAMES[edited_as(auth)],
        "host": host,
        "port": port,
    }
    if smtp.user and not isinstance(auth, NoAuth):  # a relay without auth shows no username
        body["username"] = smtp.user
    match auth:
        case ClientCredentials():
            body.update(
                clientId=auth.client_id,
                tokenEndpoint=auth.token_endpoint,
                scopes=list(auth.scopes),
                tokenEndpointAuthMethod=auth.token_endpoint_auth.value,
            )
        case JwtBearer():
            body.update(
                clientId=auth.client_id,
                tokenEndpoint=auth.token_endpoint,
                scopes=list(auth.scopes),
                signingAlgorithm=auth.signing_algorithm,
                keyId=auth.key_id,
                issuer=auth.issuer,
                subject=auth.subject,
                audience=auth.audience,
            )
    return body
