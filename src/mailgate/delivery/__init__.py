"""Delivery engine: sends real test emails over SMTP with deadlines, TLS, AUTH and a redacted report."""

from .oauth import TokenCache, TokenError
from .policy import OutboundPolicy, PolicyRefused, ResolveError, check_address
from .report import MG_ERROR_IDS, Stage, TestReport, TestStep
from .smtp import SmtpTester, TestEmail

__all__ = [
    "MG_ERROR_IDS",
    "OutboundPolicy",
    "PolicyRefused",
    "ResolveError",
    "SmtpTester",
    "Stage",
    "TestEmail",
    "TestReport",
    "TestStep",
    "TokenCache",
    "TokenError",
    "check_address",
]
