"""SendEmail through native gRPC: what is queued, what it answers, and the defaults."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf import duration_pb2

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.outbox.model import MessageState, ReplyClass
from tests.fixtures.rpc import Admin
from tests.fixtures.servers import running_server
from tests.messages.helpers import Mailer, delivery_attempt, record_attempt, send_request, unique_address

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_sent_email_is_queued_and_readable(provider: str, sender: Mailer) -> None:
    to = unique_address()
    response = await sender(
        "SendEmail",
        send_request(
            to=[to],
            subject="Welcome",
            html_body="<p>Hello</p>",
            reply_to="help@example.com",
            headers=[pb.EmailHeader(name="list-unsubscribe", value="<https://example.com/u>")],
            category="welcome",
        ),
    )
    message = response.message
    assert not response.replayed
    assert message.state == pb.MESSAGE_STATE_QUEUED
    assert (list(message.to), message.subject, message.reply_to, message.category) == (
        [to],
        "Welcome",
        "help@example.com",
        "welcome",
    )
    assert [(h.name, h.value) for h in message.headers] == [("List-Unsubscribe", "<https://example.com/u>")]
    assert message.sender_token_id == sender.token_id
    assert message.internet_message_id.startswith(f"<{message.id}.")
    assert message.internet_message_id.endswith("@example.com>")  # the provider's sender domain
    assert message.attempt_count == 0 and not message.HasField("last_attempt")
    created = message.create_time.ToDatetime()
    assert message.expire_time.ToDatetime() - created == timedelta(hours=24)
    assert message.next_attempt_time.ToDatetime() == created
    assert message.max_attempts == 10

    assert await sender.get(message.id) == message


async def test_expiry_and_attempts_as_asked(provider: str, sender: Mailer) -> None:
    message = await sender.send(expires_after=duration_pb2.Duration(seconds=300), max_attempts=3)
    assert message.expire_time.ToDatetime() - message.create_time.ToDatetime() == timedelta(minutes=5)
    assert message.max_attempts == 3


async def test_without_an_active_provider_nothing_is_queued(admin: Admin, sender: Mailer) -> None:
    inactive = await admin.add_smtp()
    refused = await sender.fail("SendEmail", send_request(idempotency_key="welcome-1"))
    assert refused.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-NO-PROVIDER")
    assert list((await sender.listing()).messages) == []

    await admin.activate(inactive)
    queued = await sender("SendEmail", send_request(idempotency_key="welcome-1"))
    assert not queued.replayed  # the refused call used no key


async def test_the_operators_attempts_setting_is_the_default_for_send_and_retry(
    shared_env: dict[str, str],
) -> None:
    async with running_server({**shared_env, "MAILGATE_DELIVERY_MAX_ATTEMPTS": "4"}) as running:
        server = running.for_new_instance("attempts")
        admin = Admin(server.stub, await server.metadata("iam.write"))
        provider = await admin.add_smtp()
        await admin.activate(provider)
        sender = await Mailer.with_token(server, "email.send")
        message = await sender.send()
        assert message.max_attempts == 4
        assert (await sender.send(max_attempts=7)).max_attempts == 7

        attempt = delivery_attempt(1, provider, ReplyClass.TRANSIENT, 451)
        await record_attempt(server, message.id, attempt, MessageState.FAILED)
        writer = await Mailer.with_token(server, "iam.write")
        retried = await writer("RetryMessage", pb.RetryMessageRequest(id=message.id))
        assert retried.message.max_attempts == 1 + 4
