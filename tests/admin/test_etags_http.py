"""Safe concurrent edits over HTTP: the JSON gateway's `ETag` and `If-Match` (412 on a mismatch, 400
when malformed), and grpc-web's `etag` header and `if-match` metadata, against the shared server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from mailgate.gen.mailgate.v1.etag_pb2 import EtagMismatch
from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.servers import RunningServer
from tests.transports.conftest import SMTP, frame, grpc_web

pytestmark = pytest.mark.asyncio(loop_scope="session")
MISMATCH_TYPE = "type.googleapis.com/mailgate.v1.EtagMismatch"


@pytest_asyncio.fixture(loop_scope="session")
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    token = await server.token("iam.write")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.http_base, headers=headers, timeout=10) as client:
        yield client


async def _add(http: httpx.AsyncClient, **fields: Any) -> str:
    response = await http.post("/admin/v1/email/smtp", json={**SMTP, **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _etag(http: httpx.AsyncClient, provider_id: str) -> str:
    response = await http.get(f"/admin/v1/email/{provider_id}")
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def _put(http: httpx.AsyncClient, provider_id: str, if_match: str | None, **fields: Any) -> Any:
    headers = {} if if_match is None else {"If-Match": if_match}
    return http.put(f"/admin/v1/email/smtp/{provider_id}", json={**SMTP, **fields}, headers=headers)


async def test_json_reads_carry_an_etag_and_if_match_guards_the_write(http: httpx.AsyncClient) -> None:
    provider_id = await _add(http, description="before")
    read = await _etag(http, provider_id)
    legacy = await http.get(f"/admin/v1/smtp/{provider_id}")  # the deprecated read, the same etag
    assert legacy.headers["etag"] == read

    written = await _put(http, provider_id, read, description="mine")
    assert written.status_code == 200, written.text
    now = await _etag(http, provider_id)
    assert now != read

    refused = await _put(http, provider_id, read, description="lost update")
    assert refused.status_code == 412
    assert refused.headers["etag"] == now
    body = refused.json()
    assert body["code"] == 10  # ABORTED, as on gRPC; the HTTP status says why
    assert body["details"][0]["id"] == "MG-ETAG-MISMATCH"
    assert {"@type": MISMATCH_TYPE, "currentEtag": now} in body["details"]
    got = await http.get(f"/admin/v1/email/{provider_id}")
    assert got.json()["config"]["description"] == "mine"
    assert got.headers["etag"] == now


async def test_json_star_malformed_and_no_precondition(http: httpx.AsyncClient) -> None:
    provider_id = await _add(http, description="start")
    assert (await _put(http, provider_id, "*", description="star")).status_code == 200

    malformed = await _put(http, provider_id, "not-an-etag", description="never")
    assert malformed.status_code == 400
    assert malformed.json()["details"][0]["id"] == "MG-IF-MATCH-MALFORMED"

    # Without If-Match the last writer wins, as in ZITADEL.
    assert (await _put(http, provider_id, None, description="last")).status_code == 200
    assert (await http.get(f"/admin/v1/email/{provider_id}")).json()["config"]["description"] == "last"


async def test_json_activation_and_removal_under_if_match(http: httpx.AsyncClient) -> None:
    first, second = await _add(http), await _add(http)
    seen_first, seen_second = await _etag(http, first), await _etag(http, second)
    activated = await http.post(f"/admin/v1/email/{first}/_activate", headers={"If-Match": seen_first})
    assert activated.status_code == 200, activated.text
    refused = await http.post(f"/admin/v1/email/{second}/_activate", headers={"If-Match": seen_second})
    assert refused.status_code == 412
    assert (await http.get("/admin/v1/email")).json()["config"]["id"] == first

    stale = await http.delete(f"/admin/v1/email/{second}", headers={"If-Match": seen_second})
    assert stale.status_code == 412
    removed = await http.delete(f"/admin/v1/email/{second}", headers={"If-Match": stale.headers["etag"]})
    assert removed.status_code == 200
    assert (await http.get(f"/admin/v1/email/{second}")).status_code == 404


async def test_json_concurrent_updates_with_one_etag_exactly_one_wins(http: httpx.AsyncClient) -> None:
    provider_id = await _add(http, description="start")
    read = await _etag(http, provider_id)
    answers = await asyncio.gather(*(_put(http, provider_id, read, description=f"w{n}") for n in range(5)))
    assert sorted(answer.status_code for answer in answers) == [200, 412, 412, 412, 412]


async def test_grpc_web_etag_header_and_if_match_metadata(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    provider_id = await _add(http, description="start")
    auth = {"authorization": http.headers["authorization"]}
    read = pb.GetEmailProviderByIdRequest(id=provider_id)
    response = await http.post(
        "/zitadel.admin.v1.AdminService/GetEmailProviderById",
        content=frame(read.SerializeToString()),
        headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1", **auth},
    )
    etag = response.headers["etag"]
    assert etag == await _etag(http, provider_id)

    update = pb.UpdateEmailProviderSMTPRequest(id=provider_id, description="web", **_smtp_fields())
    ok = await grpc_web(http, "UpdateEmailProviderSMTP", update, {**auth, "if-match": etag})
    assert ok.code == 0
    stale = await grpc_web(http, "UpdateEmailProviderSMTP", update, {**auth, "if-match": etag}, text=True)
    assert stale.code == 10  # ABORTED
    mismatch = EtagMismatch()
    [detail] = [d for d in stale.status().details if d.Is(EtagMismatch.DESCRIPTOR)]
    detail.Unpack(mismatch)
    assert mismatch.current_etag == await _etag(http, provider_id) != etag
    bad = await grpc_web(http, "UpdateEmailProviderSMTP", update, {**auth, "if-match": "bare"})
    assert bad.code == 3  # INVALID_ARGUMENT


def _smtp_fields() -> dict[str, str]:
    return {"sender_address": SMTP["senderAddress"], "sender_name": SMTP["senderName"], "host": SMTP["host"]}


async def test_connect_etag_header_and_if_match(http: httpx.AsyncClient) -> None:
    provider_id = await _add(http, description="start")

    async def connect(method: str, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await http.post(
            f"/zitadel.admin.v1.AdminService/{method}",
            json=body,
            headers={"content-type": "application/json", "connect-protocol-version": "1", **headers},
        )

    read = await connect("GetEmailProviderById", {"id": provider_id})
    assert read.status_code == 200 and read.headers["etag"] == await _etag(http, provider_id)
    update = {"id": provider_id, **SMTP, "description": "connect"}
    assert (
        await connect("UpdateEmailProviderSMTP", update, **{"if-match": read.headers["etag"]})
    ).status_code == 200
    stale = await connect("UpdateEmailProviderSMTP", update, **{"if-match": read.headers["etag"]})
    assert stale.status_code == 409  # Connect's own mapping of ABORTED
    error = stale.json()
    assert error["code"] == "aborted"
    [detail] = [d for d in error["details"] if d["type"] == "mailgate.v1.EtagMismatch"]
    mismatch = EtagMismatch.FromString(base64.b64decode(detail["value"] + "=" * (-len(detail["value"]) % 4)))
    assert mismatch.current_etag == await _etag(http, provider_id)
