"""Delivery engine: sends real test emails over SMTP with deadlines, TLS, AUTH and a redacted report."""

from .oauth import TokenCache, TokenError
from .policy import OutboundPolicy, PolicyRefused, ResolveError, check_address
from .report import MG_ERROR_IDS, SmtpTestFailed, Stage
from .smtp import PlainAuth, SmtpTester, TestEmail, XOAuth2Auth, split_host_port

__all__ = [
    "MG_ERROR_IDS",
    "OutboundPolicy",
    "PlainAuth",
    "PolicyRefused",
    "ResolveError",
    "SmtpTestFailed",
    "SmtpTester",
    "Stage",
    "TestEmail",
    "TokenCache",
    "TokenError",
    "XOAuth2Auth",
    "check_address",
    "split_host_port",
]
