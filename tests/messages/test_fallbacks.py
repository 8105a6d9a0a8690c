"""The instance's ordered fallback providers: set and read, only the instance's own providers, and a
removed provider leaves the list in the same transaction as its removal."""

from __future__ import annotations

import grpc
import pytest

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.zitadel import admin_pb2
from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _fallbacks(mailer: Mailer) -> list[str]:
    return list((await mailer("GetDeliveryFallbacks", pb.GetDeliveryFallbacksRequest())).provider_ids)


async def _set(mailer: Mailer, *provider_ids: str) -> list[str]:
    request = pb.SetDeliveryFallbacksRequest(provider_ids=provider_ids)
    return list((await mailer("SetDeliveryFallbacks", request)).provider_ids)


async def test_set_and_read_in_order(admin: Admin, writer: Mailer, reader: Mailer) -> None:
    smtp = await admin.add_smtp()
    http = await admin.add_http()
    other = await admin.add_smtp()
    assert await _fallbacks(reader) == []
    assert await _set(writer, http, smtp) == [http, smtp]
    assert await _fallbacks(reader) == [http, smtp]
    assert await _set(writer, other, http) == [other, http]  # replaced, not appended
    assert await _fallbacks(reader) == [other, http]
    assert await _set(writer) == []
    assert await _fallbacks(reader) == []


async def test_unknown_and_foreign_providers_are_refused(
    admin: Admin, writer: Mailer, server: RunningServer
) -> None:
    mine = await admin.add_smtp()
    await _set(writer, mine)
    foreign = await Admin(server.stub, await server.metadata("iam.write", server.instance + "-x")).add_smtp()
    for unknown in ("123456789", foreign):
        request = pb.SetDeliveryFallbacksRequest(provider_ids=[mine, unknown])
        refused = await writer.fail("SetDeliveryFallbacks", request)
        assert refused.is_zitadel(grpc.StatusCode.NOT_FOUND, "MG-FALLBACK-UNKNOWN")
        assert unknown in refused.message
    assert await _fallbacks(writer) == [mine]  # unchanged


async def test_fallback_limits(admin: Admin, writer: Mailer) -> None:
    provider = await admin.add_smtp()
    for request, field in (
        (pb.SetDeliveryFallbacksRequest(provider_ids=[provider, provider]), "provider_ids"),
        (pb.SetDeliveryFallbacksRequest(provider_ids=[str(n) for n in range(11)]), "provider_ids"),
        (pb.SetDeliveryFallbacksRequest(provider_ids=[""]), "provider_ids[0]"),
        (pb.SetDeliveryFallbacksRequest(provider_ids=["9" * 101]), "provider_ids[0]"),
    ):
        refused = await writer.fail("SetDeliveryFallbacks", request)
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.bad_request is not None
        assert field in [v.field for v in refused.bad_request.field_violations]


async def test_a_removed_provider_leaves_the_list(admin: Admin, writer: Mailer) -> None:
    first, second, third = await admin.add_smtp(), await admin.add_http(), await admin.add_smtp()
    await _set(writer, first, second, third)
    await admin("RemoveEmailProvider", admin_pb2.RemoveEmailProviderRequest(id=second))
    assert await _fallbacks(writer) == [first, third]
    await admin("RemoveSMTPConfig", admin_pb2.RemoveSMTPConfigRequest(id=first))
    assert await _fallbacks(writer) == [third]
