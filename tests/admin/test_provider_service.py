"""mailgate.v1.ProviderService (decision 6): ZITADEL's read model with the etag as a field, equal to
the `ETag` header of ZITADEL's JSON read; state changes under a body etag (ABORTED natively, 409 on
JSON, the current etag in the detail), with the same history and activation compare-and-swap."""

from __future__ import annotations

import asyncio
import base64

import grpc
import httpx
import pytest
from google.rpc import status_pb2

from mailgate.gen.mailgate.v1 import history_pb2, history_pb2_grpc, providers_pb2_grpc
from mailgate.gen.mailgate.v1 import providers_pb2 as pb
from mailgate.gen.mailgate.v1.etag_pb2 import EtagMismatch
from mailgate.gen.zitadel import object_pb2, settings_pb2
from tests.fixtures.credentials import PASSWORD
from tests.fixtures.rpc import ACTIVE, INACTIVE, Admin, Failure, caller, failure, plain, smtp_update
from tests.fixtures.servers import RunningServer
from tests.transports.conftest import frame, parse_frames

pytestmark = pytest.mark.asyncio(loop_scope="session")
MISMATCH_TYPE = "type.googleapis.com/mailgate.v1.EtagMismatch"


def _stub(server: RunningServer) -> providers_pb2_grpc.ProviderServiceStub:
    return providers_pb2_grpc.ProviderServiceStub(server.channel)


async def _json(server: RunningServer, admin: Admin) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.http_base, headers=dict(admin.metadata), timeout=10)


async def _get(server: RunningServer, admin: Admin, provider_id: str) -> pb.Provider:
    found = await _stub(server).GetProvider(pb.GetProviderRequest(id=provider_id), metadata=admin.metadata)
    return found.provider


def _current(failed: Failure) -> str:
    [mismatch] = failed.details(EtagMismatch)
    return str(mismatch.current_etag)


async def test_the_etag_field_is_the_etag_header_of_zitadels_json_read(
    server: RunningServer, admin: Admin, reader: Admin
) -> None:
    provider_id = await admin.add_smtp(description="mine", user="mailer", plain=plain(PASSWORD))
    got = await _get(server, reader, provider_id)
    async with await _json(server, admin) as http:
        zitadel_read = await http.get(f"/admin/v1/email/{provider_id}")
        ours = await http.get(f"/v1/providers/{provider_id}")
        listed = await http.post("/v1/providers/_search", json={"query": {"asc": True}})

    assert got.etag == zitadel_read.headers["etag"] == ours.headers["etag"]
    assert got.etag.startswith('"') and not got.etag.startswith("W/")
    # One concept, one shape: ZITADEL's read model, field for field.
    assert got.provider == settings_pb2.EmailProvider.FromString(
        (await admin.get(provider_id)).SerializeToString()
    )
    assert ours.json()["provider"]["etag"] == got.etag
    assert ours.json()["provider"]["provider"]["description"] == "mine"
    assert [p["etag"] for p in listed.json()["result"]] == [got.etag]
    for answer in (zitadel_read, ours, listed):
        assert PASSWORD not in answer.text
    assert PASSWORD.encode() not in got.SerializeToString()


async def test_a_stale_body_etag_is_aborted_natively_and_changes_nothing(
    server: RunningServer, admin: Admin
) -> None:
    provider_id = await admin.add_smtp(description="before")
    read = (await _get(server, admin, provider_id)).etag
    # A ZITADEL update makes the etag read before it stale.
    await admin("UpdateEmailProviderSMTP", smtp_update(provider_id, description="after"))
    now = (await _get(server, admin, provider_id)).etag
    assert now != read

    stub = _stub(server)
    for call in (
        stub.ActivateProvider(pb.ActivateProviderRequest(id=provider_id, etag=read), metadata=admin.metadata),
        stub.RemoveProvider(pb.RemoveProviderRequest(id=provider_id, etag=read), metadata=admin.metadata),
    ):
        failed = await failure(call)
        assert failed.is_zitadel(grpc.StatusCode.ABORTED, "MG-ETAG-MISMATCH"), failed
        assert _current(failed) == now
    assert (await admin.get(provider_id)).state == INACTIVE

    activated = await stub.ActivateProvider(
        pb.ActivateProviderRequest(id=provider_id, etag=now), metadata=admin.metadata
    )
    assert activated.provider.provider.state == ACTIVE
    assert activated.provider.etag == (await _get(server, admin, provider_id)).etag != now
    deactivated = await stub.DeactivateProvider(
        pb.DeactivateProviderRequest(id=provider_id, etag=activated.provider.etag), metadata=admin.metadata
    )
    assert deactivated.provider.provider.state == INACTIVE
    # No etag: the last writer wins, as in ZITADEL.
    await stub.RemoveProvider(pb.RemoveProviderRequest(id=provider_id), metadata=admin.metadata)
    gone = await failure(stub.GetProvider(pb.GetProviderRequest(id=provider_id), metadata=admin.metadata))
    assert gone.code == grpc.StatusCode.NOT_FOUND


