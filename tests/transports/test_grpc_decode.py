"""Native gRPC requests whose bytes are no protobuf message: INVALID_ARGUMENT, and in the call log."""

from __future__ import annotations

import logging

import grpc
import httpx
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.servers import RunningServer
from tests.transports.conftest import bearer, grpc_web

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

METHOD = "/zitadel.admin.v1.AdminService/GetEmailProviderById"
GARBAGE = {
    "truncated-length": b"\x0a\xff",
    "bad-wire-type": b"\x0f",
    "bad-utf8-string": b"\x0a\x02\xc3\x28",
    "truncated-varint": b"\xff\xff\xff\xff",
}


def _call_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    return [
        (record.method, record.transport, record.code)  # type: ignore[attr-defined]
        for record in caplog.records
        if record.name == "mailgate.calls" and record.getMessage() == "call"
    ]


@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
async def test_undecodable_request_is_invalid_argument_and_logged(
    server: RunningServer, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    # A raw channel: no serializer stands between the test and the wire.
    raw = server.channel.unary_unary(METHOD)
    metadata = await server.metadata("iam.read")

    with (
        caplog.at_level(logging.INFO, logger="mailgate.calls"),
        pytest.raises(grpc.aio.AioRpcError) as failed,
    ):
        await raw(garbage, metadata=metadata)

    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failed.value.details() == "the request message cannot be parsed"
    assert _call_lines(caplog) == [("GetEmailProviderById", "grpc", "INVALID_ARGUMENT")]
    # The server keeps serving well-formed calls on the same channel.
    listed = await server.stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=metadata)
    assert listed.details.total_result == 0


async def test_undecodable_grpc_web_request_is_in_the_call_log_too(
    server: RunningServer, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="mailgate.calls"):
        reply = await grpc_web(http, "GetEmailProviderById", GARBAGE["bad-wire-type"], await bearer(server))

    assert (reply.http_status, reply.code) == (200, grpc.StatusCode.INVALID_ARGUMENT.value[0])
    assert reply.trailers["grpc-message"] == "the request message cannot be parsed"
    assert _call_lines(caplog) == [("GetEmailProviderById", "grpc-web", "INVALID_ARGUMENT")]
