"""What a notification email is while mailgate delivers it: states, attempts, reply classes.

Independent of any API or table. Bodies and subjects stay sealed in the store (see
`providers.sealing`); the read model here never holds a body.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from mailgate.delivery.report import Stage, TestStep


class MessageState(enum.StrEnum):
    """QUEUED -> SENDING -> SENT | DEFERRED (a retry is scheduled) -> ... -> SENT | FAILED | EXPIRED;
    CANCELED from QUEUED or DEFERRED. RetryMessage brings FAILED or EXPIRED back to QUEUED."""

    QUEUED = "queued"
    SENDING = "sending"
    DEFERRED = "deferred"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({MessageState.SENT, MessageState.FAILED, MessageState.EXPIRED, MessageState.CANCELED})


class ReplyClass(enum.StrEnum):
    """What an attempt's outcome means for the message (delivery.md decision 6)."""

    DELIVERED = "delivered"  # the server took it (SMTP 250 after DATA, HTTP 2xx)
    # Not the provider's fault, and retrying cannot help: 5.1.x / 5.2.x / 550 at RCPT, HTTP 4xx
    # other than 408, 425, 429. The message fails at once, with no failover.
    PERMANENT = "permanent"
    # The provider does not work (connect, TLS, greeting, AUTH 535/534/530, 5.7.x relay or auth
    # denied, 421 at greeting): retried, counted against the provider's health, the reason to fail over.
    PROVIDER_FAULT = "provider_fault"
    # 4xx, timeouts, dropped connections, 4.7.x rate limits, HTTP 408/425/429/5xx: retried later.
    TRANSIENT = "transient"


@dataclass(frozen=True)
class Attempt:
    """One try to hand a message to a provider, as the status API shows it (redacted, no body)."""

    number: int  # 1, 2, ... within the message's life (RetryMessage continues the count)
    at: datetime
    provider_id: str
    reply_class: ReplyClass
    stage: Stage  # where it ended (DONE when delivered); HTTP providers end at CONNECT.. or DATA
    reply_code: int = 0  # SMTP reply code, or the HTTP status for HTTP providers
    enhanced_status_code: str = ""
    reply_text: str = ""  # redacted, cut
    detail: str = ""  # what went wrong on our side, in English
    duration_ms: int = 0
    steps: tuple[TestStep, ...] = ()  # the same timeline a test email reports


@dataclass(frozen=True)
class Message:
    """A notification email in the outbox, without its bodies."""

    instance_id: str
    id: str
    state: MessageState
    to: tuple[str, ...]
    subject: str
    category: str
    reply_to: str
    headers: tuple[tuple[str, str], ...]  # allowlisted extra headers, checked at enqueue
    message_id: str  # the RFC 5322 Message-ID every attempt carries
    idempotency_key: str | None
    sender_token_id: str  # the token that sent it: an email.send token reads only its own
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    next_attempt_at: datetime | None  # when a worker may claim it (QUEUED, DEFERRED)
    attempts_made: int
    max_attempts: int
    provider_id: str | None  # the provider of the latest attempt
    last_attempt: Attempt | None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Bodies:
    """What is sent, opened only for delivery: never in a response, a log line or an event."""

    text: str | None
    html: str | None

    def __repr__(self) -> str:
        return "Bodies([redacted])"
