"""Domain objects to ZITADEL messages and back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from google.protobuf import timestamp_pb2

from mailgate.gen.mailgate.ext.v1 import jwt_bearer_pb2
from mailgate.gen.zitadel import admin_pb2, object_pb2, settings_pb2
from mailgate.providers.auth import ClientCredentials, JwtBearer, NoAuth, OAuthGrant, PlainAuth
from mailgate.providers.inputs import AuthRequest, LegacyAuth, ZitadelXOAuth2
from mailgate.providers.model import Change, Page, Provider, SmtpSettings, State

_PROVIDER_STATE = {
    State.ACTIVE: settings_pb2.EMAIL_PROVIDER_ACTIVE,
    State.INACTIVE: settings_pb2.EMAIL_PROVIDER_INACTIVE,
}
_CONFIG_STATE = {
    State.ACTIVE: settings_pb2.SMTP_CONFIG_ACTIVE,
    State.INACTIVE: settings_pb2.SMTP_CONFIG_INACTIVE,
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp, in integer arithmetic (FromDatetime is slow on hot reads)."""
    since = moment - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000
    )


def change_details(change: Change) -> object_pb2.ObjectDetails:
    """Add/Update/Remove: sequence, change date and resource owner."""
    return object_pb2.ObjectDetails(
        sequence=change.sequence, change_date=timestamp(change.at), resource_owner=change.resource_owner
    )


def state_change_details(change: Change) -> object_pb2.ObjectDetails:
    """Activate/Deactivate: ZITADEL clients read the event time from creation_date, so both are set."""
    details = change_details(change)
    details.creation_date.CopyFrom(details.change_date)
    return details


def view_details(provider: Provider) -> object_pb2.ObjectDetails:
    return object_pb2.ObjectDetails(
        sequence=provider.sequence,
        creation_date=timestamp(provider.created_at),
        change_date=timestamp(provider.changed_at),
        resource_owner=provider.instance_id,
    )


def list_details(page: Page, now: datetime) -> object_pb2.ListDetails:
    return object_pb2.ListDetails(
        total_result=page.total, processed_sequence=page.instance_sequence, view_timestamp=timestamp(now)
    )


def auth_input(
    request: admin_pb2.AddEmailProviderSMTPRequest
    | admin_pb2.UpdateEmailProviderSMTPRequest
    | admin_pb2.TestEmailProviderSMTPRequest,
) -> AuthRequest:
    """The request's Auth oneof; unset means an older client, which only knows `password`."""
    match request.WhichOneof("Auth"):
        case "none":
            return NoAuth()
        case "plain":
            return PlainAuth(password=request.plain.password)
        case "xoauth2":
            xo = request.xoauth2
            return ZitadelXOAuth2(
                client_id=xo.client_credentials.client_id,
                client_secret=xo.client_credentials.client_secret,
                token_endpoint=xo.token_endpoint,
                scopes=tuple(xo.scopes),
            )
        case _:
            return LegacyAuth(password=request.password)


def email_provider(provider: Provider) -> settings_pb2.EmailProvider:
    """The EmailProvider read model; secrets, the HTTP signing key included, are never part of it."""
    message = settings_pb2.EmailProvider(
        details=view_details(provider),
        id=provider.id,
        state=_PROVIDER_STATE[provider.state],
        description=provider.description,
    )
    if provider.smtp is not None:
        smtp = provider.smtp
        message.smtp.CopyFrom(settings_pb2.EmailProviderSMTP(**_smtp_fields(smtp)))
        match smtp.auth:
            case NoAuth():
                message.smtp.none.SetInParent()
            case PlainAuth():
                message.smtp.plain.SetInParent()
            case ClientCredentials() | JwtBearer() as grant:
                message.smtp.xoauth2.CopyFrom(xoauth2_auth(grant))
    elif provider.http is not None:
        message.http.endpoint = provider.http.endpoint
    return message


def xoauth2_auth(grant: OAuthGrant[object]) -> settings_pb2.SMTPXOAuth2Auth:
    """XOAUTH2 as ZITADEL shows it; a JWT-bearer grant in mailgate's extension field, never its key."""
    message = settings_pb2.SMTPXOAuth2Auth(token_endpoint=grant.token_endpoint, scopes=grant.scopes)
    match grant:
        case ClientCredentials():
            message.client_credentials.client_id = grant.client_id
        case JwtBearer():
            message.jwt_bearer.CopyFrom(
                jwt_bearer_pb2.JwtBearerGrant(
                    client_id=grant.client_id,
                    key_id=grant.key_id,
                    issuer=grant.issuer,
                    subject=grant.subject,
                    audience=grant.audience,
                    signing_algorithm=grant.signing_algorithm,
                )
            )
    return message


class _SmtpFields(TypedDict):
    """The fields EmailProviderSMTP and SMTPConfig share, under the same names."""

    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    reply_to_address: str


def _smtp_fields(smtp: SmtpSettings) -> _SmtpFields:
    return _SmtpFields(
        sender_address=smtp.sender_address,
        sender_name=smtp.sender_name,
        tls=smtp.tls,
        host=smtp.host,
        user=smtp.user,
        reply_to_address=smtp.reply_to_address,
    )


def smtp_config(provider: Provider) -> settings_pb2.SMTPConfig | None:
    """The deprecated SMTPConfig view; None for HTTP providers (ZITADEL answers an empty message)."""
    if provider.smtp is None:
        return None
    return settings_pb2.SMTPConfig(
        details=view_details(provider),
        state=_CONFIG_STATE[provider.state],
        description=provider.description,
        id=provider.id,
        **_smtp_fields(provider.smtp),
    )


def smtp_config_item(provider: Provider) -> settings_pb2.SMTPConfig:
    """A ListSMTPConfigs item: HTTP providers appear with only details, id, description and state."""
    config = smtp_config(provider)
    if config is not None:
        return config
    return settings_pb2.SMTPConfig(
        details=view_details(provider),
        state=_CONFIG_STATE[provider.state],
        description=provider.description,
        id=provider.id,
    )
