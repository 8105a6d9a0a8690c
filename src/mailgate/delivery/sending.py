"""The contract between the outbox's workers and the delivery engine: what to send, where, what happened.

A worker hands the engine one message and one provider (its secrets opened); the engine answers
with the attempt's outcome and never raises for anything the provider or the network did. The same
stages, deadlines, outbound policy and redaction apply as to test emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mailgate.delivery.report import TestReport
from mailgate.outbox.model import Bodies, ReplyClass
from mailgate.providers.auth import OpenedAuth
from mailgate.providers.model import SmtpSettings
from mailgate.providers.sealing import Secret


@dataclass(frozen=True)
class OutgoingEmail:
    """One notification email as the engine sends it; caller text was checked at enqueue."""

    message_id: str  # "<...@domain>": the same on every attempt, so receivers can drop duplicates
    to: tuple[str, ...]
    subject: str
    bodies: Bodies
    reply_to: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # allowlisted extra headers
    idempotency_key: str | None = None  # HTTP providers receive it as Idempotency-Key
    category: str = ""


@dataclass(frozen=True)
class SmtpTarget:
    """An SMTP provider with its secret opened; the sender is the provider's own."""

    provider_id: str
    settings: SmtpSettings
    auth: OpenedAuth


@dataclass(frozen=True)
class HttpTarget:
    """An HTTP provider: a signed POST of the documented JSON payload to `endpoint`."""

    provider_id: str
    endpoint: str
    signing_key: Secret


DeliveryTarget = SmtpTarget | HttpTarget


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt did: its class, the redacted report (stages, reply, timeline), and a hint of
    when to try again that the provider gave (HTTP Retry-After, an SMTP "try again in N seconds")."""

    reply_class: ReplyClass
    report: TestReport
    retry_after: float | None = None


class Sender(Protocol):
    """The delivery engine as the workers see it."""

    async def send(self, email: OutgoingEmail, target: DeliveryTarget) -> AttemptResult:
        """One attempt; every failure is an AttemptResult, never an exception."""
        ...

    async def close(self) -> None:
        """Close what the engine keeps open (pooled SMTP connections)."""
        ...
