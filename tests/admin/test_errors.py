"""Errors in ZITADEL's form (section 7, 9.8): ids and ErrorDetail, validation with BadRequest, INTERNAL."""

from __future__ import annotations

import logging
import re

import grpc
import pytest
from google.protobuf import duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from sqlalchemy import text

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import object_pb2
from tests.fixtures.rpc import UNKNOWN_ID, Admin, plain, smtp_add, smtp_update, xoauth2
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_zitadel_errors_carry_id_in_message_and_error_detail(admin: Admin) -> None:
    failed = await admin.fail("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=UNKNOWN_ID))

    assert failed.code == NOT_FOUND
    assert failed.message == "SMTP configuration not found (QUERY-fwofw)"
    assert failed.status is not None and len(failed.status.details) == 1
    detail = failed.error_details[0]
    assert (detail.id, detail.message) == ("QUERY-fwofw", "SMTP configuration not found")


async def test_validation_message_is_zitadel_s_one_line_form(admin: Admin) -> None:
    failed = await admin.fail("AddEmailProviderSMTP", smtp_add(host=""))

    assert failed.code == INVALID
    assert failed.message == (
        "invalid AddEmailProviderSMTPRequest.Host: value length must be between 1 and 500 runes, inclusive"
    )
    assert failed.error_details == []  # ZITADEL sends no ErrorDetail for validation errors
    assert failed.bad_request is not None
    assert [(v.field, v.description) for v in failed.bad_request.field_violations] == [
        ("host", "value length must be between 1 and 500 runes, inclusive")
    ]


async def test_bad_request_lists_every_violated_field(admin: Admin) -> None:
    failed = await admin.fail(
        "AddEmailProviderSMTP",
        pb.AddEmailProviderSMTPRequest(
            sender_address="",
            sender_name="n" * 201,
            host="",
            reply_to_address="r" * 201,
            description="d" * 201,
            xoauth2=xoauth2(scopes=("ok", "")),
        ),
    )

    assert failed.code == INVALID
    assert failed.message == (
        "invalid AddEmailProviderSMTPRequest.SenderAddress: "
        "value length must be between 1 and 200 runes, inclusive"
    )
    assert failed.bad_request is not None
    fields = {v.field: v.description for v in failed.bad_request.field_violations}
    assert fields == {
        "sender_address": "value length must be between 1 and 200 runes, inclusive",
        "sender_name": "value length must be between 1 and 200 runes, inclusive",
        "host": "value length must be between 1 and 500 runes, inclusive",
        "reply_to_address": "value length must be at most 200 runes",
        "description": "value length must be at most 200 runes",
        "xoauth2.scopes[1]": "value length must be between 1 and 100 runes, inclusive",
    }
    assert (await admin.listing()).details.total_result == 0


async def test_nested_violation_is_reported_through_its_parents(admin: Admin) -> None:
    failed = await admin.fail("AddEmailProviderSMTP", smtp_add(xoauth2=xoauth2(scopes=("",))))

    assert failed.message == (
        "invalid AddEmailProviderSMTPRequest.Xoauth2: embedded message failed validation | caused by: "
        "invalid SMTPXOAuth2Auth.Scopes[0]: value length must be between 1 and 100 runes, inclusive"
    )
    assert failed.bad_request is not None
    assert [v.field for v in failed.bad_request.field_violations] == ["xoauth2.scopes[0]"]


async def test_too_many_scopes(admin: Admin) -> None:
    failed = await admin.fail("AddEmailProviderSMTP", smtp_add(xoauth2=xoauth2(scopes=tuple("s" * 21))))

    assert failed.code == INVALID
    assert failed.bad_request is not None
    assert [v.field for v in failed.bad_request.field_violations] == ["xoauth2.scopes"]


async def test_lengths_count_characters_not_bytes(admin: Admin) -> None:
    host = "ü" * 496 + ":587"  # 500 characters, 996 bytes of UTF-8
    provider_id = await admin.add_smtp(host=host, description="ä" * 200, sender_name="名" * 200)
    too_long = await admin.fail("AddEmailProviderSMTP", smtp_add(host="ü" + host))

    stored = await admin.get(provider_id)
    assert (stored.smtp.host, stored.description, stored.smtp.sender_name) == (host, "ä" * 200, "名" * 200)
    assert too_long.code == INVALID and too_long.message.startswith(
        "invalid AddEmailProviderSMTPRequest.Host:"
    )


async def test_expiration_other_than_zero_is_invalid(admin: Admin) -> None:
    http_id = await admin.add_http()
    failed = await admin.fail(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(
            id=http_id,
            endpoint="https://a.example/x",
            expiration_signing_key=duration_pb2.Duration(seconds=60),
        ),
    )

    assert failed.code == INVALID
    assert failed.bad_request is not None
    assert [v.field for v in failed.bad_request.field_violations] == ["expiration_signing_key"]


async def test_unexpected_fault_is_internal_with_only_a_correlation_id(
    admin: Admin, server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Rot-9f3a-Zq7w"  # fits the 16-character auth column
    provider_id = await admin.add_smtp(user="mailer", plain=plain(secret))
    # Break the stored row for real: its auth kind becomes text no code knows (here: the secret itself).
    async with server.services.db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE email_providers SET auth = :auth WHERE instance_id = :instance AND id = :id"),
            {"auth": secret, "instance": server.instance, "id": provider_id},
        )

    with caplog.at_level(logging.ERROR, logger="mailgate"):
        failed = await admin.fail("ListEmailProviders", pb.ListEmailProvidersRequest())

    assert failed.code == grpc.StatusCode.INTERNAL
    match = re.fullmatch(r"internal error \(correlation id ([0-9a-f]{8,})\)", failed.message)
    assert match, failed.message
    correlation = match.group(1)
    assert failed.status is not None
    raw = failed.status.SerializeToString()
    for leak in (secret.encode(), b"Traceback", b"AuthKind", b"email_providers", b"ValueError"):
        assert leak not in raw
    infos = [d for d in failed.status.details if d.Is(error_details_pb2.RequestInfo.DESCRIPTOR)]
    assert len(failed.status.details) == len(infos) == 1
    info = error_details_pb2.RequestInfo()
    infos[0].Unpack(info)
    assert info.request_id == correlation
    # The log has what the caller does not: the correlation id with the exception.
    logged = [r for r in caplog.records if getattr(r, "correlation_id", None) == correlation]
    assert len(logged) == 1 and logged[0].exc_info is not None
    # Other instances and other calls keep working.
    assert (await admin.fail("GetEmailProvider", pb.GetEmailProviderRequest())).code == NOT_FOUND


@pytest.mark.parametrize(
    ("rpc", "request_message"),
    [
        ("AddEmailProviderSMTP", smtp_add(description="line\x00break")),
        ("AddEmailProviderSMTP", smtp_add(user="mail\x00er")),
        ("AddEmailProviderSMTP", smtp_add(sender_name="Ex\x00ample")),
        ("AddEmailProviderSMTP", smtp_add(xoauth2=xoauth2(client_id="id\x00"))),
        ("AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="https://relay\x00.example.com/")),
        (
            "AddSMTPConfig",
            pb.AddSMTPConfigRequest(sender_address="a@b.c", sender_name="n", host="h:1", user="\x00"),
        ),
    ],
)
async def test_nul_characters_are_invalid_not_internal(
    admin: Admin, rpc: str, request_message: Message
) -> None:
    failed = await admin.fail(rpc, request_message)

    assert failed.code == INVALID, failed.message
    assert failed.error_id
    assert (await admin.listing()).details.total_result == 0


async def test_nul_characters_in_updates_are_invalid(admin: Admin) -> None:
    smtp_id = await admin.add_smtp(description="keep")
    http_id = await admin.add_http(description="keep")

    smtp = await admin.fail("UpdateEmailProviderSMTP", smtp_update(smtp_id, reply_to_address="\x00"))
    http = await admin.fail(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(id=http_id, endpoint="https://a.example/", description="\x00"),
    )

    assert smtp.code == http.code == INVALID
    assert (await admin.get(smtp_id)).description == (await admin.get(http_id)).description == "keep"


async def test_ids_with_nul_characters_are_unknown(admin: Admin) -> None:
    odd = "12\x0034"
    cases = [
        ("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=odd), "QUERY-fwofw"),
        ("GetSMTPConfigById", pb.GetSMTPConfigByIdRequest(id=odd), "QUERY-fwofw"),
        ("UpdateEmailProviderSMTP", smtp_update(odd), "COMMAND-j5IDFtt3T1"),
        (
            "UpdateEmailProviderHTTP",
            pb.UpdateEmailProviderHTTPRequest(id=odd, endpoint="https://a.example/"),
            "COMMAND-xIrdledqv4",
        ),
        (
            "UpdateEmailProviderSMTPPassword",
            pb.UpdateEmailProviderSMTPPasswordRequest(id=odd),
            "COMMAND-rDHzqjGuKQ",
        ),
        ("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=odd), "COMMAND-E9K20hxOS9"),
        ("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=odd), "COMMAND-k39PJ"),
        ("RemoveEmailProvider", pb.RemoveEmailProviderRequest(id=odd), "COMMAND-09CXlTDL6w"),
    ]
    wrong = []
    for rpc, request, error_id in cases:
        failed = await admin.fail(rpc, request)
        if not failed.is_zitadel(NOT_FOUND, error_id):
            wrong.append((rpc, failed.code, failed.message))
    assert wrong == []


async def test_long_user_names_are_stored_intact(admin: Admin) -> None:
    # The API sets no limit on `user`; the store must not impose one of its own (nor fail on it).
    long_user = "u" * 600 + "@example.com"

    provider_id = await admin.add_smtp(user=long_user)

    assert (await admin.get(provider_id)).smtp.user == long_user


async def test_list_limit_error_is_a_validation_error(admin: Admin) -> None:
    failed = await admin.fail(
        "ListEmailProviders", pb.ListEmailProvidersRequest(query=object_pb2.ListQuery(limit=1001))
    )

    assert failed.code == INVALID and failed.error_details == [] and failed.bad_request is not None
