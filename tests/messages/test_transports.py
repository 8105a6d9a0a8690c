"""The delivery API on every transport, through the one pipeline: JSON at /v1/... (the gateway),
grpc-web and Connect on the method table's paths, and `buf curl` as a client nobody here wrote."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from google.protobuf import descriptor_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.zitadel import message_pb2
from tests.fixtures.processes import installed
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer
from tests.transports.conftest import _add_json_names, _files, assert_status_json, frame, parse_frames
from tests.transports.test_connect import CONNECT_JSON, CONNECT_PROTO, connect_error, unpack

pytestmark = pytest.mark.asyncio(loop_scope="session")

SERVICE = "/mailgate.v1.DeliveryService/"
EMAIL = {"to": ["ann@example.com"], "subject": "Welcome", "textBody": "Hello Ann"}


@pytest_asyncio.fixture(loop_scope="session")
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_base, timeout=10) as client:
        yield client


def auth(mailer: Mailer) -> dict[str, str]:
    return dict(mailer.metadata)


# --- JSON through the gateway ---


async def test_json_send_get_and_search(provider: str, sender: Mailer, http: httpx.AsyncClient) -> None:
    sent = await http.post(
        "/v1/messages",
        json={
            **EMAIL,
            "expiresAfter": "600s",
            "idempotency_key": "json-1",
            "headers": [{"name": "X-A", "value": "b"}],
        },
        headers=auth(sender),
    )
    assert sent.status_code == 200, sent.text
    message = sent.json()["message"]
    assert message["state"] == "MESSAGE_STATE_QUEUED"  # enums by name
    assert message["to"] == ["ann@example.com"] and message["idempotencyKey"] == "json-1"
    assert message["headers"] == [{"name": "X-A", "value": "b"}]
    assert "replayed" not in sent.json()  # false is left out

    got = await http.get(f"/v1/messages/{message['id']}", headers=auth(sender))
    assert got.status_code == 200, got.text
    assert got.json()["message"] == message

    found = await http.post(
        "/v1/messages/_search", json={"states": ["MESSAGE_STATE_QUEUED"]}, headers=auth(sender)
    )
    assert found.status_code == 200, found.text
    assert [m["id"] for m in found.json()["messages"]] == [message["id"]]

    replayed = await http.post(
        "/v1/messages",
        json={
            **EMAIL,
            "expiresAfter": "600s",
            "idempotencyKey": "json-1",
            "headers": [{"name": "X-A", "value": "b"}],
        },
        headers=auth(sender),
    )
    assert replayed.json() == {"message": message, "replayed": True}


async def test_json_cancel_retry_and_fallbacks(
    provider: str, sender: Mailer, writer: Mailer, http: httpx.AsyncClient
) -> None:
    message = await sender.send()
    canceled = await http.post(f"/v1/messages/{message.id}/_cancel", json={}, headers=auth(writer))
    assert canceled.status_code == 200 and canceled.json()["message"]["state"] == "MESSAGE_STATE_CANCELED"
    retried = await http.post(f"/v1/messages/{message.id}/_retry", json={}, headers=auth(writer))
    error = assert_status_json(retried)
    assert retried.status_code == 400 and "MG-MESSAGE-STATE" in error["message"]

    put = await http.put("/v1/delivery/fallbacks", json={"providerIds": [provider]}, headers=auth(writer))
    assert put.status_code == 200 and put.json() == {"providerIds": [provider]}
    got = await http.get("/v1/delivery/fallbacks", headers=auth(writer))
    assert got.json() == {"providerIds": [provider]}


async def test_json_errors(provider: str, sender: Mailer, http: httpx.AsyncClient) -> None:
    invalid = await http.post("/v1/messages", json={**EMAIL, "to": ["nobody"]}, headers=auth(sender))
    body = assert_status_json(invalid)
    assert invalid.status_code == 400 and body["code"] == 3
    assert (
        body["message"]
        == "Invalid argument: the to[0] address 'nobody' is not a valid email address (MG-ADDRESS-INVALID)"
    )
    types = [detail["@type"] for detail in body["details"]]
    assert types == [
        "type.googleapis.com/zitadel.v1.ErrorDetail",
        "type.googleapis.com/google.rpc.BadRequest",
    ]

    missing = await http.get("/v1/messages/123", headers=auth(sender))
    assert missing.status_code == 404 and "MG-MESSAGE-NOT-FOUND" in assert_status_json(missing)["message"]
    anonymous = await http.post("/v1/messages", json=EMAIL)
    assert anonymous.status_code == 401 and "www-authenticate" in anonymous.headers
    wrong_method = await http.delete("/v1/messages/123", headers=auth(sender))
    assert wrong_method.status_code == 405


async def test_the_delivery_routes_are_served_at_their_own_paths(server: RunningServer) -> None:
    bound = {
        (route.http_method, route.served_template, route.spec.name)
        for route in server.app.routes.routes
        if route.spec.service == "mailgate.v1.DeliveryService"
    }
    assert bound == {
        ("POST", "/v1/messages", "SendEmail"),
        ("GET", "/v1/messages/{id}", "GetMessage"),
        ("POST", "/v1/messages/_search", "ListMessages"),
        ("POST", "/v1/messages/{id}/_cancel", "CancelMessage"),
        ("POST", "/v1/messages/{id}/_retry", "RetryMessage"),
        ("GET", "/v1/delivery/fallbacks", "GetDeliveryFallbacks"),
        ("PUT", "/v1/delivery/fallbacks", "SetDeliveryFallbacks"),
    }


async def test_openapi_describes_the_delivery_routes(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/v1/messages"]) == {"post"}
    assert set(paths["/v1/messages/{id}"]) == {"get"}
    assert set(paths["/v1/messages/_search"]) == {"post"}
    assert set(paths["/v1/delivery/fallbacks"]) == {"get", "put"}
    request = document["components"]["schemas"]["mailgate.v1.SendEmailRequest"]
    assert request["properties"]["to"]["maxItems"] == 50
    assert request["properties"]["idempotencyKey"]["maxLength"] == 200
    assert "textBody" not in document["components"]["schemas"]["mailgate.v1.Message"]["properties"]
    links = document["paths"]["/v1/messages"]["post"]["responses"]["200"]["links"]
    assert set(links) == {
        "DeliveryService_GetMessage",
        "DeliveryService_CancelMessage",
        "DeliveryService_RetryMessage",
    }
    assert links["DeliveryService_GetMessage"]["parameters"] == {"id": "$response.body#/message/id"}


# --- grpc-web ---


async def grpc_web(
    http: httpx.AsyncClient, rpc: str, request: Message, headers: dict[str, str], text: bool
) -> tuple[list[bytes], dict[str, str]]:
    """One grpc-web call: the data payloads and the trailers."""
    body = frame(request.SerializeToString())
    content_type = "application/grpc-web-text" if text else "application/grpc-web+proto"
    response = await http.post(
        SERVICE + rpc,
        content=base64.b64encode(body) if text else body,
        headers={"content-type": content_type, "x-grpc-web": "1", **headers},
    )
    assert response.status_code == 200
    content = base64.b64decode(response.content) if text else response.content
    return parse_frames(content)


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_grpc_web_send_and_get(
    provider: str, sender: Mailer, http: httpx.AsyncClient, text: bool
) -> None:
    request = pb.SendEmailRequest(to=["ann@example.com"], subject="Welcome", text_body="Hello")
    [payload], trailers = await grpc_web(http, "SendEmail", request, auth(sender), text)
    assert trailers["grpc-status"] == "0"
    message = pb.SendEmailResponse.FromString(payload).message
    [payload], _ = await grpc_web(http, "GetMessage", pb.GetMessageRequest(id=message.id), auth(sender), text)
    assert pb.GetMessageResponse.FromString(payload).message == message

    messages, trailers = await grpc_web(
        http, "GetMessage", pb.GetMessageRequest(id="123"), auth(sender), text
    )
    assert messages == [] and trailers["grpc-status"] == "5"
    assert trailers["grpc-message"] == "message not found (MG-MESSAGE-NOT-FOUND)"


# --- Connect ---


async def test_connect_json_and_binary(provider: str, sender: Mailer, http: httpx.AsyncClient) -> None:
    sent = await http.post(SERVICE + "SendEmail", json=EMAIL, headers={**CONNECT_JSON, **auth(sender)})
    assert sent.status_code == 200, sent.text
    message_id = sent.json()["message"]["id"]
    got = await http.post(
        SERVICE + "GetMessage",
        content=pb.GetMessageRequest(id=message_id).SerializeToString(),
        headers={**CONNECT_PROTO, **auth(sender)},
    )
    assert got.status_code == 200 and got.headers["content-type"] == "application/proto"
    assert pb.GetMessageResponse.FromString(got.content).message.subject == "Welcome"

    refused = await http.post(
        SERVICE + "SendEmail",
        json={**EMAIL, "subject": "a\r\nBcc: e@evil.test"},
        headers={**CONNECT_JSON, **auth(sender)},
    )
    error = connect_error(refused, "invalid_argument")
    first, second = error["details"]
    assert unpack(first, message_pb2.ErrorDetail).id == "MG-TEXT-CONTROL"
    assert [v.field for v in unpack(second, error_details_pb2.BadRequest).field_violations] == ["subject"]


@pytest.fixture(scope="session")
def delivery_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = descriptor_pb2.FileDescriptorSet()
    for file in _files(pb.DESCRIPTOR, message_pb2.DESCRIPTOR, error_details_pb2.DESCRIPTOR):
        proto = files.file.add()
        file.CopyToProto(proto)
        _add_json_names(proto.message_type, file.message_types_by_name)
    path = tmp_path_factory.mktemp("delivery-schema") / "delivery.binpb"
    path.write_bytes(files.SerializeToString())
    return path


async def test_buf_curl(
    provider: str, sender: Mailer, server: RunningServer, backend: str, delivery_schema: Path, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("one store is enough for a client's wire")

    async def curl(rpc: str, data: dict[str, Any]) -> tuple[int, str, str]:
        command = [
            installed("buf", "the buf-bin dev dependency provides it"),
            "curl",
            "--schema",
            str(delivery_schema),
            "--data",
            json.dumps(data),
        ]
        command += [
            "--header",
            f"authorization: {auth(sender)['authorization']}",
            server.http_base + SERVICE + rpc,
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            env={**os.environ, "BUF_CACHE_DIR": str(tmp_path)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    code, out, err = await curl("SendEmail", {**EMAIL, "idempotencyKey": "curl-1"})
    assert code == 0, err
    message = json.loads(out)["message"]
    code, out, err = await curl("GetMessage", {"id": message["id"]})
    assert code == 0, err
    assert json.loads(out)["message"] == message
    code, _, err = await curl("SendEmail", {**EMAIL, "idempotencyKey": "curl-1", "textBody": "other"})
    assert code == 9 << 3, err  # FAILED_PRECONDITION, shifted by 3 as buf curl exits
    assert json.loads(err)["message"].endswith("(MG-IDEMPOTENCY-KEY-REUSED)")
