"""grpc-web through a third-party client: @connectrpc/connect-web from npm, run by Node."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, FileDescriptor

from mailgate.gen.zitadel import admin_pb2, message_pb2
from tests.conftest import RunningServer

NODE_PROJECT = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def node_project() -> Path:
    """The npm project with its locked dependencies installed (`npm ci` once per session)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the third-party grpc-web client tests")
    lock = NODE_PROJECT / "package-lock.json"
    marker = NODE_PROJECT / "node_modules" / ".package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_PROJECT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.skip(f"npm ci could not install the grpc-web clients: {result.stderr.strip()[-500:]}")
    return NODE_PROJECT


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
    for file in _files(admin_pb2.DESCRIPTOR, message_pb2.DESCRIPTOR):
        proto = files.file.add()
        file.CopyToProto(proto)
        _add_json_names(proto.message_type, file.message_types_by_name)
    path = tmp_path_factory.mktemp("protos") / "mailgate.binpb"
    path.write_bytes(files.SerializeToString())
    return path


async def run_node(project: Path, script: str, *args: str) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        "node", script, *args, cwd=project, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return dict(json.loads(out))


async def test_connect_web_client(server: RunningServer, node_project: Path, descriptor_set: Path) -> None:
    token = await server.token()
    result = await run_node(
        node_project, "connect_web_client.mjs", str(descriptor_set), server.http_base, token
    )

    added_id = result["addedId"]
    got = result["got"]
    assert isinstance(got, dict)
    assert got["config"]["id"] == added_id
    assert got["config"]["state"] == "EMAIL_PROVIDER_INACTIVE"
    assert got["config"]["smtp"] == {
        "senderAddress": "web@example.com",
        "senderName": "Web",
        "tls": True,
        "host": "smtp.example.com:587",
        "none": {},
    }
    assert result["listedIds"] == [added_id]
    assert result["totalResult"] == "1"
    assert result["notFound"] == {
        "code": 5,
        "codeName": "NotFound",
        "message": "SMTP configuration not found (QUERY-fwofw)",
        "details": [{"id": "QUERY-fwofw", "message": "SMTP configuration not found"}],
    }
    invalid = result["invalid"]
    assert isinstance(invalid, dict) and invalid["code"] == 3
    unauthenticated = result["unauthenticated"]
    assert isinstance(unauthenticated, dict) and unauthenticated["code"] == 16
