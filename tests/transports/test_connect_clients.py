"""Connect through clients nobody here wrote: @connectrpc/connect's Connect transport, and `buf curl`.

connect-es runs in Node from the npm project in node/; buf comes from the buf-bin dev dependency and
reads our schema from the descriptor set the server runs on (buf curl's reflection needs HTTP/2 on
the same port, which the HTTP listener does not speak).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailgate.gen.zitadel import message_pb2
from tests.fixtures.node import run_node
from tests.fixtures.processes import installed
from tests.fixtures.servers import RunningServer

PATH = "/zitadel.admin.v1.AdminService/"


@pytest.fixture
def backend() -> str:
    """One store is enough: these tests are about the wire."""
    return "sqlite"


@pytest.mark.parametrize("format", ["json", "binary"])
async def test_connect_es_client(
    server: RunningServer, node_project: Path, descriptor_set: Path, format: str
) -> None:
    token = await server.token()
    result = await run_node(
        node_project, "connect_client.mjs", str(descriptor_set), server.http_base, token, format
    )

    added_id = result["addedId"]
    got = result["got"]
    assert isinstance(got, dict)
    assert got["config"]["id"] == added_id
    assert got["config"]["state"] == "EMAIL_PROVIDER_INACTIVE"
    assert got["config"]["smtp"] == {
        "senderAddress": "connect@example.com",
        "senderName": "Connect",
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
        "fieldViolations": [],
    }
    invalid = result["invalid"]
    assert isinstance(invalid, dict)
    assert (invalid["code"], invalid["codeName"]) == (3, "InvalidArgument")
    assert invalid["fieldViolations"] == ["sender_address", "sender_name", "host"]
    unauthenticated = result["unauthenticated"]
    assert isinstance(unauthenticated, dict) and unauthenticated["code"] == 16


# --- buf curl ---


@dataclass
class Curled:
    exit_code: int
    out: str
    err: str


async def buf_curl(
    server: RunningServer, schema: Path, method: str, data: str, *headers: str, cache: Path
) -> Curled:
    """`buf curl` in its default mode against the HTTP port: the Connect protocol, binary messages."""
    command = [
        installed("buf", "the buf-bin dev dependency provides it"),
        "curl",
        "--schema",
        str(schema),
        "--data",
        data,
    ]
    for header in headers:
        command += ["--header", header]
    command.append(server.http_base + PATH + method)
    env = {**os.environ, "BUF_CACHE_DIR": str(cache)}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Curled(process.returncode, out.decode(), err.decode())


async def test_buf_curl_default_protocol(server: RunningServer, descriptor_set: Path, tmp_path: Path) -> None:
    auth = f"Authorization: Bearer {await server.token()}"
    smtp = {"senderAddress": "curl@example.com", "senderName": "Curl", "host": "smtp.example.com:25"}
    added = await buf_curl(
        server, descriptor_set, "AddEmailProviderSMTP", json.dumps(smtp), auth, cache=tmp_path
    )
    assert added.exit_code == 0, added.err
    provider_id = json.loads(added.out)["id"]

    got = await buf_curl(
        server, descriptor_set, "GetEmailProviderById", json.dumps({"id": provider_id}), auth, cache=tmp_path
    )
    assert got.exit_code == 0, got.err
    assert json.loads(got.out)["config"]["smtp"]["senderAddress"] == "curl@example.com"

    missing = await buf_curl(
        server, descriptor_set, "GetEmailProviderById", '{"id": "123456789012345678"}', auth, cache=tmp_path
    )
    assert missing.exit_code == 5 << 3, missing.err  # buf curl exits with the code shifted by 3
    error = json.loads(missing.err)
    assert error["code"] == "not_found"
    assert error["message"] == "SMTP configuration not found (QUERY-fwofw)"
    [detail] = error["details"]
    assert detail["type"] == "zitadel.v1.ErrorDetail"
    assert message_pb2.ErrorDetail.FromString(_unpadded(detail["value"])) == message_pb2.ErrorDetail(
        id="QUERY-fwofw", message="SMTP configuration not found"
    )
    assert detail["debug"] == {"id": "QUERY-fwofw", "message": "SMTP configuration not found"}


def _unpadded(value: str) -> bytes:
    return base64.b64decode(value + "=" * (-len(value) % 4))
