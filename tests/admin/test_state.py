"""ActivateEmailProvider, DeactivateEmailProvider, RemoveEmailProvider and GetEmailProvider (6.4-6.7)."""

from __future__ import annotations

import grpc
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.rpc import ACTIVE, INACTIVE, UNKNOWN_ID, Admin
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


async def _active_ids(admin: Admin) -> list[str]:
    return [p.id for p in (await admin.listing()).result if p.state == ACTIVE]


async def test_activate_makes_the_provider_the_one_active(admin: Admin, server: RunningServer) -> None:
    first = await admin.add_smtp(description="first")
    second = await admin.add_http(description="second")

    one = await admin("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=first))
    active = await admin("GetEmailProvider", pb.GetEmailProviderRequest())
    assert active.config.id == first and active.config.state == ACTIVE
    assert active.config.WhichOneof("config") == "smtp"

    two = await admin("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=second))
    assert two.details.sequence > one.details.sequence
    assert await _active_ids(admin) == [second]
    assert (await admin.get(first)).state == INACTIVE
    active = await admin("GetEmailProvider", pb.GetEmailProviderRequest())
    assert active.config.id == second and active.config.WhichOneof("config") == "http"
    assert active.config.http.endpoint == "https://relay.example.com/mail"


async def test_activate_details_carry_the_time_in_creation_and_change_date(
    admin: Admin, server: RunningServer
) -> None:
    provider_id = await admin.add_smtp()

    activated = await admin("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=provider_id))
    deactivated = await admin("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=provider_id))

    for details in (activated.details, deactivated.details):
        assert details.HasField("creation_date") and details.creation_date == details.change_date
        assert details.resource_owner == server.instance
    assert deactivated.details.sequence > activated.details.sequence
    assert (await admin.get(provider_id)).details.sequence == deactivated.details.sequence


async def test_activate_error_paths(admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    await admin.activate(provider_id)

    again = await admin.fail("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=provider_id))
    unknown = await admin.fail("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=UNKNOWN_ID))
    # Activate ids may be up to 200 characters (other id fields: 100).
    long_unknown = await admin.fail("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id="9" * 200))
    too_long = await admin.fail("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id="9" * 201))
    empty = await admin.fail("ActivateEmailProvider", pb.ActivateEmailProviderRequest())

    assert again.is_zitadel(PRECONDITION, "COMMAND-vUHBSmBzaw")
    assert unknown.is_zitadel(NOT_FOUND, "COMMAND-E9K20hxOS9")
    assert long_unknown.is_zitadel(NOT_FOUND, "COMMAND-E9K20hxOS9")
    assert too_long.code == INVALID
    assert (
        too_long.message
        == "invalid ActivateEmailProviderRequest.Id: value length must be between 1 and 200 runes, inclusive"
    )
    assert empty.code == INVALID
    assert await _active_ids(admin) == [provider_id]


async def test_deactivate_leaves_no_active_provider(admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    await admin.activate(provider_id)

    await admin("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=provider_id))

    assert (await admin.get(provider_id)).state == INACTIVE
    none_active = await admin.fail("GetEmailProvider", pb.GetEmailProviderRequest())
    assert none_active.is_zitadel(NOT_FOUND, "QUERY-fwofw")
    assert none_active.message == "SMTP configuration not found (QUERY-fwofw)"
    # It can be activated again.
    await admin.activate(provider_id)
    assert await _active_ids(admin) == [provider_id]


async def test_deactivate_error_paths(admin: Admin) -> None:
    provider_id = await admin.add_smtp()

    inactive = await admin.fail("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=provider_id))
    unknown = await admin.fail("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=UNKNOWN_ID))
    too_long = await admin.fail("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id="9" * 201))

    assert inactive.is_zitadel(PRECONDITION, "COMMAND-km8g3")
    assert inactive.message == "SMTP configuration already deactivated (COMMAND-km8g3)"
    assert unknown.is_zitadel(NOT_FOUND, "COMMAND-k39PJ")
    assert too_long.code == INVALID and too_long.message.startswith(
        "invalid DeactivateEmailProviderRequest.Id:"
    )


async def test_remove_deletes_inactive_and_active_providers(admin: Admin) -> None:
    keep = await admin.add_smtp(description="keep")
    inactive = await admin.add_http()
    active = await admin.add_smtp()
    await admin.activate(active)

    removed = await admin("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=inactive))
    removed_active = await admin("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=active))

    assert removed_active.details.sequence > removed.details.sequence
    assert removed.details.HasField("change_date")
    assert (await admin.fail("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=inactive))).is_zitadel(
        NOT_FOUND, "QUERY-fwofw"
    )
    assert (await admin.fail("GetEmailProvider", pb.GetEmailProviderRequest())).is_zitadel(
        NOT_FOUND, "QUERY-fwofw"
    )
    listed = await admin.listing()
    assert [p.id for p in listed.result] == [keep]
    assert listed.details.total_result == 1


async def test_remove_error_paths(admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    await admin("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=provider_id))

    twice = await admin.fail("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=provider_id))
    unknown = await admin.fail("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=UNKNOWN_ID))
    too_long = await admin.fail("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id="9" * 101))

    assert twice.is_zitadel(NOT_FOUND, "COMMAND-09CXlTDL6w")
    assert unknown.is_zitadel(NOT_FOUND, "COMMAND-09CXlTDL6w")
    assert too_long.code == INVALID
    assert (
        too_long.message
        == "invalid RemoveEmailProviderRequest.Id: value length must be between 1 and 100 runes, inclusive"
    )


async def test_get_by_id_error_paths(admin: Admin) -> None:
    unknown = await admin.fail("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=UNKNOWN_ID))
    # Ids are opaque (9.15): a non-numeric id is just unknown.
    odd = await admin.fail("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id="not-a-number ✉"))
    empty = await admin.fail("GetEmailProviderById", pb.GetEmailProviderByIdRequest())

    assert unknown.is_zitadel(NOT_FOUND, "QUERY-fwofw")
    assert odd.is_zitadel(NOT_FOUND, "QUERY-fwofw")
    assert empty.code == INVALID and empty.message.startswith("invalid GetEmailProviderByIdRequest.Id:")


async def test_get_active_without_any_provider(admin: Admin) -> None:
    missing = await admin.fail("GetEmailProvider", pb.GetEmailProviderRequest())
    await admin.add_smtp()
    still_missing = await admin.fail("GetEmailProvider", pb.GetEmailProviderRequest())

    assert missing.is_zitadel(NOT_FOUND, "QUERY-fwofw")
    assert still_missing.is_zitadel(NOT_FOUND, "QUERY-fwofw")
