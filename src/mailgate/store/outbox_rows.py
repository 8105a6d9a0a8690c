"""Outbox rows <-> read models: what a new message stores (subject and bodies sealed), and a
message as the status API reads it (its attempts' rows are `store.attempts`).

A message is read with its latest attempt beside it (`SELECT_WITH_LATEST`, a LEFT JOIN on the
attempt's number), so a page of messages is one query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, and_, select

from mailgate.outbox.model import Attempt, Message, MessageState
from mailgate.outbox.request import EmailRequest
from mailgate.outbox.sealing import HTML, SUBJECT, TEXT, MessageSecrets
from mailgate.secrets import SecretBox
from mailgate.store.attempts import row_to_attempt
from mailgate.store.clock import to_datetime
from mailgate.store.tables import attempts, messages

_ATTEMPT_PREFIX = "attempt_"
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class NewMessage:
    """A checked request as it is stored."""

    id: str
    request: EmailRequest
    internet_message_id: str
    request_digest: str | None
    sender_token_id: str
    created_us: int


def _optional_time(us: int | None) -> datetime | None:
    return None if us is None else to_datetime(us)


def row_to_message(box: SecretBox, row: RowMapping | Mapping[str, Any], last: Attempt | None) -> Message:
    sealed = MessageSecrets(box, row["instance_id"], row["id"])
    return Message(
        instance_id=row["instance_id"],
        id=row["id"],
        state=MessageState(row["state"]),
        to=tuple(row["recipients"]),
        subject=sealed.open(SUBJECT, row["subject_sealed"]),
        category=row["category"],
        reply_to=row["reply_to"],
        headers=tuple((name, value) for name, value in row["headers"]),
        message_id=row["message_id"],
        idempotency_key=row["idempotency_key"],
        sender_token_id=row["sender_token_id"],
        created_at=to_datetime(row["created_us"]),
        updated_at=to_datetime(row["updated_us"]),
        expires_at=to_datetime(row["expires_us"]),
        next_attempt_at=_optional_time(row["next_attempt_us"]),
        attempts_made=row["attempts_made"],
        max_attempts=row["max_attempts"],
        provider_id=row["provider_id"],
        last_attempt=last,
        sent_at=_optional_time(row["sent_us"]),
    )


def new_row(instance_id: str, new: NewMessage, box: SecretBox) -> dict[str, Any]:
    request = new.request
    sealed = MessageSecrets(box, instance_id, new.id)
    return {
        "instance_id": instance_id,
        "id": new.id,
        "state": MessageState.QUEUED.value,
        "recipients": list(request.to),
        "subject_sealed": sealed.seal(SUBJECT, request.subject),
        "text_sealed": sealed.seal_optional(TEXT, request.bodies.text),
        "html_sealed": sealed.seal_optional(HTML, request.bodies.html),
        "reply_to": request.reply_to,
        "headers": [list(header) for header in request.headers],
        "category": request.category,
        "message_id": new.internet_message_id,
        "idempotency_key": request.idempotency_key,
        "request_hash": new.request_digest,
        "sender_token_id": new.sender_token_id,
        "created_us": new.created_us,
        "updated_us": new.created_us,
        "expires_us": new.created_us + request.expires_after // _MICROSECOND,
        "next_attempt_us": new.created_us,
        "attempts_made": 0,
        "max_attempts": request.max_attempts,
        "provider_id": None,  # no attempt yet
        "sent_us": None,
    }


# The latest attempt beside each message: LEFT JOIN on its number, its columns prefixed.
_LATEST = attempts.alias("latest")
_LATEST_COLUMNS = [
    column.label(_ATTEMPT_PREFIX + column.name)
    for column in _LATEST.c
    if column.name not in ("instance_id", "message_id")
]
_WITH_LATEST = messages.outerjoin(
    _LATEST,
    and_(
        _LATEST.c.instance_id == messages.c.instance_id,
        _LATEST.c.message_id == messages.c.id,
        _LATEST.c.number == messages.c.attempts_made,
    ),
)
SELECT_WITH_LATEST = select(messages, *_LATEST_COLUMNS).select_from(_WITH_LATEST)


def latest(row: RowMapping) -> Attempt | None:
    if row[_ATTEMPT_PREFIX + "number"] is None:
        return None
    return row_to_attempt(row, _ATTEMPT_PREFIX)
