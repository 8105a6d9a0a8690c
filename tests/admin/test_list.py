"""ListEmailProviders: paging (9.5), order, totals and processed_sequence (9.14)."""

from __future__ import annotations

import grpc
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import object_pb2
from tests.fixtures.rpc import ACTIVE, INACTIVE, Admin
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _add_five(admin: Admin) -> list[str]:
    """Five providers, SMTP and HTTP, in creation order."""
    ids = []
    for n in range(5):
        if n % 2:
            ids.append(await admin.add_http(description=f"p{n}"))
        else:
            ids.append(await admin.add_smtp(description=f"p{n}"))
    return ids


async def test_empty_instance(admin: Admin) -> None:
    listed = await admin.listing()

    assert list(listed.result) == []
    assert listed.details.total_result == 0
    assert listed.details.HasField("view_timestamp")


async def test_newest_first_by_default_and_oldest_first_with_asc(admin: Admin) -> None:
    ids = await _add_five(admin)

    default = await admin.listing()
    ascending = await admin.listing(asc=True)
    empty_request = await admin("ListEmailProviders", pb.ListEmailProvidersRequest())

    assert [p.id for p in default.result] == ids[::-1]
    assert [p.id for p in ascending.result] == ids
    assert [p.id for p in empty_request.result] == ids[::-1]
    assert [p.description for p in ascending.result] == ["p0", "p1", "p2", "p3", "p4"]
    assert [p.WhichOneof("config") for p in ascending.result] == ["smtp", "http", "smtp", "http", "smtp"]


async def test_order_is_creation_order_not_change_order(admin: Admin) -> None:
    ids = await _add_five(admin)
    await admin.activate(ids[0])
    await admin(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(id=ids[1], endpoint="https://x.example/p"),
    )

    assert [p.id for p in (await admin.listing(asc=True)).result] == ids


async def test_pages_cover_every_provider_once_and_total_ignores_paging(admin: Admin) -> None:
    ids = await _add_five(admin)

    for asc, expected in ((False, ids[::-1]), (True, ids)):
        seen: list[str] = []
        for offset in range(0, 6, 2):
            page = await admin.listing(offset=offset, limit=2, asc=asc)
            assert page.details.total_result == 5
            assert len(page.result) == min(2, 5 - offset)
            seen.extend(p.id for p in page.result)
        assert seen == expected

    beyond = await admin.listing(offset=10, limit=2)
    assert list(beyond.result) == [] and beyond.details.total_result == 5


async def test_limit_zero_means_the_default_and_above_1000_is_refused(admin: Admin) -> None:
    ids = await _add_five(admin)

    unlimited = await admin.listing(limit=0)
    at_max = await admin.listing(limit=1000)
    over = await admin.fail(
        "ListEmailProviders", pb.ListEmailProvidersRequest(query=object_pb2.ListQuery(limit=1001))
    )
    legacy_over = await admin.fail(
        "ListSMTPConfigs", pb.ListSMTPConfigsRequest(query=object_pb2.ListQuery(limit=5000))
    )

    assert len(unlimited.result) == len(at_max.result) == len(ids)
    for refused in (over, legacy_over):
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.message.endswith(
            "Query: embedded message failed validation | caused by: "
            "invalid ListQuery.Limit: value must be less than or equal to 1000"
        )
        assert refused.bad_request is not None
        assert [v.field for v in refused.bad_request.field_violations] == ["query.limit"]


async def test_items_show_every_state_with_view_details(admin: Admin, server: RunningServer) -> None:
    ids = await _add_five(admin)
    await admin.activate(ids[3])

    listed = await admin.listing(asc=True)

    assert [p.state for p in listed.result] == [INACTIVE, INACTIVE, INACTIVE, ACTIVE, INACTIVE]
    for item in listed.result:
        assert item.details.resource_owner == server.instance
        assert item.details.HasField("creation_date") and item.details.HasField("change_date")
        assert item.details.sequence > 0
        assert item.WhichOneof("config") != "http" or item.http.signing_key == ""


async def test_processed_sequence_is_the_instance_latest_sequence(admin: Admin) -> None:
    ids = await _add_five(admin)
    activated = await admin.activate(ids[0])
    assert (await admin.listing()).details.processed_sequence == activated.details.sequence

    removed = await admin("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=ids[4]))
    listed = await admin.listing(limit=1)
    assert listed.details.processed_sequence == removed.details.sequence
    # The latest change was a removal, so no listed item carries that sequence.
    assert all(p.details.sequence < removed.details.sequence for p in (await admin.listing()).result)
    legacy = await admin("ListSMTPConfigs", pb.ListSMTPConfigsRequest())
    assert legacy.details.processed_sequence == removed.details.sequence
    assert legacy.details.total_result == 4


async def test_failed_calls_do_not_advance_the_sequence(admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    before = (await admin.listing()).details.processed_sequence

    await admin.fail("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=provider_id))
    await admin.fail("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id="404"))
    await admin.fail(
        "AddEmailProviderSMTP",
        pb.AddEmailProviderSMTPRequest(sender_address="a@b.c", sender_name="n", host="nohost"),
    )

    assert (await admin.listing()).details.processed_sequence == before
