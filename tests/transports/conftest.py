"""HTTP clients for the transport tests against the real server: JSON (grpc-gateway paths), grpc-web,
and the npm project and descriptor set that third-party clients (connect-es, buf curl) run on."""

from __future__ import annotations

import base64
import struct
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from mailgate.gen.zitadel import admin_pb2, message_pb2
from tests.fixtures.node import npm_project
from tests.fixtures.servers import RunningServer

# grpc-gateway's runtime.HTTPStatusFromCode (runtime/errors.go), written out: gRPC code -> HTTP status.
HTTP_STATUS_FROM_CODE = {
    0: 200,  # OK
    1: 499,  # CANCELLED
    2: 500,  # UNKNOWN
    3: 400,  # INVALID_ARGUMENT
    4: 504,  # DEADLINE_EXCEEDED
    5: 404,  # NOT_FOUND
    6: 409,  # ALREADY_EXISTS
    7: 403,  # PERMISSION_DENIED
    8: 429,  # RESOURCE_EXHAUSTED
    9: 400,  # FAILED_PRECONDITION
    10: 409,  # ABORTED
    11: 400,  # OUT_OF_RANGE
    12: 501,  # UNIMPLEMENTED
    13: 500,  # INTERNAL
    14: 503,  # UNAVAILABLE
    15: 500,  # DATA_LOSS
    16: 401,  # UNAUTHENTICATED
}
SMTP = {"senderAddress": "noreply@example.com", "senderName": "Example", "host": "smtp.example.com:587"}
# Values that differ from run to run; golden JSON holds these placeholders instead.
VOLATILE = {
    "id": "<id>",
    "creationDate": "<time>",
    "changeDate": "<time>",
    "viewTimestamp": "<time>",
    "resourceOwner": "<instance>",
    "signingKey": "<key>",
}


def normalize(data: Any) -> Any:
    """`data` with every volatile value replaced by its placeholder (recursively)."""
    if isinstance(data, dict):
        return {key: VOLATILE[key] if key in VOLATILE else normalize(value) for key, value in data.items()}
    if isinstance(data, list):
        return [normalize(item) for item in data]
    return data


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP/1.1 client for the server's HTTP port."""
    async with httpx.AsyncClient(base_url=server.http_base, timeout=10) as client:
        yield client


async def bearer(
    server: RunningServer, permission: str = "iam.write", instance: str | None = None
) -> dict[str, str]:
    return {"Authorization": f"Bearer {await server.token(permission, instance)}"}


async def add_smtp(http: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> str:
    """A new SMTP provider through the JSON API; its id."""
    response = await http.post("/admin/v1/email/smtp", json={**SMTP, **fields}, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def assert_status_json(response: httpx.Response) -> dict[str, Any]:
    """The body is a google.rpc.Status whose code maps to the HTTP status; returns it."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) <= {"code", "message", "details"}, body
    assert isinstance(body["code"], int) and body["code"] > 0
    assert HTTP_STATUS_FROM_CODE[body["code"]] == response.status_code, (response.status_code, body)
    for detail in body.get("details", []):
        assert detail["@type"].startswith("type.googleapis.com/")
    return dict(body)


# --- grpc-web ---

GRPC_PATH = "/zitadel.admin.v1.AdminService/"


def frame(payload: bytes, flag: int = 0) -> bytes:
    return struct.pack(">BI", flag, len(payload)) + payload


@dataclass
class WebReply:
    """A parsed grpc-web response: HTTP status, data payloads and trailer fields."""

    http_status: int
    content_type: str
    messages: list[bytes]
    trailers: dict[str, str]

    @property
    def code(self) -> int:
        return int(self.trailers["grpc-status"])

    def status(self) -> status_pb2.Status:
        raw = self.trailers["grpc-status-details-bin"]
        return status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))


def parse_frames(body: bytes) -> tuple[list[bytes], dict[str, str]]:
    """Data payloads and the trailer (which must be the last frame)."""
    messages: list[bytes] = []
    trailers: dict[str, str] = {}
    position = 0
    while position < len(body):
        flag, length = struct.unpack_from(">BI", body, position)
        payload = body[position + 5 : position + 5 + length]
        assert len(payload) == length, "truncated frame"
        position += 5 + length
        if flag & 0x80:
            assert position == len(body), "the trailer frame must be last"
            for line in payload.decode().split("\r\n"):
                if line:
                    name, _, value = line.partition(":")
                    trailers[name.strip()] = value.strip()
        else:
            assert not trailers
            messages.append(payload)
    assert "grpc-status" in trailers, "no trailer frame"
    return messages, trailers


async def grpc_web(
    http: httpx.AsyncClient,
    method: str,
    request: Message | bytes,
    headers: dict[str, str] | None = None,
    text: bool = False,
    raw_body: bytes | None = None,
) -> WebReply:
    """One grpc-web call; `raw_body` replaces the framed (and, in text mode, base64) request."""
    payload = request if isinstance(request, bytes) else request.SerializeToString()
    body = frame(payload)
    content_type = "application/grpc-web-text" if text else "application/grpc-web+proto"
    if text:
        body = base64.b64encode(body)
    if raw_body is not None:
        body = raw_body
    all_headers = {"content-type": content_type, "x-grpc-web": "1", **(headers or {})}
    response = await http.post(GRPC_PATH + method, content=body, headers=all_headers)
    content = response.content
    if text:
        content = base64.b64decode(content)
    messages, trailers = parse_frames(content)
    return WebReply(response.status_code, response.headers["content-type"], messages, trailers)


# --- third-party clients ---

NODE_PROJECT = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def node_project() -> Path:
    """The npm project in node/, installed once per session."""
    return npm_project(NODE_PROJECT, "the third-party grpc-web clients")


def _files(*roots: FileDescriptor) -> Iterator[FileDescriptor]:
    """`roots` and everything they import, dependencies first."""
    seen: set[str] = set()

    def visit(file: FileDescriptor) -> Iterator[FileDescriptor]:
        if file.name in seen:
            return
        seen.add(file.name)
        for dependency in file.dependencies:
            yield from visit(dependency)
        yield file

    for root in roots:
        yield from visit(root)


def _add_json_names(
    messages: Iterable[descriptor_pb2.DescriptorProto], by_name: Mapping[str, Descriptor]
) -> None:
    # protoc fills json_name in the sets it hands to plugins; CopyToProto leaves it out.
    for message in messages:
        descriptor = by_name[message.name]
        for field in message.field:
            field.json_name = descriptor.fields_by_name[field.name].json_name
        _add_json_names(message.nested_type, descriptor.nested_types_by_name)


@pytest.fixture(scope="session")
def descriptor_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our protos as a FileDescriptorSet, taken from the descriptors the server runs on."""
    files = descriptor_pb2.FileDescriptorSet()
    roots = (admin_pb2.DESCRIPTOR, message_pb2.DESCRIPTOR, error_details_pb2.DESCRIPTOR)
    for file in _files(*roots):
        proto = files.file.add()
        file.CopyToProto(proto)
        _add_json_names(proto.message_type, file.message_types_by_name)
    path = tmp_path_factory.mktemp("protos") / "mailgate.binpb"
    path.write_bytes(files.SerializeToString())
    return path
