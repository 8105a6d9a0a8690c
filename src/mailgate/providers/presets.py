"""The SMTP preset catalogue the console offers: kept in the server so it changes without a release.

Hosts, ports and auth as the providers document them (ZITADEL's console presets, plus Gmail with
the JWT-bearer grant, Resend, SparkPost and Zoho). Port 465 is implicit TLS, 587 STARTTLS: both
are `tls`; mailgate tells them apart by the port's first bytes, never by the number.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class PresetAuth(enum.Enum):
    NONE = "NONE"
    PLAIN = "PLAIN"
    XOAUTH2_CLIENT_CREDENTIALS = "XOAUTH2_CLIENT_CREDENTIALS"
    XOAUTH2_JWT_BEARER = "XOAUTH2_JWT_BEARER"


@dataclass(frozen=True, slots=True)
class SmtpPreset:
    """One provider's settings as the console fills them in."""

    id: str
    name: str
    host: str
    auth: PresetAuth
    tls: bool = True
    user_hint: str = ""
    fixed_user: str = ""
    password_hint: str = ""
    token_endpoint: str = ""
    scopes: tuple[str, ...] = ()
    alternative_hosts: tuple[str, ...] = ()
    note: str = ""


_SES_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
)

PRESETS: tuple[SmtpPreset, ...] = (
    SmtpPreset(
        "aws-ses",
        "Amazon SES",
        "email-smtp.us-east-2.amazonaws.com:587",
        PresetAuth.PLAIN,
        user_hint="SES SMTP user name",
        password_hint="SES SMTP password",
        alternative_hosts=tuple(f"email-smtp.{region}.amazonaws.com:587" for region in _SES_REGIONS),
        note="Use the endpoint of the region your identities are verified in.",
    ),
    SmtpPreset(
        "google",
        "Google",
        "smtp.gmail.com:587",
        PresetAuth.PLAIN,
        user_hint="full Workspace address",
        password_hint="app password",
    ),
    SmtpPreset(
        "google-jwt",
        "Google (service account, XOAUTH2)",
        "smtp.gmail.com:465",
        PresetAuth.XOAUTH2_JWT_BEARER,
        user_hint="the mailbox to send as",
        token_endpoint="https://oauth2.googleapis.com/token",
        scopes=("https://mail.google.com/",),
        note="Needs domain-wide delegation; create it through Okta's Email Servers API (authType "
        "OAUTH2 with a private key), then test and activate it here.",
    ),
    SmtpPreset(
        "mailgun",
        "Mailgun",
        "smtp.mailgun.org:465",
        PresetAuth.PLAIN,
        user_hint="postmaster@YOURDOMAIN",
        password_hint="SMTP password",
    ),
    SmtpPreset(
        "mailjet",
        "Mailjet",
        "in-v3.mailjet.com:465",
        PresetAuth.PLAIN,
        user_hint="API key",
        password_hint="secret key",
    ),
    SmtpPreset(
        "postmark",
        "Postmark",
        "smtp.postmarkapp.com:587",
        PresetAuth.PLAIN,
        user_hint="Server API token",
        password_hint="the same Server API token",
    ),
    SmtpPreset(
        "sendgrid",
        "SendGrid",
        "smtp.sendgrid.net:465",
        PresetAuth.PLAIN,
        fixed_user="apikey",
        password_hint="API key",
    ),
    SmtpPreset(
        "mailchimp",
        "Mailchimp Transactional",
        "smtp.mandrillapp.com:465",
        PresetAuth.PLAIN,
        user_hint="primary contact email",
        password_hint="API key",
    ),
    SmtpPreset(
        "brevo",
        "Brevo",
        "smtp-relay.sendinblue.com:465",
        PresetAuth.PLAIN,
        user_hint="SMTP login email",
        password_hint="SMTP key",
    ),
    SmtpPreset(
        "outlook",
        "Microsoft Exchange Online",
        "smtp.office365.com:587",
        PresetAuth.XOAUTH2_CLIENT_CREDENTIALS,
        user_hint="mailbox address",
        token_endpoint="https://login.microsoftonline.com/YOUR_TENANT_ID/oauth2/v2.0/token",
        scopes=("https://outlook.office.com/SMTP.Send",),
        note="535 5.7.139 means SMTP AUTH is disabled for the tenant or mailbox: enable it, or use OAuth.",
    ),
    SmtpPreset(
        "resend",
        "Resend",
        "smtp.resend.com:465",
        PresetAuth.PLAIN,
        fixed_user="resend",
        password_hint="API key",
    ),
    SmtpPreset(
        "sparkpost",
        "SparkPost",
        "smtp.sparkpostmail.com:587",
        PresetAuth.PLAIN,
        fixed_user="SMTP_Injection",
        password_hint="API key with Send via SMTP",
        alternative_hosts=("smtp.eu.sparkpostmail.com:587",),
    ),
    SmtpPreset(
        "zoho",
        "Zoho Mail",
        "smtp.zoho.com:465",
        PresetAuth.PLAIN,
        user_hint="Zoho mail address",
        password_hint="app-specific password",
        alternative_hosts=("smtp.zoho.eu:465", "smtp.zoho.in:465", "smtppro.zoho.com:465"),
    ),
    SmtpPreset("generic", "Other SMTP server", "", PresetAuth.PLAIN, user_hint="user name"),
)
