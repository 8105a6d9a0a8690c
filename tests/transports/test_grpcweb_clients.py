"""grpc-web through a third-party client: @connectrpc/connect-web from npm, run by Node."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.node import run_node
from tests.fixtures.servers import RunningServer


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
