"""mailgate.v1 delivery messages to the outbox's requests, and its read models back (never a body)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, timestamp_pb2

from mailgate.api.status import smtp_test_stage, smtp_test_step
from mailgate.api.zitadel.convert import timestamp
from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.outbox.model import Attempt, Bodies, Message, MessageState
from mailgate.outbox.request import DEFAULT_EXPIRY, EmailRequest, MessageFilter


def _optional_duration(request: pb.SendEmailRequest | pb.RetryMessageRequest, name: str) -> timedelta | None:
    if not request.HasField(name):
        return None
    value: duration_pb2.Duration = getattr(request, name)
    return timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(value: timestamp_pb2.Timestamp) -> datetime:
    return _EPOCH + timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)


def email_request(request: pb.SendEmailRequest, default_max_attempts: int) -> EmailRequest:
    """SendEmail's request with its defaults applied (unset expiry: 24 h; attempts: the setting's)."""
    return EmailRequest(
        to=tuple(request.to),
        subject=request.subject,
        bodies=Bodies(text=request.text_body or None, html=request.html_body or None),
        reply_to=request.reply_to,
        headers=tuple((header.name, header.value) for header in request.headers),
        category=request.category,
        idempotency_key=request.idempotency_key or None,
        expires_after=_optional_duration(request, "expires_after") or DEFAULT_EXPIRY,
        max_attempts=request.max_attempts or default_max_attempts,
    )


def retry_expiry(request: pb.RetryMessageRequest) -> timedelta | None:
    """The new series' expiry; None: as long as the message was first given."""
    return _optional_duration(request, "expires_after")


def message_filter(request: pb.ListMessagesRequest, sender_token_id: str | None) -> MessageFilter:
    return MessageFilter(
        states=tuple(_STATE_FROM_WIRE[state] for state in request.states),
        recipient=request.recipient,
        category=request.category,
        provider_id=request.provider_id,
        created_from=_time(request.create_time_start) if request.HasField("create_time_start") else None,
        created_before=_time(request.create_time_end) if request.HasField("create_time_end") else None,
        sender_token_id=sender_token_id,
    )


_STATE_FROM_WIRE = {pb.MessageState.Value(f"MESSAGE_STATE_{state.name}"): state for state in MessageState}


def message(item: Message, attempts: tuple[Attempt, ...] = ()) -> pb.Message:
    """The Message read model; `attempts` only where the RPC shows them all (GetMessage)."""
    out = pb.Message(
        id=item.id,
        state=f"MESSAGE_STATE_{item.state.name}",
        to=item.to,
        subject=item.subject,
        reply_to=item.reply_to,
        headers=[pb.EmailHeader(name=name, value=value) for name, value in item.headers],
        category=item.category,
        internet_message_id=item.message_id,
        idempotency_key=item.idempotency_key or "",
        sender_token_id=item.sender_token_id,
        create_time=timestamp(item.created_at),
        update_time=timestamp(item.updated_at),
        expire_time=timestamp(item.expires_at),
        attempt_count=item.attempts_made,
        max_attempts=item.max_attempts,
        provider_id=item.provider_id or "",
        attempts=[attempt(one) for one in attempts],
    )
    if item.next_attempt_at is not None:
        out.next_attempt_time.CopyFrom(timestamp(item.next_attempt_at))
    if item.sent_at is not None:
        out.send_time.CopyFrom(timestamp(item.sent_at))
    if item.last_attempt is not None:
        out.last_attempt.CopyFrom(attempt(item.last_attempt))
    return out


def attempt(item: Attempt) -> pb.DeliveryAttempt:
    return pb.DeliveryAttempt(
        number=item.number,
        start_time=timestamp(item.at),
        provider_id=item.provider_id,
        reply_class=f"REPLY_CLASS_{item.reply_class.name}",
        stage=smtp_test_stage(item.stage),
        reply_code=item.reply_code,
        enhanced_status_code=item.enhanced_status_code,
        reply_text=item.reply_text,
        detail=item.detail,
        duration_ms=item.duration_ms,
        steps=[smtp_test_step(step) for step in item.steps],
    )
