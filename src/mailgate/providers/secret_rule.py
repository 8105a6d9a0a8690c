"""The re-entry rule (decision 9.6): a stored secret never follows a changed destination."""

from __future__ import annotations

from mailgate.errors import FailedPrecondition
from mailgate.providers.model import AuthKind, SmtpSettings

SECRET_REENTRY_ID = "MG-SECRET-REENTRY"
SECRET_REENTRY_TEXT = (
    "the host, user, TLS setting or token endpoint differs from the stored provider: "
    "re-enter the password or client secret"
)


def may_reuse_secret(
    stored: SmtpSettings, host: str, user: str, tls: bool, token_endpoint: str = "", client_id: str = ""
) -> bool:
    """True when the stored secret may be used with these (possibly changed) settings."""
    if host.strip() != stored.host or user != stored.user:
        return False
    if stored.tls and not tls:
        return False
    auth = stored.auth
    if auth.kind is AuthKind.XOAUTH2:
        return token_endpoint == auth.token_endpoint and client_id == auth.client_id
    return True


def secret_reentry_required() -> FailedPrecondition:
    return FailedPrecondition(SECRET_REENTRY_ID, SECRET_REENTRY_TEXT)