async def test_json_body_etag_mismatch_is_409_and_if_match_stays_412(
    server: RunningServer, admin: Admin
) -> None:
    first, second = await admin.add_smtp(), await admin.add_smtp()
    seen_first = (await _get(server, admin, first)).etag
    seen_second = (await _get(server, admin, second)).etag
    async with await _json(server, admin) as http:
        won = await http.post(f"/v1/providers/{first}/_activate", json={"etag": seen_first})
        lost = await http.post(f"/v1/providers/{second}/_activate", json={"etag": seen_second})
        by_header = await http.post(
            f"/v1/providers/{second}/_activate", json={}, headers={"If-Match": seen_second}
        )
        now = (await _get(server, admin, second)).etag
        removed_stale = await http.delete(f"/v1/providers/{second}", params={"etag": seen_second})
        both = await http.post(
            f"/v1/providers/{second}/_deactivate", json={"etag": now}, headers={"If-Match": now}
        )
        bare = await http.post(f"/v1/providers/{second}/_activate", json={"etag": now.strip('"')})
        removed = await http.delete(f"/v1/providers/{second}", params={"etag": now})

    assert won.status_code == 200, won.text
    assert won.json()["provider"]["provider"]["state"] == "EMAIL_PROVIDER_ACTIVE"
    for refused in (lost, removed_stale):
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["code"] == 10 and body["details"][0]["id"] == "MG-ETAG-MISMATCH"
        assert {"@type": MISMATCH_TYPE, "currentEtag": now} in body["details"]
    assert by_header.status_code == 412 and by_header.headers["etag"] == now
    assert both.status_code == 400 and both.json()["details"][0]["id"] == "MG-ETAG-TWICE"
    assert bare.status_code == 400 and bare.json()["details"][0]["id"] == "MG-ETAG-MALFORMED"
    assert removed.status_code == 200, removed.text
    assert (await admin.listing()).details.total_result == 1


async def test_grpc_web_takes_the_body_etag(server: RunningServer, admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    read = (await _get(server, admin, provider_id)).etag
    await admin("UpdateEmailProviderSMTP", smtp_update(provider_id, description="moved on"))

    async def activate(etag: str) -> tuple[int, dict[str, str], list[bytes]]:
        request = pb.ActivateProviderRequest(id=provider_id, etag=etag)
        async with await _json(server, admin) as http:
            response = await http.post(
                "/mailgate.v1.ProviderService/ActivateProvider",
                content=frame(request.SerializeToString()),
                headers={"content-type": "application/grpc-web+proto", "x-grpc-web": "1"},
            )
        messages, trailers = parse_frames(response.content)
        return int(trailers["grpc-status"]), trailers, messages

    code, trailers, _ = await activate(read)
    assert code == 10  # ABORTED
    raw = trailers["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    [detail] = [d for d in status.details if d.Is(EtagMismatch.DESCRIPTOR)]
    mismatch = EtagMismatch()
    detail.Unpack(mismatch)
    now = (await _get(server, admin, provider_id)).etag
    assert mismatch.current_etag == now
    code, _, [answer] = await activate(now)
    assert code == 0
    assert pb.ActivateProviderResponse.FromString(answer).provider.provider.state == ACTIVE


async def test_concurrent_activations_under_one_etag_exactly_one_wins(
    server: RunningServer, admin: Admin
) -> None:
    ids = [await admin.add_smtp(description=f"p{n}") for n in range(4)]
    etags = [(await _get(server, admin, provider_id)).etag for provider_id in ids]
    stub = _stub(server)

    async def activate(provider_id: str, etag: str) -> str:
        try:
            request = pb.ActivateProviderRequest(id=provider_id, etag=etag)
            await stub.ActivateProvider(request, metadata=admin.metadata)
        except grpc.aio.AioRpcError as error:
            return error.code().name
        return "OK"

    # The same provider twice under the same etag, and every other under its own, all at once.
    calls = [(ids[0], etags[0]), *zip(ids, etags, strict=True)]
    outcomes = await asyncio.gather(*(activate(i, e) for i, e in calls))
    assert sorted(outcomes) == ["ABORTED"] * 4 + ["OK"], outcomes
    states = [(await admin.get(provider_id)).state for provider_id in ids]
    assert states.count(ACTIVE) == 1


async def test_writes_are_recorded_as_zitadels_writes_are(server: RunningServer, admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    stub = _stub(server)
    etag = (await _get(server, admin, provider_id)).etag
    await stub.ActivateProvider(
        pb.ActivateProviderRequest(id=provider_id, etag=etag), metadata=admin.metadata
    )
    stale = await failure(
        stub.DeactivateProvider(
            pb.DeactivateProviderRequest(id=provider_id, etag=etag), metadata=admin.metadata
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    await stub.RemoveProvider(pb.RemoveProviderRequest(id=provider_id), metadata=admin.metadata)

    history = history_pb2_grpc.HistoryServiceStub(server.channel)
    found = await history.ListHistory(
        history_pb2.ListHistoryRequest(provider_id=provider_id), metadata=admin.metadata
    )
    # A refused write leaves no event.
    assert [e.type for e in found.events] == [
        "instance.smtp.config.removed",
        "instance.smtp.config.activated",
        "instance.smtp.config.added",
    ]
    assert all(e.actor.transport == "grpc" and e.actor.token_id for e in found.events)


async def test_reads_need_iam_read_and_writes_iam_write(server: RunningServer, admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    reader = await caller(server, "iam.read")
    stub = _stub(server)
    listed = await stub.ListProviders(
        pb.ListProvidersRequest(query=object_pb2.ListQuery()), metadata=reader.metadata
    )
    assert [p.provider.id for p in listed.result] == [provider_id]
    denied = await failure(
        stub.ActivateProvider(pb.ActivateProviderRequest(id=provider_id), metadata=reader.metadata)
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    sender = await caller(server, "email.send")
    refused = await failure(stub.GetProvider(pb.GetProviderRequest(id=provider_id), metadata=sender.metadata))
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
