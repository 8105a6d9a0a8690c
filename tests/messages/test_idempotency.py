"""Idempotency keys: a replay answers the first message, a different request under the key is refused,
and many concurrent requests with one key make exactly one message (the unique index decides)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.zitadel import admin_pb2
from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer, send_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

FIRST: dict[str, Any] = {"to": ["ann@example.com"], "idempotency_key": "signup-42/verify"}


async def test_a_replay_answers_the_first_message_and_queues_nothing(provider: str, sender: Mailer) -> None:
    first = await sender("SendEmail", send_request(**FIRST))
    again = await sender("SendEmail", send_request(**FIRST))
    assert (first.replayed, again.replayed) == (False, True)
    assert again.message == first.message
    assert [m.id for m in (await sender.listing()).messages] == [first.message.id]


async def test_a_replay_shows_the_message_as_it_stands(provider: str, sender: Mailer, writer: Mailer) -> None:
    first = await sender("SendEmail", send_request(**FIRST))
    await writer("CancelMessage", pb.CancelMessageRequest(id=first.message.id))
    again = await sender("SendEmail", send_request(**FIRST))
    assert again.replayed and again.message.id == first.message.id
    assert again.message.state == pb.MESSAGE_STATE_CANCELED


async def test_the_default_expiry_given_explicitly_is_the_same_request(provider: str, sender: Mailer) -> None:
    first = await sender("SendEmail", send_request(**FIRST))
    day = duration_pb2.Duration(seconds=86_400)
    again = await sender("SendEmail", send_request(**FIRST, expires_after=day, max_attempts=10))
    assert again.replayed and again.message.id == first.message.id


@pytest.mark.parametrize(
    "change",
    [
        {"text_body": "Your code is 654321."},
        {"html_body": "<p>Your code is 123456.</p>"},
        {"subject": "Verify your address"},
        {"to": ["bob@example.com"]},
        {"to": ["ann@example.com", "bob@example.com"]},
        {"reply_to": "help@example.com"},
        {"category": "verify"},
        {"headers": [pb.EmailHeader(name="X-Campaign", value="a")]},
        {"expires_after": duration_pb2.Duration(seconds=600)},
        {"max_attempts": 3},
    ],
    ids=lambda change: ",".join(change),
)
async def test_a_different_request_under_a_used_key_is_refused(
    provider: str, sender: Mailer, change: dict[str, Any]
) -> None:
    first = await sender("SendEmail", send_request(**FIRST))
    refused = await sender.fail("SendEmail", send_request(**{**FIRST, **change}))
    assert refused.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-IDEMPOTENCY-KEY-REUSED")
    assert "different request" in refused.message
    assert [m.id for m in (await sender.listing()).messages] == [first.message.id]


async def test_keys_belong_to_their_instance(provider: str, sender: Mailer, server: RunningServer) -> None:
    other_instance = server.instance + "-other"
    other_admin = Admin(server.stub, await server.metadata("iam.write", other_instance))
    await other_admin.activate(await other_admin.add_smtp())
    other = await Mailer.with_token(server, "email.send", other_instance)

    mine = await sender("SendEmail", send_request(**FIRST))
    theirs = await other("SendEmail", send_request(**FIRST))
    assert not theirs.replayed and theirs.message.id != mine.message.id


async def test_concurrent_requests_with_one_key_make_one_message(provider: str, sender: Mailer) -> None:
    answers = await asyncio.gather(*(sender("SendEmail", send_request(**FIRST)) for _ in range(50)))
    assert len({answer.message.id for answer in answers}) == 1
    assert sorted(answer.replayed for answer in answers) == [False] + [True] * 49
    assert len((await sender.listing()).messages) == 1


async def test_concurrent_requests_with_one_key_but_different_content(provider: str, sender: Mailer) -> None:
    bodies = [f"Your code is {n:06d}." for n in range(20)]
    results = await asyncio.gather(
        *(sender("SendEmail", send_request(**FIRST, text_body=body)) for body in bodies),
        return_exceptions=True,
    )
    accepted = [r for r in results if isinstance(r, pb.SendEmailResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(accepted) == 1 and not accepted[0].replayed
    assert len(refused) == 19
    assert {error.code() for error in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert len((await sender.listing()).messages) == 1


async def test_a_replay_needs_no_active_provider(provider: str, sender: Mailer, admin: Admin) -> None:
    first = await sender("SendEmail", send_request(**FIRST))
    await admin("DeactivateEmailProvider", admin_pb2.DeactivateEmailProviderRequest(id=provider))
    again = await sender("SendEmail", send_request(**FIRST))
    assert again.replayed and again.message.id == first.message.id
    fresh = await sender.fail("SendEmail", send_request(**{**FIRST, "idempotency_key": "another"}))
    assert fresh.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, "MG-NO-PROVIDER")
