"""grpc-web in binary and text mode against the real server: frames, trailers, every failure as HTTP 200."""

from __future__ import annotations

import base64

import httpx
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import message_pb2, settings_pb2
from mailgate.transports.grpcweb import decode_text, percent_encode
from tests.fixtures.servers import RunningServer
from tests.transports.conftest import add_smtp, bearer, frame, grpc_web

UNKNOWN_ID = "123456789012345678"


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_unary_call_returns_message_then_trailer(
    server: RunningServer, http: httpx.AsyncClient, text: bool
) -> None:
    auth = await bearer(server)
    provider_id = await add_smtp(http, auth)
    reply = await grpc_web(
        http, "GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=provider_id), auth, text
    )
    assert reply.http_status == 200
    assert reply.content_type == ("application/grpc-web-text+proto" if text else "application/grpc-web+proto")
    assert reply.trailers == {"grpc-status": "0"}
    [payload] = reply.messages
    got = pb.GetEmailProviderByIdResponse.FromString(payload)
    assert got.config.id == provider_id
    assert got.config.state == settings_pb2.EMAIL_PROVIDER_INACTIVE
    assert got.config.smtp.host == "smtp.example.com:587"


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_error_status_in_trailer_with_details(
    server: RunningServer, http: httpx.AsyncClient, text: bool
) -> None:
    reply = await grpc_web(
        http,
        "GetEmailProviderById",
        pb.GetEmailProviderByIdRequest(id=UNKNOWN_ID),
        await bearer(server),
        text,
    )
    assert reply.http_status == 200
    assert reply.messages == []
    assert reply.code == 5
    assert reply.trailers["grpc-message"] == "SMTP configuration not found (QUERY-fwofw)"
    status = reply.status()
    assert status.code == 5
    detail = message_pb2.ErrorDetail()
    assert status.details[0].Unpack(detail)
    assert (detail.id, detail.message) == ("QUERY-fwofw", "SMTP configuration not found")


