"""CancelMessage stops queued and deferred messages only; RetryMessage requeues failed and expired ones
as a new series of attempts, with the same id and Message-ID; GetMessage shows every attempt."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf import duration_pb2
from sqlalchemy import update

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from mailgate.gen.zitadel import admin_pb2
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.store.clock import now_us
from mailgate.store.tables import messages
from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer, delivery_attempt, record_attempt

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _cancel(writer: Mailer, message_id: str) -> pb.Message:
    return (await writer("CancelMessage", pb.CancelMessageRequest(id=message_id))).message


async def _retry(writer: Mailer, message_id: str, **fields: object) -> pb.Message:
    return (await writer("RetryMessage", pb.RetryMessageRequest(id=message_id, **fields))).message


async def test_cancel_a_queued_message(provider: str, sender: Mailer, writer: Mailer) -> None:
    message = await sender.send()
    canceled = await _cancel(writer, message.id)
    assert canceled.state == pb.MESSAGE_STATE_CANCELED
    assert not canceled.HasField("next_attempt_time")
    assert await sender.get(message.id) == canceled

    again = await writer.fail("CancelMessage", pb.CancelMessageRequest(id=message.id))
    assert again.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-MESSAGE-STATE")
    assert "CANCELED" in again.message


async def test_cancel_a_deferred_message(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer
) -> None:
    message = await sender.send()
    attempt = delivery_attempt(1, provider, ReplyClass.TRANSIENT, 451)
    await record_attempt(server, message.id, attempt, MessageState.DEFERRED)
    assert (await _cancel(writer, message.id)).state == pb.MESSAGE_STATE_CANCELED


@pytest.mark.parametrize("state", [MessageState.SENT, MessageState.FAILED, MessageState.EXPIRED])
async def test_final_messages_cannot_be_canceled(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer, state: MessageState
) -> None:
    message = await sender.send()
    reply = ReplyClass.DELIVERED if state is MessageState.SENT else ReplyClass.PERMANENT
    await record_attempt(server, message.id, delivery_attempt(1, provider, reply, 250), state)
    refused = await writer.fail("CancelMessage", pb.CancelMessageRequest(id=message.id))
    assert refused.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-MESSAGE-STATE")
    assert (await sender.get(message.id)).state == pb.MessageState.Value(f"MESSAGE_STATE_{state.name}")


async def test_a_message_a_worker_holds_cannot_be_canceled(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer
) -> None:
    message = await sender.send()
    async with server.services.db.write() as conn:
        await conn.execute(
            update(messages)
            .where(messages.c.instance_id == server.instance, messages.c.id == message.id)
            .values(claimed_by="worker-1", claimed_until_us=now_us() + 60_000_000)
        )
    refused = await writer.fail("CancelMessage", pb.CancelMessageRequest(id=message.id))
    assert refused.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-MESSAGE-STATE")
    assert "being sent" in refused.message
    assert (await sender.get(message.id)).state == pb.MESSAGE_STATE_QUEUED


async def test_unknown_messages_are_not_found(writer: Mailer) -> None:
    for rpc, request in (
        ("CancelMessage", pb.CancelMessageRequest(id="123")),
        ("RetryMessage", pb.RetryMessageRequest(id="123")),
        ("GetMessage", pb.GetMessageRequest(id="123")),
    ):
        missing = await writer.fail(rpc, request)
        assert missing.is_zitadel(grpc.StatusCode.NOT_FOUND, "MG-MESSAGE-NOT-FOUND"), rpc


async def test_get_shows_every_attempt_with_its_timeline(
    provider: str, sender: Mailer, server: RunningServer
) -> None:
    message = await sender.send()
    await record_attempt(
        server, message.id, delivery_attempt(1, provider, ReplyClass.TRANSIENT, 451), MessageState.DEFERRED
    )
    await record_attempt(
        server, message.id, delivery_attempt(2, provider, ReplyClass.PERMANENT, 550), MessageState.FAILED
    )
    shown = await sender.get(message.id)
    assert shown.state == pb.MESSAGE_STATE_FAILED
    assert shown.attempt_count == 2 and shown.provider_id == provider
    assert [a.number for a in shown.attempts] == [1, 2]
    last = shown.attempts[1]
    assert shown.last_attempt == last
    assert (last.reply_class, last.stage, last.reply_code, last.enhanced_status_code) == (
        pb.REPLY_CLASS_PERMANENT,
        report_pb.SMTP_TEST_STAGE_RCPT_TO,
        550,
        "5.1.1",
    )
    assert [(s.stage, s.started_ms, s.duration_ms) for s in last.steps] == [
        (report_pb.SMTP_TEST_STAGE_CONNECT, 0, 5),
        (report_pb.SMTP_TEST_STAGE_GREETING, 5, 10),
        (report_pb.SMTP_TEST_STAGE_RCPT_TO, 15, 27),
    ]
    listed = (await sender.listing()).messages[0]
    assert listed.last_attempt == last and list(listed.attempts) == []


@pytest.mark.parametrize("state", [MessageState.FAILED, MessageState.EXPIRED])
async def test_retry_starts_a_new_series_with_the_same_ids(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer, state: MessageState
) -> None:
    message = await sender.send(expires_after=duration_pb2.Duration(seconds=600), max_attempts=2)
    await record_attempt(server, message.id, delivery_attempt(1, provider, ReplyClass.TRANSIENT, 451), state)

    retried = await _retry(writer, message.id)
    assert retried.state == pb.MESSAGE_STATE_QUEUED
    assert (retried.id, retried.internet_message_id) == (message.id, message.internet_message_id)
    assert retried.attempt_count == 1 and [a.number for a in (await sender.get(message.id)).attempts] == [1]
    assert retried.max_attempts == 1 + 10  # ten more attempts by default
    assert retried.next_attempt_time.ToDatetime() >= message.create_time.ToDatetime()
    lifetime = retried.expire_time.ToDatetime() - retried.update_time.ToDatetime()
    assert lifetime == timedelta(minutes=10)  # as long as the message was first given

    again = await writer.fail("RetryMessage", pb.RetryMessageRequest(id=message.id))
    assert again.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-MESSAGE-STATE")


async def test_retry_with_its_own_expiry_and_attempts(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer
) -> None:
    message = await sender.send()
    failed = delivery_attempt(3, provider, ReplyClass.PERMANENT, 550)
    await record_attempt(server, message.id, failed, MessageState.FAILED)
    two_minutes = duration_pb2.Duration(seconds=120)
    retried = await _retry(writer, message.id, expires_after=two_minutes, max_attempts=2)
    assert retried.max_attempts == 3 + 2
    assert retried.expire_time.ToDatetime() - retried.update_time.ToDatetime() == timedelta(minutes=2)


@pytest.mark.parametrize("state", [MessageState.QUEUED, MessageState.DEFERRED, MessageState.SENT])
async def test_only_failed_or_expired_messages_are_retried(
    provider: str, sender: Mailer, writer: Mailer, server: RunningServer, state: MessageState
) -> None:
    message = await sender.send()
    if state is not MessageState.QUEUED:
        attempt = delivery_attempt(1, provider, ReplyClass.DELIVERED, 250)
        await record_attempt(server, message.id, attempt, state)
    refused = await writer.fail("RetryMessage", pb.RetryMessageRequest(id=message.id))
    assert refused.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-MESSAGE-STATE")


async def test_retry_needs_the_bodies_and_an_active_provider(
    provider: str, sender: Mailer, writer: Mailer, admin: Admin, server: RunningServer
) -> None:
    kept, emptied = await sender.send(), await sender.send()
    for message in (kept, emptied):
        failed = delivery_attempt(1, provider, ReplyClass.PERMANENT, 550)
        await record_attempt(server, message.id, failed, MessageState.FAILED)
    # Retention deletes the bodies of final messages (the workers' cleanup).
    async with server.services.db.write() as conn:
        await conn.execute(
            update(messages)
            .where(messages.c.instance_id == server.instance, messages.c.id == emptied.id)
            .values(text_sealed=None, html_sealed=None)
        )
    gone = await writer.fail("RetryMessage", pb.RetryMessageRequest(id=emptied.id))
    assert gone.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-BODIES-GONE")

    await admin("DeactivateEmailProvider", admin_pb2.DeactivateEmailProviderRequest(id=provider))
    none = await writer.fail("RetryMessage", pb.RetryMessageRequest(id=kept.id))
    assert none.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-NO-PROVIDER")
    assert (await sender.get(kept.id)).state == pb.MESSAGE_STATE_FAILED
    assert [a.number for a in (await sender.get(kept.id)).attempts] == [1]
