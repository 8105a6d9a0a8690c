"""ZITADEL's event API over gRPC: every provider change is an event of ZITADEL's type, on the
instance aggregate, with its payload and editor; filters and paging as ZITADEL defines them."""

from __future__ import annotations

import base64

import grpc
import pytest
from google.protobuf import timestamp_pb2
from sqlalchemy import select

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.store.tables import history_events
from tests.fixtures.credentials import PASSWORD
from tests.fixtures.rpc import Admin, plain, smtp_update
from tests.fixtures.servers import RunningServer
from tests.history.helpers import DESCRIPTION, described, events, payload, provider_events, types

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_each_provider_change_is_one_event_of_zitadels_type(server: RunningServer) -> None:
    caller, token_id = await described(server)
    first = await caller.add_smtp(description="first", user="mailer", plain=plain())
    await caller(
        "UpdateEmailProviderSMTP",
        smtp_update(first, description="renamed", host="smtp.example.org:25", user="mailer", plain=plain()),
    )
    await caller(
        "UpdateEmailProviderSMTPPassword",
        pb.UpdateEmailProviderSMTPPasswordRequest(id=first, password="n3w!"),
    )
    await caller.activate(first)
    second = await caller.add_http(endpoint="https://relay.example.com/hook", description="hook")
    await caller(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(
            id=second, endpoint="https://relay.example.com/v2", description="hook"
        ),
    )
    await caller.activate(second)  # deactivates the first, in the same transaction
    await caller("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=second))
    await caller("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=first))

    found = await provider_events(caller, asc=True)

    assert types(found) == [
        "instance.smtp.config.added",
        "instance.smtp.config.changed",
        "instance.smtp.config.password.changed",
        "instance.smtp.config.activated",
        "instance.smtp.config.http.added",
        "instance.smtp.config.http.changed",
        "instance.smtp.config.deactivated",
        "instance.smtp.config.activated",
        "instance.smtp.config.deactivated",
        "instance.smtp.config.removed",
    ]
    sequences = [event.sequence for event in found]
    assert sequences == list(range(sequences[0], sequences[0] + 10))  # one event each, in order
    added, changed, password, activated, http_added, http_changed, auto_off, _, _, removed = found
    assert payload(added) == {
        "id": first,
        "description": "first",
        "senderAddress": "noreply@example.com",
        "senderName": "Example",
        "replyToAddress": "",
        "tls": False,
        "host": "smtp.example.com:587",
        "user": "mailer",
        "authType": "plain",
    }
    assert payload(changed) == {"id": first, "description": "renamed", "host": "smtp.example.org:25"}
    assert payload(password) == {"id": first}
    assert payload(activated) == {"id": first}
    assert payload(http_added) == {
        "id": second,
        "description": "hook",
        "endpoint": "https://relay.example.com/hook",
    }
    assert payload(http_changed) == {"id": second, "endpoint": "https://relay.example.com/v2"}
    assert payload(auto_off) == {"id": first}
    assert payload(removed) == {"id": first}
    for event in found:
        assert event.aggregate.id == server.instance
        assert event.aggregate.type.type == "instance"
        assert event.aggregate.resource_owner == server.instance
        assert event.editor.user_id == token_id
        assert event.editor.display_name == DESCRIPTION
        assert event.editor.service == "grpc"
        assert event.type.localized.localized_message
        assert event.creation_date.seconds > 0


async def test_no_secret_is_in_any_event(server: RunningServer) -> None:
    caller, _ = await described(server)
    provider = await caller.add_smtp(user="mailer", plain=plain(PASSWORD))
    await caller(
        "UpdateEmailProviderSMTPPassword",
        pb.UpdateEmailProviderSMTPPasswordRequest(id=provider, password=PASSWORD),
    )
    http = await caller(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="https://relay.example.com/x")
    )

    answer = (await caller("ListEvents", pb.ListEventsRequest())).SerializeToString()
    async with server.services.db.read() as conn:
        every = (await conn.execute(select(history_events))).mappings().all()
    stored = repr([dict(row) for row in every]).encode()  # every instance's events, this one's among them
    ours = [row for row in every if row["instance_id"] == server.instance]
    rows = sorted((row for row in ours if row["type"].startswith("instance.")), key=lambda r: r["sequence"])

    # The secret's fingerprint answers "was it set, and to the same as before?" without the secret.
    [[field, added_print]], [[_, set_again_print]] = rows[0]["secrets"], rows[1]["secrets"]
    assert field == "password" and added_print == set_again_print and len(added_print) > 20
    for secret in (PASSWORD, http.signing_key):
        for form in (secret.encode(), base64.b64encode(secret.encode())):
            assert form not in answer
            assert form not in stored


async def test_a_change_that_changes_nothing_records_nothing(admin: Admin) -> None:
    provider = await admin.add_smtp()
    await admin("UpdateEmailProviderSMTP", smtp_update(provider))

    assert types(await provider_events(admin)) == ["instance.smtp.config.added"]


async def test_paging_by_sequence_both_ways(admin: Admin) -> None:
    for n in range(5):
        await admin.add_smtp(description=f"p{n}")

    every = [e.sequence for e in await events(admin, asc=True)]  # the token's event, then the five
    newest = await events(admin, limit=2)
    older = await events(admin, limit=2, sequence=newest[-1].sequence)
    oldest_first = await events(admin, asc=True, sequence=every[1], limit=2)

    assert len(every) == 6 and every == sorted(every)
    assert [e.sequence for e in newest] == [every[5], every[4]]
    assert [e.sequence for e in older] == [every[3], every[2]]
    assert [e.sequence for e in oldest_first] == [every[2], every[3]]


async def test_filters_narrow_the_events(server: RunningServer) -> None:
    one, one_id = await described(server)
    other, _ = await described(server)
    provider = await one.add_smtp()
    await other.activate(provider)

    by_editor = await events(one, editor_user_id=one_id)
    by_type = await events(
        one, event_types=["instance.smtp.config.activated", "instance.smtp.config.removed"]
    )
    by_aggregate = await events(one, aggregate_types=["instance"], aggregate_id=server.instance)
    foreign = await events(one, aggregate_id=server.instance + "-other")
    future = timestamp_pb2.Timestamp(seconds=4_000_000_000)
    in_range = await events(one, range=pb.ListEventsRequest.creation_date_range(until=future))
    after_now = await events(one, asc=True, **{"from": future})

    assert types(by_editor) == ["instance.smtp.config.added"]
    assert types(by_type) == ["instance.smtp.config.activated"]
    # Newest first: the two changes, then both tokens' creations (by the system, not over the API).
    assert types(by_aggregate)[:2] == ["instance.smtp.config.activated", "instance.smtp.config.added"]
    assert len(by_aggregate) == 4 and len(in_range) == 4
    assert foreign == [] and after_now == []


async def test_an_unknown_event_type_is_invalid_argument(admin: Admin) -> None:
    failed = await admin.fail(
        "ListEvents", pb.ListEventsRequest(event_types=["instance.smtp.config.exploded"])
    )

    assert failed.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "instance.smtp.config.exploded" in failed.message


async def test_more_than_30_event_types_is_invalid_argument(admin: Admin) -> None:
    failed = await admin.fail(
        "ListEvents", pb.ListEventsRequest(event_types=["instance.smtp.config.added"] * 31)
    )

    assert failed.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_another_instance_sees_none_of_the_events(
    admin: Admin, stranger: Admin, server: RunningServer
) -> None:
    await admin.add_smtp()

    assert await provider_events(stranger) == []
    assert {e.aggregate.id for e in await events(stranger)} == {server.instance + "-other"}


async def test_event_and_aggregate_types_are_listed(reader: Admin) -> None:
    kinds = await reader("ListEventTypes", pb.ListEventTypesRequest())
    aggregates = await reader("ListAggregateTypes", pb.ListAggregateTypesRequest())

    names = [kind.type for kind in kinds.event_types]
    assert names[:8] == [
        "instance.smtp.config.added",
        "instance.smtp.config.changed",
        "instance.smtp.config.password.changed",
        "instance.smtp.config.http.added",
        "instance.smtp.config.http.changed",
        "instance.smtp.config.activated",
        "instance.smtp.config.deactivated",
        "instance.smtp.config.removed",
    ]
    assert all(name.startswith("mailgate.") for name in names[8:])
    assert {
        "mailgate.breaker.changed",
        "mailgate.delivery.failed_over",
        "mailgate.delivery.failed_back",
    } <= set(names)
    assert [a.type for a in aggregates.aggregate_types] == ["instance"]
    assert aggregates.aggregate_types[0].localized.key == "AggregateTypes.instance"


async def test_a_send_token_may_not_read_events(server: RunningServer) -> None:
    sender = Admin(server.stub, await server.metadata("email.send"))

    failed = await sender.fail("ListEvents", pb.ListEventsRequest())

    assert failed.code == grpc.StatusCode.PERMISSION_DENIED


async def test_token_creation_and_revocation_are_recorded_without_the_token(server: RunningServer) -> None:
    caller, _ = await described(server)
    record, token = await server.services.tokens.create(server.instance, "iam.read", "reader for the SIEM")
    await server.services.tokens.revoke(record.id)

    found = await events(caller, event_types=["mailgate.token.added", "mailgate.token.revoked"], asc=True)

    assert types(found)[-2:] == ["mailgate.token.added", "mailgate.token.revoked"]
    about = {"id": record.id, "permission": "iam.read", "description": "reader for the SIEM"}
    assert payload(found[-2]) == about and payload(found[-1]) == about
    assert found[-1].editor.service == "system"
    assert token.encode() not in b"".join(e.SerializeToString() for e in found)
