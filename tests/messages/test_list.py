"""ListMessages: newest first, every filter, keyset pages that neither skip nor repeat a message."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import timestamp_pb2

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.outbox.model import MessageState, ReplyClass
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer, delivery_attempt, record_attempt

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _ids(mailer: Mailer, **fields: object) -> list[str]:
    return [m.id for m in (await mailer.listing(**fields)).messages]


async def test_pages_go_through_every_message_once_newest_first(provider: str, sender: Mailer) -> None:
    sent = [(await sender.send()).id for _ in range(23)]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await sender.listing(page_size=10, page_token=token)
        seen.extend(m.id for m in page.messages)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == list(reversed(sent))
    assert await _ids(sender) == list(reversed(sent))  # the default page holds 100


async def test_a_page_exactly_full_has_no_next_page(provider: str, sender: Mailer) -> None:
    for _ in range(5):
        await sender.send()
    page = await sender.listing(page_size=5)
    assert len(page.messages) == 5 and page.next_page_token == ""


async def test_filters(provider: str, sender: Mailer, reader: Mailer, server: RunningServer) -> None:
    welcome = await sender.send(to=["Ann@Example.com", "bob@example.com"], category="welcome")
    reset = await sender.send(to=["carol@example.com"], category="password_reset")
    failed = await sender.send(to=["dave@example.com"], category="password_reset")
    attempt = delivery_attempt(1, provider, ReplyClass.PERMANENT, 550)
    await record_attempt(server, failed.id, attempt, MessageState.FAILED)

    assert await _ids(reader, recipient="ann@example.COM") == [welcome.id]
    assert await _ids(reader, recipient="bob@example.com") == [welcome.id]
    assert await _ids(reader, recipient="nobody@example.com") == []
    assert await _ids(reader, category="password_reset") == [failed.id, reset.id]
    assert await _ids(reader, states=[pb.MESSAGE_STATE_FAILED]) == [failed.id]
    both = [pb.MESSAGE_STATE_QUEUED, pb.MESSAGE_STATE_FAILED]
    assert await _ids(reader, states=both) == [failed.id, reset.id, welcome.id]
    assert await _ids(reader, provider_id=provider) == [failed.id]
    assert await _ids(reader, category="password_reset", states=[pb.MESSAGE_STATE_QUEUED]) == [reset.id]

    start = reset.create_time
    assert await _ids(reader, create_time_start=start) == [failed.id, reset.id]
    assert await _ids(reader, create_time_end=start) == [welcome.id]
    after_all = timestamp_pb2.Timestamp(seconds=failed.create_time.seconds + 3600)
    assert await _ids(reader, create_time_start=after_all) == []


async def test_pages_keep_their_filter(provider: str, sender: Mailer) -> None:
    for _ in range(3):
        await sender.send(category="welcome")
    await sender.send(category="other")
    first = await sender.listing(category="welcome", page_size=2)
    second = await sender.listing(category="welcome", page_size=2, page_token=first.next_page_token)
    assert len(first.messages) == 2 and len(second.messages) == 1
    assert {m.category for m in [*first.messages, *second.messages]} == {"welcome"}

    other = await sender.fail(
        "ListMessages", pb.ListMessagesRequest(category="other", page_token=first.next_page_token)
    )
    assert other.is_zitadel(grpc.StatusCode.INVALID_ARGUMENT, "MG-PAGE-TOKEN")


@pytest.mark.parametrize("token", ["x", "not base64 !", "W10", "WzEsMiwzXQ", "eyJhIjogMX0"])
async def test_a_made_up_page_token_is_refused(sender: Mailer, token: str) -> None:
    refused = await sender.fail("ListMessages", pb.ListMessagesRequest(page_token=token))
    assert refused.is_zitadel(grpc.StatusCode.INVALID_ARGUMENT, "MG-PAGE-TOKEN")
    assert refused.bad_request is not None
    assert [v.field for v in refused.bad_request.field_violations] == ["page_token"]


async def test_list_limits(sender: Mailer) -> None:
    for request, field in (
        (pb.ListMessagesRequest(page_size=1001), "page_size"),
        (pb.ListMessagesRequest(states=[pb.MESSAGE_STATE_UNSPECIFIED]), "states[0]"),
        (pb.ListMessagesRequest(states=[99]), "states[0]"),
        (pb.ListMessagesRequest(recipient="r" * 255), "recipient"),
        (pb.ListMessagesRequest(create_time_start=timestamp_pb2.Timestamp(seconds=-1)), "create_time_start"),
    ):
        refused = await sender.fail("ListMessages", request)
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.bad_request is not None
        assert field in [v.field for v in refused.bad_request.field_violations], request
