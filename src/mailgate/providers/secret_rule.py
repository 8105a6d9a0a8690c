"""The re-entry rule (decision 9.6): a stored secret never follows a changed destination."""

from __future__ import annotations

from mailgate.errors import precondition
from mailgate.providers.auth import MergedAuth, carries_stored_secret, oauth_client
from mailgate.providers.model import SmtpSettings

SECRET_REENTRY_ID = "MG-SECRET-REENTRY"
SECRET_REENTRY_TEXT = (
    "the host, user, TLS setting or token endpoint differs from the stored provider: "
    "re-enter the password or client secret"
)


def secret_rule(
    stored: SmtpSettings, host: str, user: str, tls: bool, auth: MergedAuth, *, allow_any_host: bool
) -> None:
    """Raise MG-SECRET-REENTRY when `auth` would take `stored`'s secret to another destination.

    The destination is the host and user, TLS (turning it off counts, turning it on does not), and
    for OAuth the token endpoint and client id. `allow_any_host` (MAILGATE_ALLOW_SECRET_REUSE_ANY_HOST)
    lifts the rule; an `auth` whose request gave its own secret never meets it.
    """
    if allow_any_host or not carries_stored_secret(auth):
        return
    same = host.strip() == stored.host and user == stored.user and (tls or not stored.tls)
    client = oauth_client(stored.auth)
    if not same or (client is not None and oauth_client(auth) != client):
        raise precondition(SECRET_REENTRY_ID, SECRET_REENTRY_TEXT)
