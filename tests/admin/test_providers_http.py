"""AddEmailProviderHTTP and UpdateEmailProviderHTTP (6.6, 9.13)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.rpc import INACTIVE, UNKNOWN_ID, Admin, rotate_now
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
ENDPOINT = "https://relay.example.com/provider"


async def test_add_returns_id_and_signing_key_once(admin: Admin, server: RunningServer) -> None:
    added = await admin(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=ENDPOINT, description="  webhook  ")
    )
    other = await admin("AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=ENDPOINT))

    assert added.id.isdigit()
    assert len(added.signing_key) >= 32 and added.signing_key != other.signing_key
    assert added.details.resource_owner == server.instance and added.details.sequence > 0
    assert added.details.HasField("change_date")
    config = await admin.get(added.id)
    assert config.WhichOneof("config") == "http"
    assert config.http.endpoint == ENDPOINT
    assert config.http.signing_key == ""
    assert config.state == INACTIVE
    assert config.description == "webhook"


async def test_add_rejects_bad_endpoints(admin: Admin) -> None:
    empty = await admin.fail("AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=""))
    too_long = await admin.fail(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="https://e.example/" + "a" * 2031)
    )
    not_a_url = await admin.fail(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="relay.example.com")
    )
    wrong_scheme = await admin.fail(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="ftp://relay.example.com/x")
    )
    long_description = await admin.fail(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=ENDPOINT, description="d" * 201)
    )

    assert empty.code == INVALID
    assert empty.message == (
        "invalid AddEmailProviderHTTPRequest.Endpoint: "
        "value length must be between 1 and 2048 runes, inclusive"
    )
    assert too_long.code == INVALID and "Endpoint" in too_long.message
    assert not_a_url.is_zitadel(INVALID, "COMMAND-Sz84nFo3aK")
    assert wrong_scheme.is_zitadel(INVALID, "COMMAND-Sz84nFo3aK")
    assert long_description.code == INVALID and "Description" in long_description.message
    assert (await admin.listing()).details.total_result == 0


async def test_an_endpoint_no_url_parser_can_read_is_invalid_not_internal(admin: Admin) -> None:
    # urlsplit raises on an unclosed IPv6 literal: that is a bad endpoint, not a fault of ours.
    refused = await admin.fail(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="http://[relay.example.com/x")
    )
    assert refused.is_zitadel(INVALID, "COMMAND-Sz84nFo3aK")


async def test_update_replaces_endpoint_and_description_without_rotating(admin: Admin) -> None:
    added = await admin(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=ENDPOINT, description="a")
    )

    updated = await admin(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(
            id=added.id, endpoint="http://relay2.example.com/p", description="b"
        ),
    )

    assert not updated.HasField("signing_key")
    assert updated.details.sequence > added.details.sequence
    config = await admin.get(added.id)
    assert (config.http.endpoint, config.description) == ("http://relay2.example.com/p", "b")
    assert config.details.sequence == updated.details.sequence


async def test_update_with_zero_expiration_rotates_the_key(admin: Admin) -> None:
    added = await admin("AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=ENDPOINT))

    first = await admin(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(
            id=added.id, endpoint=ENDPOINT, expiration_signing_key=rotate_now()
        ),
    )
    second = await admin(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(
            id=added.id, endpoint=ENDPOINT, expiration_signing_key=rotate_now()
        ),
    )

    assert first.HasField("signing_key") and second.HasField("signing_key")
    assert len({added.signing_key, first.signing_key, second.signing_key}) == 3
    # A rotation is a change even when endpoint and description stay.
    assert added.details.sequence < first.details.sequence < second.details.sequence
    assert (await admin.get(added.id)).http.signing_key == ""


async def test_update_without_changes_succeeds_with_current_details(admin: Admin) -> None:
    added = await admin(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=ENDPOINT, description="x")
    )

    again = await admin(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(id=added.id, endpoint=ENDPOINT, description="x"),
    )

    assert again.details.sequence == added.details.sequence
    assert not again.HasField("signing_key")


async def test_update_error_paths(admin: Admin) -> None:
    http_id = await admin.add_http(ENDPOINT, description="keep")
    smtp_id = await admin.add_smtp()

    unknown = await admin.fail(
        "UpdateEmailProviderHTTP", pb.UpdateEmailProviderHTTPRequest(id=UNKNOWN_ID, endpoint=ENDPOINT)
    )
    on_smtp = await admin.fail(
        "UpdateEmailProviderHTTP", pb.UpdateEmailProviderHTTPRequest(id=smtp_id, endpoint=ENDPOINT)
    )
    later_expiry = await admin.fail(
        "UpdateEmailProviderHTTP",
        pb.UpdateEmailProviderHTTPRequest(
            id=http_id, endpoint=ENDPOINT, expiration_signing_key=duration_pb2.Duration(seconds=3600)
        ),
    )
    not_a_url = await admin.fail(
        "UpdateEmailProviderHTTP", pb.UpdateEmailProviderHTTPRequest(id=http_id, endpoint="nope")
    )
    no_id = await admin.fail("UpdateEmailProviderHTTP", pb.UpdateEmailProviderHTTPRequest(endpoint=ENDPOINT))

    assert unknown.is_zitadel(NOT_FOUND, "COMMAND-xIrdledqv4")
    assert on_smtp.is_zitadel(NOT_FOUND, "COMMAND-xIrdledqv4")
    assert later_expiry.code == INVALID
    assert later_expiry.message.startswith("invalid UpdateEmailProviderHTTPRequest.ExpirationSigningKey:")
    assert not_a_url.is_zitadel(INVALID, "COMMAND-Sz84nFo3aK")
    assert no_id.code == INVALID and no_id.message.startswith("invalid UpdateEmailProviderHTTPRequest.Id:")
    kept = await admin.get(http_id)
    assert (kept.http.endpoint, kept.description) == (ENDPOINT, "keep")
    assert (await admin.get(smtp_id)).WhichOneof("config") == "smtp"
