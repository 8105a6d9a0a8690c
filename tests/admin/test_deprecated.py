"""The deprecated SMTPConfig RPCs: views of the very same providers (6.7, 6.8, 9.14)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import Message

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import object_pb2, settings_pb2
from tests.fixtures.rpc import ACTIVE, HOST, UNKNOWN_ID, Admin, legacy_add, legacy_update, plain
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
SMTP_ACTIVE = settings_pb2.SMTP_CONFIG_ACTIVE
SMTP_INACTIVE = settings_pb2.SMTP_CONFIG_INACTIVE


async def test_add_smtp_config_is_an_email_provider(admin: Admin, server: RunningServer) -> None:
    added = await admin(
        "AddSMTPConfig",
        legacy_add(
            tls=True,
            user="mailer",
            password="pw",
            reply_to_address="reply@example.com",
            description=" legacy ",
        ),
    )

    assert added.id.isdigit() and added.details.resource_owner == server.instance
    provider = await admin.get(added.id)
    assert provider.description == "legacy"
    assert provider.smtp.user == "mailer" and provider.smtp.tls
    assert provider.smtp.WhichOneof("Auth") == "plain"
    listed = await admin.listing()
    assert [p.id for p in listed.result] == [added.id]


async def test_add_smtp_config_applies_the_legacy_auth_rule(admin: Admin) -> None:
    with_user = await admin("AddSMTPConfig", legacy_add(user="u"))
    with_password = await admin("AddSMTPConfig", legacy_add(password="p"))
    with_nothing = await admin("AddSMTPConfig", legacy_add())

    assert (await admin.get(with_user.id)).smtp.WhichOneof("Auth") == "plain"
    assert (await admin.get(with_password.id)).smtp.WhichOneof("Auth") == "plain"
    assert (await admin.get(with_nothing.id)).smtp.WhichOneof("Auth") == "none"


async def test_get_smtp_config_by_id_shows_every_field(admin: Admin) -> None:
    provider_id = await admin.add_smtp(
        tls=True, user="mailer", reply_to_address="reply@example.com", description="desc", plain=plain("pw")
    )
    provider = await admin.get(provider_id)

    config = (await admin("GetSMTPConfigById", pb.GetSMTPConfigByIdRequest(id=provider_id))).smtp_config

    assert config.id == provider_id
    assert config.state == SMTP_INACTIVE
    assert (config.sender_address, config.sender_name, config.tls, config.host, config.user) == (
        provider.smtp.sender_address,
        "Example",
        True,
        HOST,
        "mailer",
    )
    assert config.reply_to_address == "reply@example.com"
    assert config.description == "desc"
    assert config.details == provider.details


async def test_state_changes_through_either_family_are_seen_by_both(admin: Admin) -> None:
    legacy_id = (await admin("AddSMTPConfig", legacy_add(description="legacy"))).id
    modern_id = await admin.add_smtp(description="modern")

    activated = await admin("ActivateSMTPConfig", pb.ActivateSMTPConfigRequest(id=modern_id))
    assert activated.details.creation_date == activated.details.change_date
    assert (await admin("GetSMTPConfig", pb.GetSMTPConfigRequest())).smtp_config.id == modern_id
    assert (await admin.get(modern_id)).state == ACTIVE

    await admin.activate(legacy_id)
    current = (await admin("GetSMTPConfig", pb.GetSMTPConfigRequest())).smtp_config
    assert (current.id, current.state, current.description) == (legacy_id, SMTP_ACTIVE, "legacy")

    deactivated = await admin("DeactivateSMTPConfig", pb.DeactivateSMTPConfigRequest(id=legacy_id))
    assert deactivated.details.creation_date == deactivated.details.change_date
    missing = await admin.fail("GetSMTPConfig", pb.GetSMTPConfigRequest())
    assert missing.is_zitadel(NOT_FOUND, "QUERY-fwofw")
    assert (await admin.fail("GetEmailProvider", pb.GetEmailProviderRequest())).is_zitadel(
        NOT_FOUND, "QUERY-fwofw"
    )


async def test_http_provider_views_are_empty(admin: Admin) -> None:
    http_id = await admin.add_http(description="hook")
    await admin.activate(http_id)

    active = await admin("GetSMTPConfig", pb.GetSMTPConfigRequest())
    by_id = await admin("GetSMTPConfigById", pb.GetSMTPConfigByIdRequest(id=http_id))

    assert not active.HasField("smtp_config")
    assert not by_id.HasField("smtp_config")
    assert active.ByteSize() == 0 and by_id.ByteSize() == 0


async def test_list_smtp_configs_items(admin: Admin, server: RunningServer) -> None:
    smtp_id = await admin.add_smtp(
        user="mailer", reply_to_address="reply@example.com", description="mail", tls=True
    )
    http_id = await admin.add_http(description="hook")
    await admin.activate(http_id)

    listed = await admin("ListSMTPConfigs", pb.ListSMTPConfigsRequest())

    assert listed.details.total_result == 2
    assert [item.id for item in listed.result] == [http_id, smtp_id]
    http_item, smtp_item = listed.result
    assert (smtp_item.host, smtp_item.user, smtp_item.tls, smtp_item.sender_name) == (
        HOST,
        "mailer",
        True,
        "Example",
    )
    assert smtp_item.reply_to_address == "reply@example.com"  # 9.14: ZITADEL leaves it out; mailgate does not
    assert (smtp_item.state, smtp_item.description) == (SMTP_INACTIVE, "mail")
    # HTTP providers: only details, id, description and state.
    expected = settings_pb2.SMTPConfig(
        details=http_item.details, id=http_id, description="hook", state=SMTP_ACTIVE
    )
    assert http_item == expected
    assert http_item.details.resource_owner == server.instance
    assert http_item.details.HasField("creation_date")


async def test_list_smtp_configs_pages_like_list_email_providers(admin: Admin) -> None:
    ids = [await admin.add_smtp(description=str(n)) for n in range(3)]

    page = await admin(
        "ListSMTPConfigs", pb.ListSMTPConfigsRequest(query=object_pb2.ListQuery(offset=1, limit=1, asc=True))
    )

    assert [item.id for item in page.result] == [ids[1]]
    assert page.details.total_result == 3


async def test_update_smtp_config_replaces_fields_and_keeps_the_password(admin: Admin) -> None:
    provider_id = await admin.add_smtp(user="mailer", plain=plain("pw"), description="old")

    updated = await admin(
        "UpdateSMTPConfig",
        legacy_update(
            provider_id,
            user="mailer",
            sender_name="New name",
            reply_to_address="r@example.com",
            description="new",
        ),
    )

    provider = await admin.get(provider_id)
    assert provider.details.sequence == updated.details.sequence
    assert (provider.smtp.sender_name, provider.smtp.reply_to_address, provider.description) == (
        "New name",
        "r@example.com",
        "new",
    )
    assert provider.smtp.WhichOneof("Auth") == "plain"
    # The stored password is still there: moving it to another host needs it again (9.6).
    moved = await admin.fail(
        "UpdateSMTPConfig", legacy_update(provider_id, user="mailer", host="evil.example.com:25")
    )
    assert moved.code == PRECONDITION


async def test_update_smtp_config_password_on_inactive_provider(admin: Admin) -> None:
    provider_id = (await admin("AddSMTPConfig", legacy_add())).id
    assert (await admin.get(provider_id)).smtp.WhichOneof("Auth") == "none"

    response = await admin(
        "UpdateSMTPConfigPassword", pb.UpdateSMTPConfigPasswordRequest(id=provider_id, password="new-pw")
    )

    provider = await admin.get(provider_id)
    assert provider.smtp.WhichOneof("Auth") == "plain"
    assert provider.details.sequence == response.details.sequence


async def test_remove_smtp_config(admin: Admin) -> None:
    provider_id = (await admin("AddSMTPConfig", legacy_add())).id
    await admin("ActivateSMTPConfig", pb.ActivateSMTPConfigRequest(id=provider_id))

    removed = await admin("RemoveSMTPConfig", pb.RemoveSMTPConfigRequest(id=provider_id))

    assert removed.details.HasField("change_date")
    assert (await admin.fail("GetSMTPConfigById", pb.GetSMTPConfigByIdRequest(id=provider_id))).is_zitadel(
        NOT_FOUND, "QUERY-fwofw"
    )
    assert (await admin("ListSMTPConfigs", pb.ListSMTPConfigsRequest())).details.total_result == 0


async def test_error_paths(admin: Admin) -> None:
    provider_id = await admin.add_smtp(description="keep")
    http_id = await admin.add_http()
    cases: list[tuple[str, Message, grpc.StatusCode, str | None]] = [
        ("GetSMTPConfig", pb.GetSMTPConfigRequest(), NOT_FOUND, "QUERY-fwofw"),
        ("GetSMTPConfigById", pb.GetSMTPConfigByIdRequest(id=UNKNOWN_ID), NOT_FOUND, "QUERY-fwofw"),
        ("GetSMTPConfigById", pb.GetSMTPConfigByIdRequest(), INVALID, None),
        ("AddSMTPConfig", legacy_add(host="no-port.example.com"), INVALID, "COMMAND-EvAtufIinh"),
        ("AddSMTPConfig", legacy_add(sender_address=" "), INVALID, "COMMAND-SAAFpV8VKV"),
        ("AddSMTPConfig", legacy_add(sender_name=""), INVALID, None),
        ("UpdateSMTPConfig", legacy_update(UNKNOWN_ID), NOT_FOUND, "COMMAND-j5IDFtt3T1"),
        ("UpdateSMTPConfig", legacy_update(provider_id, host="no-port"), INVALID, "COMMAND-kZNVkuL32L"),
        ("UpdateSMTPConfig", legacy_update(provider_id, description="d" * 201), INVALID, None),
        (
            "UpdateSMTPConfigPassword",
            pb.UpdateSMTPConfigPasswordRequest(id=UNKNOWN_ID),
            NOT_FOUND,
            "COMMAND-rDHzqjGuKQ",
        ),
        ("UpdateSMTPConfigPassword", pb.UpdateSMTPConfigPasswordRequest(id=""), INVALID, None),
        (
            "UpdateSMTPConfigPassword",
            pb.UpdateSMTPConfigPasswordRequest(id=http_id, password="x"),
            PRECONDITION,
            None,
        ),
        ("ActivateSMTPConfig", pb.ActivateSMTPConfigRequest(id=UNKNOWN_ID), NOT_FOUND, "COMMAND-E9K20hxOS9"),
        ("ActivateSMTPConfig", pb.ActivateSMTPConfigRequest(id="1" * 201), INVALID, None),
        (
            "DeactivateSMTPConfig",
            pb.DeactivateSMTPConfigRequest(id=provider_id),
            PRECONDITION,
            "COMMAND-km8g3",
        ),
        ("DeactivateSMTPConfig", pb.DeactivateSMTPConfigRequest(id=UNKNOWN_ID), NOT_FOUND, "COMMAND-k39PJ"),
        ("DeactivateSMTPConfig", pb.DeactivateSMTPConfigRequest(), INVALID, None),
        ("RemoveSMTPConfig", pb.RemoveSMTPConfigRequest(id=UNKNOWN_ID), NOT_FOUND, "COMMAND-09CXlTDL6w"),
        ("RemoveSMTPConfig", pb.RemoveSMTPConfigRequest(id="1" * 101), INVALID, None),
    ]
    await admin("ActivateSMTPConfig", pb.ActivateSMTPConfigRequest(id=http_id))
    await admin("DeactivateSMTPConfig", pb.DeactivateSMTPConfigRequest(id=http_id))
    wrong = []
    for rpc, request, code, error_id in cases:
        failed = await admin.fail(rpc, request)
        ok = failed.is_zitadel(code, error_id) if error_id else failed.code == code
        if code == INVALID and error_id is None:
            ok = ok and failed.message.startswith(f"invalid {type(request).__name__}.")
        if not ok:
            wrong.append((rpc, str(request), failed))
    assert wrong == []
    # The already-active case of ActivateSMTPConfig.
    await admin.activate(provider_id)
    again = await admin.fail("ActivateSMTPConfig", pb.ActivateSMTPConfigRequest(id=provider_id))
    assert again.is_zitadel(PRECONDITION, "COMMAND-vUHBSmBzaw")
    kept = await admin.get(provider_id)
    assert (kept.description, kept.smtp.host) == ("keep", HOST)