async def test_write_then_read_through_grpc_web(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    request = pb.AddEmailProviderSMTPRequest(
        sender_address="a@example.com", sender_name="A", host="mail.example.com:25"
    )
    added = await grpc_web(http, "AddEmailProviderSMTP", request, auth)
    assert added.code == 0
    provider_id = pb.AddEmailProviderSMTPResponse.FromString(added.messages[0]).id
    listed = await grpc_web(http, "ListEmailProviders", pb.ListEmailProvidersRequest(), auth, text=True)
    assert [item.id for item in pb.ListEmailProvidersResponse.FromString(listed.messages[0]).result] == [
        provider_id
    ]


async def test_unauthenticated_and_permission_denied(server: RunningServer, http: httpx.AsyncClient) -> None:
    missing = await grpc_web(http, "GetEmailProvider", pb.GetEmailProviderRequest())
    assert (missing.http_status, missing.code) == (200, 16)
    request = pb.AddEmailProviderHTTPRequest(endpoint="https://hooks.example.com/x")
    denied = await grpc_web(http, "AddEmailProviderHTTP", request, await bearer(server, "iam.read"))
    assert (denied.http_status, denied.code) == (200, 7)


async def test_validation_failure_is_invalid_argument(server: RunningServer, http: httpx.AsyncClient) -> None:
    reply = await grpc_web(
        http, "GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=""), await bearer(server)
    )
    assert reply.code == 3
    assert reply.trailers["grpc-message"].startswith("invalid GetEmailProviderByIdRequest.Id")


async def test_empty_body_is_an_empty_request(server: RunningServer, http: httpx.AsyncClient) -> None:
    reply = await grpc_web(http, "ListEmailProviders", b"", await bearer(server), raw_body=b"")
    assert reply.code == 0
    assert pb.ListEmailProvidersResponse.FromString(reply.messages[0]).details.total_result == 0


async def test_text_mode_accepts_padding_inside_the_stream(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    auth = await bearer(server)
    provider_id = await add_smtp(http, auth)
    body = frame(pb.GetEmailProviderByIdRequest(id=provider_id).SerializeToString())
    # Header and payload encoded separately, as an encoder that flushes per write would send them.
    chunked = base64.b64encode(body[:5]) + base64.b64encode(body[5:])
    assert b"=" in chunked[:-4]
    reply = await grpc_web(http, "GetEmailProviderById", b"", auth, text=True, raw_body=chunked)
    assert reply.code == 0
    assert pb.GetEmailProviderByIdResponse.FromString(reply.messages[0]).config.id == provider_id


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("text", "body", "code"),
    [
        (False, b"\x00\x00\x00", 3),  # truncated header
        (False, b"\x00\x00\x00\x00\x09abc", 3),  # truncated payload
        (False, frame(b"") + frame(b""), 3),  # two messages for a unary call
        (False, frame(b"", flag=0x80), 3),  # a trailer frame from the client
        (False, frame(b"\xff\xff\xff"), 3),  # not a protobuf message
        (False, frame(b"", flag=0x01), 12),  # compressed, which grpc-web clients never send
        (False, b"\x00\x7f\xff\xff\xff", 8),  # declares a 2 GiB message
        (True, b"AAAA*AAA", 3),  # not base64
        (True, b"AAAAA", 3),  # not a multiple of 4
        (True, b"A===", 3),  # padding in the wrong place
    ],
)
async def test_malformed_requests_answer_http_200_with_a_status(
    server: RunningServer, http: httpx.AsyncClient, text: bool, body: bytes, code: int
) -> None:
    reply = await grpc_web(http, "ListEmailProviders", b"", await bearer(server), text, raw_body=body)
    assert reply.http_status == 200
    assert reply.code == code
    assert reply.messages == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_oversized_message_is_resource_exhausted(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    request = pb.AddEmailProviderSMTPRequest(description="x" * (1024 * 1024 + 10))
    for text in (False, True):
        reply = await grpc_web(http, "AddEmailProviderSMTP", request, await bearer(server), text)
        assert (reply.http_status, reply.code) == (200, 8)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_unknown_method_bad_timeout_and_json_subtype(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    auth = await bearer(server)
    unknown = await grpc_web(http, "NoSuchMethod", b"", auth)
    assert (unknown.http_status, unknown.code) == (200, 12)
    bad_timeout = await grpc_web(http, "ListEmailProviders", b"", {**auth, "grpc-timeout": "forever"})
    assert bad_timeout.code == 3
    good_timeout = await grpc_web(http, "ListEmailProviders", b"", {**auth, "grpc-timeout": "5S"})
    assert good_timeout.code == 0
    json_web = await http.post(
        "/zitadel.admin.v1.AdminService/ListEmailProviders",
        content=frame(b"{}"),
        headers={**auth, "content-type": "application/grpc-web+json"},
    )
    assert json_web.status_code == 200
    assert b"grpc-status:12" in json_web.content


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_grpc_message_is_percent_encoded(server: RunningServer, http: httpx.AsyncClient) -> None:
    reply = await grpc_web(http, "Café 100%", b"", await bearer(server))
    assert reply.code == 12
    assert (
        reply.trailers["grpc-message"] == "Method not found: /zitadel.admin.v1.AdminService/Caf%C3%A9 100%25"
    )


def test_percent_encoding_follows_the_grpc_spec() -> None:
    # spaces and printable ASCII stay; '%' and non-ASCII bytes are escaped (unlike urllib.parse.quote)
    assert percent_encode("not found (QUERY-fwofw)") == "not found (QUERY-fwofw)"
    assert percent_encode("50% off") == "50%25 off"
    assert percent_encode("café\n") == "caf%C3%A9%0A"


def test_text_decoding_in_four_character_groups() -> None:
    assert decode_text(b"AAE=AAI=") == b"\x00\x01\x00\x02"
    assert decode_text(b"YQ==YmM=ZGVm") == b"abcdef"
    with pytest.raises(ValueError):
        decode_text(b"YQ=a")
