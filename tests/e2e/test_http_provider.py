"""An HTTP provider through a served mailgate: the operator adds it (and is shown its signing key
once), the platform sends, and a local receiver verifies ZITADEL-Signature with that key as
zitadel-go does before it answers. Its status decides the message: 2xx sent, 429 retried no
earlier than Retry-After, 5xx retried, any other 4xx failed at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from tests.delivery.sinks import Answer, HttpReceiver
from tests.e2e.conftest import Serve
from tests.e2e.tenant import Tenant, classes, providers, state_name
from tests.fixtures.network import LOCAL
from tests.fixtures.smtp import unique


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    running = HttpReceiver()
    yield running
    running.close()


async def provider_at(tenant: Tenant, receiver: HttpReceiver) -> str:
    """The tenant's active HTTP provider posting to `receiver`, which checks its signing key."""
    provider_id, signing_key = await tenant.http_provider(receiver.url(LOCAL, scheme="http"), active=True)
    assert signing_key
    receiver.key = signing_key
    return provider_id


async def test_a_signed_post_answered_202_is_sent(serve: Serve, receiver: HttpReceiver) -> None:
    tenant = await serve()
    provider_id = await provider_at(tenant, receiver)
    to = unique("dana")
    queued = await tenant.send(to, idempotency_key="welcome-dana", category="welcome")
    message = await tenant.settled(queued.id)

    assert (state_name(message.state), classes(message), providers(message)) == (
        "sent",
        ["delivered"],
        [provider_id],
    )
    assert message.last_attempt.reply_code == 202
    [request] = receiver.requests
    assert request.verdict == ""  # signed with the key the operator was shown
    assert request.headers["Idempotency-Key"] == "welcome-dana"
    document = request.document
    assert (document["to"], document["subject"], document["text"], document["category"]) == (
        [to],
        "Verify your email",
        "Your code is 123456.",
        "welcome",
    )
    assert document["messageId"] == queued.internet_message_id


RETRIED = {
    "429 with Retry-After": ([Answer(429, {"Retry-After": "1"}, b'{"error":"slow down"}')], 1.0),
    "500, then 503": ([Answer(500, body=b"{}"), Answer(503, body=b"{}")], 0.0),
}


@pytest.mark.parametrize("case", list(RETRIED))
async def test_transient_answers_are_retried_no_earlier_than_asked(
    case: str, serve: Serve, receiver: HttpReceiver
) -> None:
    answers, floor = RETRIED[case]
    tenant = await serve()
    await provider_at(tenant, receiver)
    receiver.answers = list(answers)  # then 202

    queued = await tenant.send(unique())
    message = await tenant.settled(queued.id)
    assert (state_name(message.state), classes(message)) == (
        "sent",
        ["transient"] * len(answers) + ["delivered"],
    )
    assert [a.reply_code for a in message.attempts] == [a.status for a in answers] + [202]
    requests = receiver.requests
    assert len(requests) == len(answers) + 1 and all(request.verdict == "" for request in requests)
    # One message, one identity on every attempt: the receiver can drop a duplicate.
    assert {r.headers["Idempotency-Key"] for r in requests} == {queued.internet_message_id}
    assert {r.document["messageId"] for r in requests} == {queued.internet_message_id}
    first, second = (attempt.start_time.ToDatetime() for attempt in message.attempts[:2])
    assert second - first >= timedelta(seconds=floor)
    assert requests[1].at - requests[0].at >= floor


async def test_a_refusal_fails_the_message_at_once(serve: Serve, receiver: HttpReceiver) -> None:
    tenant = await serve()
    await provider_at(tenant, receiver)
    receiver.answer = Answer(400, body=b'{"error":"to: unknown domain"}')

    message = await tenant.settled((await tenant.send(unique(), max_attempts=5)).id)
    assert (state_name(message.state), classes(message)) == ("failed", ["permanent"])
    assert message.last_attempt.reply_code == 400
    assert len(receiver.requests) == 1


async def test_a_receiver_that_holds_another_key_refuses_every_message(
    serve: Serve, receiver: HttpReceiver
) -> None:
    tenant = await serve()
    await provider_at(tenant, receiver)
    receiver.key = "a-key-this-provider-never-had"

    message = await tenant.settled((await tenant.send(unique(), max_attempts=5)).id)
    assert state_name(message.state) == "failed"
    assert [(a.reply_class, a.reply_code) for a in message.attempts] == [(pb.REPLY_CLASS_PERMANENT, 401)]
    [request] = receiver.requests
    assert request.verdict == "no valid signature"
