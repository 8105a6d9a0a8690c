"""mailgate.v1.HistoryService: pages newest first with keyset tokens and filters (per instance and
per provider, over gRPC and JSON), and the live stream over gRPC and Server-Sent Events, resuming
from a cursor without gaps."""

from __future__ import annotations

import asyncio
import json

import grpc
import httpx
import pytest

from mailgate.gen.mailgate.v1 import history_pb2 as pb
from mailgate.gen.mailgate.v1 import history_pb2_grpc
from tests.fixtures.credentials import PASSWORD
from tests.fixtures.rpc import Admin, plain, smtp_update
from tests.fixtures.servers import RunningServer
from tests.history.helpers import DESCRIPTION, described

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _stub(server: RunningServer) -> history_pb2_grpc.HistoryServiceStub:
    return history_pb2_grpc.HistoryServiceStub(server.channel)


async def test_list_history_newest_first_with_pages_filters_and_diffs(server: RunningServer) -> None:
    caller, token_id = await described(server)
    provider = await caller.add_smtp(description="one", user="mailer", plain=plain(PASSWORD))
    await caller("UpdateEmailProviderSMTP", smtp_update(provider, description="two", user="mailer"))
    other = await caller.add_smtp(description="other")
    await caller.activate(provider)
    stub = _stub(server)

    only = "instance."  # the provider events (each test's tokens have events too)
    first = await stub.ListHistory(
        pb.ListHistoryRequest(page_size=2, type_prefix=only), metadata=caller.metadata
    )
    second = await stub.ListHistory(
        pb.ListHistoryRequest(page_size=2, type_prefix=only, page_token=first.next_page_token),
        metadata=caller.metadata,
    )
    mine = await stub.ListHistory(pb.ListHistoryRequest(provider_id=provider), metadata=caller.metadata)
    changes = await stub.ListHistory(
        pb.ListHistoryRequest(type_prefix="instance.smtp.config.ch"), metadata=caller.metadata
    )

    base = second.events[1].sequence
    assert [e.sequence for e in first.events] == [base + 3, base + 2] and first.next_page_token
    assert [e.sequence for e in second.events] == [base + 1, base] and second.next_page_token == ""
    assert {e.provider_id for e in mine.events} == {provider} and len(mine.events) == 3
    [changed] = changes.events
    assert [(c.field, c.old_value.string_value, c.new_value.string_value) for c in changed.changes] == [
        ("description", "one", "two")
    ]
    added = second.events[1]
    assert added.secret_changed and added.secrets[0].field == "password"
    assert PASSWORD not in str(added)
    assert added.actor.token_id == token_id and added.actor.token_description == DESCRIPTION
    assert added.actor.transport == "grpc" and added.actor.client_address == "127.0.0.1"
    assert len(added.actor.request_id) == 16
    assert first.events[1].provider_id == other
    assert first.events[0].prev_hash == first.events[1].hash  # chained


async def test_list_history_per_provider_over_json(server: RunningServer, admin: Admin) -> None:
    provider = await admin.add_smtp()
    await admin.add_smtp()
    token = await server.token("iam.read")
    async with httpx.AsyncClient(base_url=server.http_base) as http:
        answer = await http.post(
            f"/v1/providers/{provider}/history/_search",
            json={"pageSize": 10},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert answer.status_code == 200, answer.text
    [event] = answer.json()["events"]  # the other provider's and the tokens' events are not among them
    assert event["type"] == "instance.smtp.config.added" and event["providerId"] == provider
    assert event["actor"]["transport"] == "grpc"


async def test_a_page_token_of_other_filters_is_invalid_argument(admin: Admin, server: RunningServer) -> None:
    for _ in range(3):
        await admin.add_smtp()
    stub = _stub(server)
    page = await stub.ListHistory(pb.ListHistoryRequest(page_size=1), metadata=admin.metadata)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListHistory(
            pb.ListHistoryRequest(page_size=1, page_token=page.next_page_token, type_prefix="mailgate."),
            metadata=admin.metadata,
        )
    with pytest.raises(grpc.aio.AioRpcError) as too_large:
        await stub.ListHistory(pb.ListHistoryRequest(page_size=501), metadata=admin.metadata)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert too_large.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_watch_catches_up_from_a_cursor_then_follows(admin: Admin, server: RunningServer) -> None:
    ids = [await admin.add_smtp(description=f"p{n}") for n in range(3)]  # 2, 3, 4 (1: the token)
    call = _stub(server).WatchHistory(pb.WatchHistoryRequest(after_sequence=2), metadata=admin.metadata)
    seen = [await call.read(), await call.read()]  # caught up: 3 and 4
    await admin.activate(ids[0])  # committed while watching: 5
    seen.append(await asyncio.wait_for(call.read(), 10))
    call.cancel()

    assert [r.event.sequence for r in seen] == [3, 4, 5]
    assert seen[2].event.type == "instance.smtp.config.activated"


async def test_another_instance_s_watch_sees_nothing(
    admin: Admin, stranger: Admin, server: RunningServer
) -> None:
    call = _stub(server).WatchHistory(
        pb.WatchHistoryRequest(type_prefix="instance."), metadata=stranger.metadata
    )
    await admin.add_smtp()
    await stranger.add_smtp()
    first = await asyncio.wait_for(call.read(), 10)
    call.cancel()

    assert first.event.sequence == 2 and first.event.instance_id != server.instance


async def test_server_sent_events_stream_and_resume_with_last_event_id(
    admin: Admin, server: RunningServer
) -> None:
    for n in range(3):
        await admin.add_smtp(description=f"p{n}")
    token = await server.token("iam.read")  # events 1 (admin's token), 2 to 4, then 5 (this token)
    headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": "2"}
    seen: list[tuple[str, dict[str, object]]] = []
    async with (
        httpx.AsyncClient(base_url=server.http_base, timeout=10) as http,
        http.stream("GET", "/v1/history/_watch", headers=headers) as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream"
        event_id = ""
        async for line in answer.aiter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                seen.append((event_id, json.loads(line[6:])))
                if len(seen) == 2:
                    await admin.add_smtp(description="live")
                if len(seen) == 3:
                    break

    assert [event_id for event_id, _ in seen] == ["3", "4", "5"]
    assert [data["event"]["type"] for _, data in seen][2] == "mailgate.token.added"


async def test_streams_are_not_served_over_grpc_web_or_connect(admin: Admin, server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_base) as http:
        answer = await http.post(
            "/mailgate.v1.HistoryService/WatchHistory",
            content=b"{}",
            headers={"Content-Type": "application/json", "Authorization": admin.metadata[0][1]},
        )

    assert answer.status_code != 200
