"""Delivery engine: sends real test emails over SMTP with deadlines, TLS, AUTH and a redacted report."""

from .oauth import (
    CLIENT_SECRET_BASIC,
    CLIENT_SECRET_POST,
    ClientCredentialsGrant,
    JwtBearerGrant,
    TokenCache,
    TokenError,
)
from .policy import OutboundPolicy, PolicyRefused, ResolveError, check_address
from .report import MG_ERROR_IDS, Stage, TestReport, TestStep
from .smtp import (
    JwtBearerAuth,
    PlainAuth,
    SmtpAuthMethod,
    SmtpTester,
    TestEmail,
    XOAuth2Auth,
)

__all__ = [
    "CLIENT_SECRET_BASIC",
    "CLIENT_SECRET_POST",
    "MG_ERROR_IDS",
    "ClientCredentialsGrant",
    "JwtBearerAuth",
    "JwtBearerGrant",
    "OutboundPolicy",
    "PlainAuth",
    "PolicyRefused",
    "ResolveError",
    "SmtpAuthMethod",
    "SmtpTester",
    "Stage",
    "TestEmail",
    "TestReport",
    "TestStep",
    "TokenCache",
    "TokenError",
    "XOAuth2Auth",
    "check_address",
]
