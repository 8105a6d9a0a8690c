"""Callers with described tokens, and reading ZITADEL's ListEvents as a client sees it."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import event_pb2
from mailgate.history.events import ZITADEL_TYPES
from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer

DESCRIPTION = "ops-bot for history tests"


async def described(server: RunningServer, permission: str = "iam.write") -> tuple[Admin, str]:
    """A caller whose token has a description; and the token's id."""
    record, token = await server.services.tokens.create(server.instance, permission, DESCRIPTION)
    return Admin(server.stub, (("authorization", f"Bearer {token}"),)), record.id


async def events(caller: Admin, **request: Any) -> list[event_pb2.Event]:
    response = await caller("ListEvents", pb.ListEventsRequest(**request))
    return list(response.events)


async def provider_events(caller: Admin, **request: Any) -> list[event_pb2.Event]:
    """ZITADEL's eight provider event types only (each token made for a test has its event too)."""
    return await events(caller, event_types=list(ZITADEL_TYPES), **request)


def payload(event: event_pb2.Event) -> dict[str, Any]:
    return dict(json_format.MessageToDict(event.payload))


def types(found: list[event_pb2.Event]) -> list[str]:
    return [event.type.type for event in found]
