"""Delivery engine: sends real test emails over SMTP with deadlines, TLS, AUTH and a redacted report."""

from .oauth import TokenCache, TokenError
from .policy import OutboundPolicy, PolicyRefused, ResolveError, check_address
from .report import MG_ERROR_IDS, SmtpTestFailed, Stage
from .smtp import SmtpTester, TestEmail

__all__ = [
    "MG_ERROR_IDS",
    "OutboundPolicy",
    "PolicyRefused",
    "ResolveError",
    "SmtpTestFailed",
    "SmtpTester",
    "Stage",
    "TestEmail",
    "TokenCache",
    "TokenError",
    "check_address",
]
