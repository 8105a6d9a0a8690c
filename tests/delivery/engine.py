"""Building blocks for the notification engine's tests: emails, targets, an engine."""

from __future__ import annotations

import itertools
import time
from typing import Any

from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.sending import OutgoingEmail, SmtpTarget
from mailgate.outbox.model import Bodies
from mailgate.providers.auth import NoAuth, OpenedAuth, PlainAuth
from mailgate.providers.model import SmtpSettings
from mailgate.providers.sealing import Secret
from tests.delivery.conftest import fake_resolver
from tests.fixtures.credentials import PASSWORD, USER

_ids = itertools.count(1)


def unique(local: str = "bob") -> str:
    """A recipient no other test uses."""
    return f"{local}+{time.monotonic_ns()}@example.com"


def notification(*to: str, **fields: Any) -> OutgoingEmail:
    """A notification with a fresh Message-ID; keyword arguments replace its fields."""
    values: dict[str, Any] = {
        "message_id": f"<m{next(_ids)}.{time.monotonic_ns()}@mailgate.example>",
        "to": to or (unique(),),
        "subject": "Verify your email address",
        "bodies": Bodies("Your code is 123456.\n", None),
        "category": "verification",
    }
    values.update(fields)
    return OutgoingEmail(**values)


def plain(password: str = PASSWORD) -> PlainAuth[Secret]:
    return PlainAuth(password=Secret(password))


def smtp_target(
    host: str,
    *,
    tls: bool = False,
    auth: OpenedAuth | None = None,
    provider_id: str = "p-1",
    **settings: Any,
) -> SmtpTarget:
    values: dict[str, Any] = {
        "sender_address": "noreply@acme.example",
        "sender_name": "ACME Accounts",
        "host": host,
        "tls": tls,
        "user": USER,
    }
    values.update(settings)
    return SmtpTarget(provider_id, SmtpSettings(**values), NoAuth() if auth is None else auth)


def make_engine(settings: Settings) -> DeliveryEngine:
    """An engine resolving names as the tests' fake resolver does."""
    return DeliveryEngine(settings, resolver=fake_resolver)
