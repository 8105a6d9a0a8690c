"""ZITADEL's own Node client (@zitadel/node) reads mailgate's history through ListEvents unchanged:
every event, pages by sequence, a type filter, the type lists, and an unknown type refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.node import npm_project, run_node
from tests.fixtures.servers import RunningServer
from tests.history.helpers import DESCRIPTION, described

pytestmark = pytest.mark.asyncio(loop_scope="session")

PROJECT = Path(__file__).parent / "node"
INVALID_ARGUMENT = 3


async def test_zitadels_node_client_lists_pages_and_filters_events(server: RunningServer) -> None:
    project = npm_project(PROJECT, "ZITADEL's Node client")
    caller, token_id = await described(server)
    provider = await caller.add_smtp(description="node")
    await caller.activate(provider)
    await caller.add_http(description="hook")
    _, token = await server.services.tokens.create(server.instance, "iam.read", DESCRIPTION)

    seen = await run_node(project, "list_events.mjs", server.grpc_target, token)

    assert [e["type"] for e in seen["all"]] == [
        "mailgate.token.added",
        "instance.smtp.config.added",
        "instance.smtp.config.activated",
        "instance.smtp.config.http.added",
        "mailgate.token.added",
    ]
    first = seen["all"][1]
    assert first["aggregate"] == "instance" and first["aggregateId"] == server.instance
    assert first["editor"] == token_id and first["editorName"] == DESCRIPTION
    assert first["payload"]["id"] == provider and first["payload"]["description"] == "node"
    assert [e["sequence"] for e in seen["firstPage"]] == [2, 3]
    assert [e["sequence"] for e in seen["secondPage"]] == [4]
    assert [e["payload"] for e in seen["activated"]] == [{"id": provider}]
    assert "instance.smtp.config.password.changed" in seen["types"]
    assert seen["aggregates"] == ["instance"]
    assert seen["unknown"]["code"] == INVALID_ARGUMENT
