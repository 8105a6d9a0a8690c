"""The JSON encoding cache never serves a stale provider: a write is seen by the next read everywhere.

The cache is keyed by what it encodes (the message type and its deterministic bytes), so the unit
tests check the key and the bounds, and the server tests read, write and read again through native
gRPC, JSON, grpc-web and Connect (JSON and binary).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from google.protobuf import json_format

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import settings_pb2
from mailgate.transports.gateway.marshal import EncodingCache
from tests.fixtures.servers import RunningServer
from tests.transports.conftest import SMTP, bearer, grpc_web

CONNECT_JSON = {"content-type": "application/json", "connect-protocol-version": "1"}
CONNECT_PROTO = {"content-type": "application/proto", "connect-protocol-version": "1"}


def test_an_entry_is_the_encoding_of_exactly_these_bytes_of_this_type() -> None:
    cache = EncodingCache()
    provider = settings_pb2.EmailProvider(id="p1", description="first")
    first = cache.json(provider)
    assert cache.json(settings_pb2.EmailProvider(id="p1", description="first")) is first  # a hit
    provider.description = "second"  # the same object, changed: other bytes, another entry
    assert json.loads(cache.json(provider)) == {"id": "p1", "description": "second"}
    # The same bytes as another type are another message.
    by_id, add = pb.GetEmailProviderByIdRequest(id="x"), pb.AddEmailProviderSMTPRequest(sender_address="x")
    assert by_id.SerializeToString() == add.SerializeToString()
    assert (json.loads(cache.json(by_id)), json.loads(cache.json(add))) == (
        {"id": "x"},
        {"senderAddress": "x"},
    )
    assert len(cache) == 4


def test_the_cache_stays_within_its_bounds() -> None:
    cache = EncodingCache(max_bytes=2000, max_message=100)
    for number in range(100):
        message = settings_pb2.EmailProvider(id=f"provider-{number}")
        assert json.loads(cache.json(message)) == json_format.MessageToDict(message)
        assert cache.size <= 2000
    assert 0 < len(cache) < 100  # the least recently used went
    oldest_kept = settings_pb2.EmailProvider(id="provider-0")
    assert cache.json(oldest_kept) == b'{"id":"provider-0"}'
    large = settings_pb2.EmailProvider(description="x" * 200)  # over max_message: encoded, not kept
    before = len(cache)
    assert json.loads(cache.json(large)) == {"description": "x" * 200}
    assert len(cache) == before


async def _reads(server: RunningServer, http: httpx.AsyncClient, provider_id: str) -> dict[str, Any]:
    """The provider's description as each transport reads it."""
    auth = await bearer(server, "iam.read")
    request = pb.GetEmailProviderByIdRequest(id=provider_id)
    native = await server.stub.GetEmailProviderById(
        request, metadata=[("authorization", auth["Authorization"])]
    )
    gateway = await http.get(f"/admin/v1/email/{provider_id}", headers=auth)
    web = await grpc_web(http, "GetEmailProviderById", request, auth)
    path = "/zitadel.admin.v1.AdminService/GetEmailProviderById"
    connect_json = await http.post(path, json={"id": provider_id}, headers={**CONNECT_JSON, **auth})
    connect_proto = await http.post(
        path, content=request.SerializeToString(), headers={**CONNECT_PROTO, **auth}
    )
    return {
        "native": native.config.description,
        "json": gateway.json()["config"].get("description"),
        "grpc-web": pb.GetEmailProviderByIdResponse.FromString(web.messages[0]).config.description,
        "connect json": connect_json.json()["config"].get("description"),
        "connect proto": pb.GetEmailProviderByIdResponse.FromString(connect_proto.content).config.description,
    }


async def test_a_write_is_seen_by_the_next_read_on_every_transport(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    auth = await bearer(server)
    added = await http.post("/admin/v1/email/smtp", json={**SMTP, "description": "before"}, headers=auth)
    provider_id = added.json()["id"]
    for _ in range(2):  # the second round reads what the first one cached
        assert set((await _reads(server, http, provider_id)).values()) == {"before"}
    updated = await http.put(
        f"/admin/v1/email/smtp/{provider_id}", json={**SMTP, "description": "after"}, headers=auth
    )
    assert updated.status_code == 200, updated.text
    assert set((await _reads(server, http, provider_id)).values()) == {"after"}
    activated = await http.post(f"/admin/v1/email/{provider_id}/_activate", json={}, headers=auth)
    assert activated.status_code == 200, activated.text
    state = await http.get(f"/admin/v1/email/{provider_id}", headers=auth)
    assert state.json()["config"]["state"] == "EMAIL_PROVIDER_ACTIVE"
