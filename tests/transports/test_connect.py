"""The Connect protocol on the HTTP port, spoken by hand: codecs, Connect's error JSON, every refusal.

Third-party clients (connect-es, buf curl) drive the same endpoint in test_connect_clients.py.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import message_pb2
from mailgate.transports import connect
from tests.fixtures.network import LOCAL_ALLOW_ENV
from tests.fixtures.servers import RunningServer, server_env, start_server
from tests.fixtures.smtp import Listener
from tests.transports.conftest import HTTP_STATUS_FROM_CODE, SMTP, bearer

PATH = "/zitadel.admin.v1.AdminService/"
UNKNOWN_ID = "123456789012345678"
CONNECT_JSON = {"content-type": "application/json", "connect-protocol-version": "1"}
CONNECT_PROTO = {"content-type": "application/proto", "connect-protocol-version": "1"}
# Connect's error codes (connectrpc.com/docs/protocol#error-codes) by gRPC number.
CONNECT_CODES = {
    "canceled": 1,
    "unknown": 2,
    "invalid_argument": 3,
    "deadline_exceeded": 4,
    "not_found": 5,
    "already_exists": 6,
    "permission_denied": 7,
    "resource_exhausted": 8,
    "failed_precondition": 9,
    "aborted": 10,
    "out_of_range": 11,
    "unimplemented": 12,
    "internal": 13,
    "unavailable": 14,
    "data_loss": 15,
    "unauthenticated": 16,
}


@pytest.fixture
def backend() -> str:
    """One store is enough: nothing here depends on it."""
    return "sqlite"


async def call_json(
    http: httpx.AsyncClient, method: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post(PATH + method, json=body, headers={**CONNECT_JSON, **(headers or {})})


async def call_proto(
    http: httpx.AsyncClient, method: str, request: Message, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = request.SerializeToString()
    return await http.post(PATH + method, content=content, headers={**CONNECT_PROTO, **(headers or {})})


def connect_error(response: httpx.Response, code: str) -> dict[str, Any]:
    """The body is Connect's error JSON with `code`, under the HTTP status of that code; returns it."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert body["code"] == code, body
    assert set(body) <= {"code", "message", "details"}, body
    assert response.status_code == HTTP_STATUS_FROM_CODE[CONNECT_CODES[code]], (response.status_code, body)
    for detail in body.get("details", []):
        assert set(detail) <= {"type", "value", "debug"}
        assert "=" not in detail["value"], "Connect wants unpadded base64"
    return dict(body)


def unpack(detail: dict[str, Any], kind: type[Message]) -> Any:
    assert detail["type"] == kind.DESCRIPTOR.full_name
    raw = detail["value"]
    return kind.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))


