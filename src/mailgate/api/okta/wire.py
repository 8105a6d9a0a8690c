"""Okta's names for the domain's, and providers as Okta's EmailServer JSON.

alias is the description, host + port the stored "host:port", username the user, enabled the
state; secrets (password, clientSecret, privateKey) are write-only (requests: `bodies`).
"""

from __future__ import annotations

from mailgate.hostport import parse_host_port
from mailgate.providers.auth import AuthVariant, ClientCredentials, JwtBearer, NoAuth, PlainAuth
from mailgate.providers.model import Provider
from mailgate.providers.patching import edited_as

PREFIX = "/api/v1/email-servers"
AUTH_TYPES: dict[str, AuthVariant] = {
    "BASIC_SMTP_AUTH": PlainAuth,
    "OAUTH2_CLIENT_CREDENTIALS": ClientCredentials,
    "OAUTH2_JWT_BEARER_GRANT": JwtBearer,
}
AUTH_TYPE_NAMES = {variant: name for name, variant in AUTH_TYPES.items()}
LIST_PROPERTY = "email-servers"


def render_item(provider: Provider) -> dict[str, object]:
    """A by-id answer: the EmailServer, plus itself in a one-item list under LIST_PROPERTY.

    Okta's SDKs disagree on this answer's shape: the Node SDK (8.1.0) reads the object, the Python
    SDK (okta 3.4.6) reads `{"email-servers": [...]}`, as Okta's spec once typed it. Each ignores
    the other's properties, so this one answer serves both.
    """
    body = render(provider)
    return {**body, LIST_PROPERTY: [body]}


def render(provider: Provider) -> dict[str, object]:
    """An SMTP provider as Okta's EmailServer; secrets are never part of it."""
    assert provider.smtp is not None
    smtp, auth = provider.smtp, provider.smtp.auth
    host, port = parse_host_port(smtp.host) or (smtp.host, 0)
    body: dict[str, object] = {
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
