"""AddEmailProviderSMTP, UpdateEmailProviderSMTP and UpdateEmailProviderSMTPPassword (6.1-6.3, 9.3, 9.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.rpc import (
    ACTIVE,
    HOST,
    INACTIVE,
    UNKNOWN_ID,
    Admin,
    plain,
    smtp_add,
    smtp_update,
    xoauth2,
)
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_add_returns_numeric_id_and_change_details(admin: Admin, server: RunningServer) -> None:
    first = await admin("AddEmailProviderSMTP", smtp_add(plain=plain("pw")))
    second = await admin("AddEmailProviderSMTP", smtp_add(plain=plain("pw")))

    assert first.id.isdigit() and second.id.isdigit() and first.id != second.id
    details = first.details
    assert details.resource_owner == server.instance
    assert details.sequence > 0 and second.details.sequence > details.sequence
    assert details.HasField("change_date") and not details.HasField("creation_date")
    age = datetime.now(UTC) - details.change_date.ToDatetime(tzinfo=UTC)
    assert timedelta(0) <= age < timedelta(minutes=1)
    # The provider's creation date is the time of that change.
    viewed = (await admin.get(first.id)).details
    assert viewed.creation_date == viewed.change_date == details.change_date


async def test_add_stores_every_field_and_starts_inactive(admin: Admin, server: RunningServer) -> None:
    added = await admin(
        "AddEmailProviderSMTP",
        smtp_add(
            sender_address="noreply@example.com",
            sender_name="Example Mailer",
            tls=True,
            host="  smtp.example.com:465  ",
            user="mailer",
            reply_to_address=" support@example.com ",
            description="  primary  ",
            plain=plain("s3cret"),
        ),
    )

    config = await admin.get(added.id)
    assert config.id == added.id
    assert config.state == INACTIVE
    assert config.description == "primary"
    smtp = config.smtp
    assert (smtp.sender_address, smtp.sender_name, smtp.tls, smtp.host, smtp.user, smtp.reply_to_address) == (
        "noreply@example.com",
        "Example Mailer",
        True,
        "smtp.example.com:465",
        "mailer",
        "support@example.com",
    )
    assert smtp.WhichOneof("Auth") == "plain"
    assert config.details.resource_owner == server.instance
    assert config.details.sequence == added.details.sequence
    assert config.details.HasField("creation_date") and config.details.HasField("change_date")


async def test_add_maps_each_auth_choice(admin: Admin) -> None:
    none_id = await admin.add_smtp(user="relay-user", none=pb.SMTPNoAuth())
    xo_id = await admin.add_smtp(
        user="mailer@example.com",
        xoauth2=xoauth2(client_id="app-1", client_secret="xo-secret", scopes=("a", "b")),
    )
    legacy_user_id = await admin.add_smtp(user="mailer")
    legacy_password_id = await admin.add_smtp(password="only-a-password")
    legacy_nothing_id = await admin.add_smtp()

    assert (await admin.get(none_id)).smtp.WhichOneof("Auth") == "none"
    xo = (await admin.get(xo_id)).smtp
    assert xo.WhichOneof("Auth") == "xoauth2"
    assert xo.xoauth2.token_endpoint == "https://login.example.com/token"
    assert list(xo.xoauth2.scopes) == ["a", "b"]
    assert xo.xoauth2.client_credentials.client_id == "app-1"
    # Older clients (no Auth oneof): plain auth only when a user or password is set.
    assert (await admin.get(legacy_user_id)).smtp.WhichOneof("Auth") == "plain"
    assert (await admin.get(legacy_password_id)).smtp.WhichOneof("Auth") == "plain"
    assert (await admin.get(legacy_nothing_id)).smtp.WhichOneof("Auth") == "none"


async def test_add_rejects_blank_sender_and_host_without_port(admin: Admin) -> None:
    blank_sender = await admin.fail("AddEmailProviderSMTP", smtp_add(sender_address="   "))
    no_port = await admin.fail("AddEmailProviderSMTP", smtp_add(host="smtp.example.com"))
    bad_port = await admin.fail("AddEmailProviderSMTP", smtp_add(host="smtp.example.com:smtp"))
    v6_without_brackets = await admin.fail("AddEmailProviderSMTP", smtp_add(host="2001:db8::1:587"))

    assert blank_sender.is_zitadel(INVALID, "COMMAND-SAAFpV8VKV")
    assert no_port.is_zitadel(INVALID, "COMMAND-EvAtufIinh")
    assert bad_port.is_zitadel(INVALID, "COMMAND-EvAtufIinh")
    assert v6_without_brackets.is_zitadel(INVALID, "COMMAND-EvAtufIinh")
    assert (await admin.listing()).details.total_result == 0

    # Bracketed IPv6 with a port is a valid host.
    assert await admin.add_smtp(host="[2001:db8::1]:587")


async def test_add_rejects_fields_out_of_limits(admin: Admin) -> None:
    empty_host = await admin.fail("AddEmailProviderSMTP", smtp_add(host=""))
    long_name = await admin.fail("AddEmailProviderSMTP", smtp_add(sender_name="n" * 201))
    long_password = await admin.fail("AddEmailProviderSMTP", smtp_add(plain=plain("p" * 201)))

    assert empty_host.code == INVALID
    assert empty_host.message.startswith("invalid AddEmailProviderSMTPRequest.Host:")
    assert long_name.code == INVALID and "SenderName" in long_name.message
    assert long_password.code == INVALID and "Password" in long_password.message
    assert (await admin.listing()).details.total_result == 0


async def test_update_replaces_every_field_and_keeps_state(admin: Admin) -> None:
    added = await admin(
        "AddEmailProviderSMTP", smtp_add(user="u", reply_to_address="r@example.com", description="d")
    )
    await admin.activate(added.id)
    before = await admin.get(added.id)

    updated = await admin(
        "UpdateEmailProviderSMTP",
        smtp_update(
            added.id,
            sender_address="  other@example.org ",
            sender_name="Other",
            tls=True,
            host="mail.example.org:2525",
            user="u",
            reply_to_address="",
            description=" second ",
        ),
    )

    after = await admin.get(added.id)
    assert after.state == ACTIVE
    assert after.description == "second"
    smtp = after.smtp
    assert (smtp.sender_address, smtp.sender_name, smtp.tls, smtp.host, smtp.user, smtp.reply_to_address) == (
        "other@example.org",
        "Other",
        True,
        "mail.example.org:2525",
        "u",
        "",
    )
    assert updated.details.sequence > before.details.sequence
    assert after.details.sequence == updated.details.sequence
    assert updated.details.HasField("change_date") and not updated.details.HasField("creation_date")
    assert after.details.creation_date == before.details.creation_date
    assert after.details.change_date == updated.details.change_date


async def test_update_without_changes_succeeds_with_current_details(admin: Admin) -> None:
    added = await admin("AddEmailProviderSMTP", smtp_add(user="u", plain=plain("pw")))

    again = await admin("UpdateEmailProviderSMTP", smtp_update(added.id, user="u"))

    assert again.details.sequence == added.details.sequence
    assert again.details.change_date == added.details.change_date
    assert (await admin.get(added.id)).smtp.WhichOneof("Auth") == "plain"


async def test_update_switches_auth_type(admin: Admin) -> None:
    provider_id = await admin.add_smtp(user="u", plain=plain("pw"))

    await admin(
        "UpdateEmailProviderSMTP",
        smtp_update(provider_id, user="u", xoauth2=xoauth2(client_id="cid", client_secret="cs")),
    )
    as_xoauth2 = (await admin.get(provider_id)).smtp
    await admin("UpdateEmailProviderSMTP", smtp_update(provider_id, user="u", plain=plain("new")))
    as_plain = (await admin.get(provider_id)).smtp

    assert as_xoauth2.WhichOneof("Auth") == "xoauth2"
    assert as_xoauth2.xoauth2.client_credentials.client_id == "cid"
    assert as_plain.WhichOneof("Auth") == "plain"


async def test_update_error_paths(admin: Admin) -> None:
    provider_id = await admin.add_smtp(description="keep")
    http_id = await admin.add_http()

    unknown = await admin.fail("UpdateEmailProviderSMTP", smtp_update(UNKNOWN_ID))
    blank_sender = await admin.fail("UpdateEmailProviderSMTP", smtp_update(provider_id, sender_address=" "))
    no_port = await admin.fail("UpdateEmailProviderSMTP", smtp_update(provider_id, host="smtp.example.com"))
    no_id = await admin.fail("UpdateEmailProviderSMTP", smtp_update(""))
    long_id = await admin.fail("UpdateEmailProviderSMTP", smtp_update("1" * 101))
    on_http = await admin.fail("UpdateEmailProviderSMTP", smtp_update(http_id))

    assert unknown.is_zitadel(NOT_FOUND, "COMMAND-j5IDFtt3T1")
    assert blank_sender.is_zitadel(INVALID, "COMMAND-gyPUXOTA4N")
    assert no_port.is_zitadel(INVALID, "COMMAND-kZNVkuL32L")
    assert no_id.code == INVALID and no_id.message.startswith("invalid UpdateEmailProviderSMTPRequest.Id:")
    assert long_id.code == INVALID
    # mailgate: the SMTP update of an HTTP provider is NOT_FOUND, as ZITADEL's HTTP update of an SMTP one.
    assert on_http.is_zitadel(NOT_FOUND, "COMMAND-j5IDFtt3T1")
    assert (await admin.get(http_id)).WhichOneof("config") == "http"
    kept = await admin.get(provider_id)
    assert kept.description == "keep" and kept.smtp.host == HOST


async def test_password_update_works_on_inactive_provider(admin: Admin) -> None:
    provider_id = await admin.add_smtp(user="mailer", none=pb.SMTPNoAuth())
    assert (await admin.get(provider_id)).state == INACTIVE

    response = await admin(
        "UpdateEmailProviderSMTPPassword",
        pb.UpdateEmailProviderSMTPPasswordRequest(id=provider_id, password="pw"),
    )

    config = await admin.get(provider_id)
    assert config.smtp.WhichOneof("Auth") == "plain"
    assert config.details.sequence == response.details.sequence
    assert response.details.resource_owner == config.details.resource_owner


async def test_password_update_error_paths(admin: Admin) -> None:
    http_id = await admin.add_http()

    unknown = await admin.fail(
        "UpdateEmailProviderSMTPPassword",
        pb.UpdateEmailProviderSMTPPasswordRequest(id=UNKNOWN_ID, password="x"),
    )
    on_http = await admin.fail(
        "UpdateEmailProviderSMTPPassword", pb.UpdateEmailProviderSMTPPasswordRequest(id=http_id, password="x")
    )
    no_id = await admin.fail(
        "UpdateEmailProviderSMTPPassword", pb.UpdateEmailProviderSMTPPasswordRequest(password="x")
    )

    assert unknown.is_zitadel(NOT_FOUND, "COMMAND-rDHzqjGuKQ")
    assert on_http.code == grpc.StatusCode.FAILED_PRECONDITION and on_http.error_id
    assert no_id.code == INVALID and no_id.message.startswith(
        "invalid UpdateEmailProviderSMTPPasswordRequest.Id:"
    )
    assert (await admin.get(http_id)).WhichOneof("config") == "http"
