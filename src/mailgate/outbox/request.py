"""What callers ask the outbox for: a new email, a query of messages, a page of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mailgate.outbox.model import Attempt, Bodies, Message, MessageState

DEFAULT_EXPIRY = timedelta(hours=24)
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class EmailRequest:
    """One email to queue, as SendEmail asks for it; `subject` and `bodies` never show in a repr."""

    to: tuple[str, ...]
    subject: str
    bodies: Bodies
    reply_to: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    category: str = ""
    idempotency_key: str | None = None
    expires_after: timedelta = DEFAULT_EXPIRY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def __repr__(self) -> str:
        return f"EmailRequest(to={self.to!r}, category={self.category!r}, [subject and bodies redacted])"


@dataclass(frozen=True)
class Enqueued:
    """What SendEmail answers: the message, and whether an earlier call with its key queued it."""

    message: Message
    replayed: bool


@dataclass(frozen=True)
class MessageFilter:
    """Which messages a list shows; `sender_token_id` narrows it to one token's own."""

    states: tuple[MessageState, ...] = ()
    recipient: str = ""
    category: str = ""
    provider_id: str = ""
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    sender_token_id: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ends in the list's order (newest first): the last message's creation and id."""

    created_us: int
    message_id: str


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    next_page_token: str  # empty on the last page


@dataclass(frozen=True)
class MessageDetails:
    """One message with every attempt, oldest first."""

    message: Message
    attempts: tuple[Attempt, ...]