async def test_json_call_round_trip(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    # proto and JSON names both work on input; unknown fields are ignored, as connect-go does
    added = await call_json(
        http, "AddEmailProviderSMTP", {**SMTP, "reply_to_address": "h@example.com", "x": 1}, auth
    )
    assert (added.status_code, added.headers["content-type"]) == (200, "application/json"), added.text
    provider_id = added.json()["id"]
    got = await call_json(http, "GetEmailProviderById", {"id": provider_id}, auth)
    assert got.status_code == 200
    config = got.json()["config"]
    assert config["id"] == provider_id
    assert config["state"] == "EMAIL_PROVIDER_INACTIVE"  # enums by name
    assert config["details"]["sequence"] == "1"  # 64-bit integers as strings
    assert config["smtp"]["replyToAddress"] == "h@example.com"  # lowerCamelCase out


async def test_binary_call_round_trip(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    request = pb.AddEmailProviderSMTPRequest(
        sender_address="a@example.com", sender_name="A", host="m.example.com:25"
    )
    added = await call_proto(http, "AddEmailProviderSMTP", request, auth)
    assert (added.status_code, added.headers["content-type"]) == (200, "application/proto")
    provider_id = pb.AddEmailProviderSMTPResponse.FromString(added.content).id
    listed = await call_proto(http, "ListEmailProviders", pb.ListEmailProvidersRequest(), auth)
    assert [item.id for item in pb.ListEmailProvidersResponse.FromString(listed.content).result] == [
        provider_id
    ]
    # the protocol version header is optional (plain curl users leave it out)
    bare = await http.post(
        PATH + "GetEmailProvider", content=b"", headers={"content-type": "application/proto", **auth}
    )
    connect_error(bare, "not_found")  # no active provider; an empty proto body is an empty message


async def test_zitadel_error_carries_its_details(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    for response in (
        await call_json(http, "GetEmailProviderById", {"id": UNKNOWN_ID}, auth),
        await call_proto(http, "GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=UNKNOWN_ID), auth),
    ):
        error = connect_error(response, "not_found")  # errors are JSON whatever the request codec
        assert error["message"] == "SMTP configuration not found (QUERY-fwofw)"
        [detail] = error["details"]
        found = unpack(detail, message_pb2.ErrorDetail)
        assert (found.id, found.message) == ("QUERY-fwofw", "SMTP configuration not found")
        assert detail["debug"] == {"id": "QUERY-fwofw", "message": "SMTP configuration not found"}


async def test_validation_error_carries_bad_request(server: RunningServer, http: httpx.AsyncClient) -> None:
    response = await call_json(http, "AddEmailProviderSMTP", {**SMTP, "host": ""}, await bearer(server))
    error = connect_error(response, "invalid_argument")
    [detail] = error["details"]
    bad = unpack(detail, error_details_pb2.BadRequest)
    assert [violation.field for violation in bad.field_violations] == ["host"]


async def test_failed_test_email_carries_its_report(settings_env: dict[str, str]) -> None:
    running = await start_server({**settings_env, "MAILGATE_OUTBOUND_ALLOW": LOCAL_ALLOW_ENV})
    try:
        with socket.socket() as sock:  # a port where nothing listens
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        request = {**SMTP, "host": f"127.0.0.1:{port}", "tls": False, "receiverAddress": "to@example.com"}
        async with httpx.AsyncClient(base_url=running.http_base, timeout=30) as http:
            response = await call_json(http, "TestEmailProviderSMTP", request, await bearer(running))
        error = connect_error(response, "internal")
        assert error["message"].endswith("(EMAIL-skwos)")
        zitadel, report = error["details"]
        assert unpack(zitadel, message_pb2.ErrorDetail).id == "EMAIL-skwos"
        assert unpack(report, report_pb.SmtpTestReport).stage == report_pb.SMTP_TEST_STAGE_CONNECT
        assert report["debug"]["stage"] == "SMTP_TEST_STAGE_CONNECT"
    finally:
        await running.close()


async def test_unauthenticated_and_permission_denied(server: RunningServer, http: httpx.AsyncClient) -> None:
    connect_error(await call_json(http, "GetEmailProvider", {}), "unauthenticated")
    request = {"endpoint": "https://hooks.example.com/x"}
    denied = await call_json(http, "AddEmailProviderHTTP", request, await bearer(server, "iam.read"))
    connect_error(denied, "permission_denied")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "Expecting property name"),
        (b"[]", "must be a JSON object"),
        (b"", "empty"),
        (b'{"query": {"limit": "many"}}', "limit"),
    ],
)
async def test_unreadable_json_is_invalid_argument(
    server: RunningServer, http: httpx.AsyncClient, content: bytes, reason: str
) -> None:
    headers = {**CONNECT_JSON, **(await bearer(server))}
    response = await http.post(PATH + "ListEmailProviders", content=content, headers=headers)
    assert reason in connect_error(response, "invalid_argument")["message"]


async def test_unreadable_proto_is_invalid_argument(server: RunningServer, http: httpx.AsyncClient) -> None:
    headers = {**CONNECT_PROTO, **(await bearer(server))}
    response = await http.post(PATH + "ListEmailProviders", content=b"\xff\xff\xff", headers=headers)
    assert connect_error(response, "invalid_argument")["message"] == "the request message cannot be parsed"


async def test_unknown_method_is_404_unimplemented(server: RunningServer, http: httpx.AsyncClient) -> None:
    # 404 is what Connect clients read as `unimplemented`; the body says the same
    error = connect_error_at(await call_json(http, "NoSuchMethod", {}), 404, "unimplemented")
    assert error["message"] == "method not found: /zitadel.admin.v1.AdminService/NoSuchMethod"


def connect_error_at(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    return dict(body)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/connect+json", "application/xml", "application/json; charset=latin1", None],
)
async def test_other_content_types_get_415(
    server: RunningServer, http: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"connect-protocol-version": "1", **(await bearer(server))}
    if content_type is not None:
        headers["content-type"] = content_type
    response = await http.post(PATH + "ListEmailProviders", content=b"{}", headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.headers["accept-post"]
    assert "application/proto" in response.headers["accept-post"]


async def test_get_and_other_methods_get_405(server: RunningServer, http: httpx.AsyncClient) -> None:
    # Connect's GET is for NO_SIDE_EFFECTS methods; ZITADEL marks none of these
    query = {"connect": "v1", "encoding": "json", "message": "{}"}
    response = await http.get(PATH + "ListEmailProviders", params=query, headers=await bearer(server))
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    assert (await http.put(PATH + "ListEmailProviders", content=b"{}")).status_code == 405


async def test_protocol_version_and_compression_refused(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    auth = await bearer(server)
    version = await call_json(http, "ListEmailProviders", {}, {**auth, "connect-protocol-version": "2"})
    assert "connect-protocol-version" in connect_error(version, "invalid_argument")["message"]
    gzip = await call_json(http, "ListEmailProviders", {}, {**auth, "content-encoding": "gzip"})
    assert "supported encodings are identity" in connect_error(gzip, "unimplemented")["message"]
    assert gzip.headers["accept-encoding"] == "identity"
    identity = await call_json(http, "ListEmailProviders", {}, {**auth, "content-encoding": "identity"})
    assert identity.status_code == 200


async def test_oversized_body_is_resource_exhausted(settings_env: dict[str, str]) -> None:
    running = await start_server(settings_env, http_max_body=1024)
    try:
        auth = await bearer(running)
        big = {**SMTP, "description": "x" * 2000}
        async with httpx.AsyncClient(base_url=running.http_base, timeout=10) as http:
            declared = await call_json(http, "AddEmailProviderSMTP", big, auth)

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: caught while reading
                for _ in range(3):
                    yield b" " * 600

            streamed = await http.post(
                PATH + "ListEmailProviders", content=chunks(), headers={**CONNECT_JSON, **auth}
            )
            small = await call_json(http, "ListEmailProviders", {}, auth)  # the connection is still usable
        for response in (declared, streamed):
            assert (
                connect_error(response, "resource_exhausted")["message"]
                == "request body is larger than 1024 bytes"
            )
        assert small.status_code == 200
    finally:
        await running.close()


async def test_timeout_header(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    fine = await call_json(http, "ListEmailProviders", {}, {**auth, "connect-timeout-ms": "5000"})
    assert fine.status_code == 200
    for bad in ("soon", "-1", "12345678901", "1.5"):
        response = await call_json(http, "ListEmailProviders", {}, {**auth, "connect-timeout-ms": bad})
        assert "invalid connect timeout" in connect_error(response, "invalid_argument")["message"]


@pytest.fixture
async def silent_smtp(listener: Listener) -> int:
    """A TCP server on 127.0.0.1 that accepts and never says a word (no SMTP greeting); its port."""
    return (await listener()).port


async def test_timeout_bounds_the_call(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, silent_smtp: int
) -> None:
    # The SMTP greeting would be awaited for as long as the SMTP timeouts allow (60 s here); the
    # caller's 300 ms deadline ends the call first.
    env = {
        **server_env(backend, tmp_path, request),
        "MAILGATE_OUTBOUND_ALLOW": LOCAL_ALLOW_ENV,
        "MAILGATE_SMTP_CONNECT_TIMEOUT": "60",
        "MAILGATE_SMTP_COMMAND_TIMEOUT": "60",
        "MAILGATE_SMTP_TEST_TIMEOUT": "60",
    }
    running = await start_server(env)
    try:
        request_body = {
            **SMTP,
            "host": f"127.0.0.1:{silent_smtp}",
            "tls": False,
            "receiverAddress": "t@example.com",
        }
        headers = {**(await bearer(running)), "connect-timeout-ms": "300"}
        async with httpx.AsyncClient(base_url=running.http_base, timeout=30) as http:
            response = await call_json(http, "TestEmailProviderSMTP", request_body, headers)
        connect_error(response, "deadline_exceeded")
    finally:
        await running.close()


def test_every_code_has_connects_name() -> None:
    for name, number in CONNECT_CODES.items():
        status = status_pb2.Status(code=number, message="m")
        assert json.loads(connect.error_json(status)) == {"code": name, "message": "m"}
    assert json.loads(connect.error_json(status_pb2.Status(code=99)))["code"] == "unknown"


async def test_cross_origin_connect_call(settings_env: dict[str, str]) -> None:
    origin = "https://console.example.com"
    running = await start_server(settings_env, cors_origins=(origin,))
    try:
        async with httpx.AsyncClient(base_url=running.http_base, timeout=10) as http:
            # what a browser asks before connect-web's POST with a deadline
            requested = "authorization,connect-protocol-version,connect-timeout-ms,content-type"
            preflight = await http.options(
                PATH + "ListEmailProviders",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": requested,
                },
            )
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == origin
            allowed = {name.strip() for name in preflight.headers["access-control-allow-headers"].split(",")}
            assert set(requested.split(",")) <= allowed
            headers = {"Origin": origin, "connect-timeout-ms": "5000", **(await bearer(running))}
            actual = await call_json(http, "ListEmailProviders", {}, headers)
        assert actual.status_code == 200
        assert actual.headers["access-control-allow-origin"] == origin
    finally:
        await running.close()


def test_details_keep_their_bytes_and_add_debug_when_known() -> None:
    unknown = any_pb2.Any(type_url="type.googleapis.com/other.v1.Thing", value=b"\x08\x01")
    retry = any_pb2.Any()
    retry.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=30)))
    status = status_pb2.Status(code=8, message="slow down", details=[unknown, retry])
    assert json.loads(connect.error_json(status)) == {
        "code": "resource_exhausted",
        "message": "slow down",
        "details": [
            {"type": "other.v1.Thing", "value": "CAE"},  # no descriptor here: the bytes still travel
            {"type": "google.rpc.RetryInfo", "value": "CgIIHg", "debug": {"retryDelay": "30s"}},
        ],
    }
