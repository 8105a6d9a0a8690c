"""grpc.health.v1 on native gRPC (Check, List) and /healthz on the HTTP port show one health state."""

from __future__ import annotations

import logging

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

ADMIN = "zitadel.admin.v1.AdminService"
DELIVERY = "mailgate.v1.DeliveryService"
CONSOLE = "mailgate.v1.ConsoleService"
HISTORY = "mailgate.v1.HistoryService"
PROVIDERS = "mailgate.v1.ProviderService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def listed(answer: health_pb2.HealthListResponse) -> dict[str, int]:
    return {name: response.status for name, response in answer.statuses.items()}


async def test_list_answers_every_service_with_its_status(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    health = health_pb2_grpc.HealthStub(server.channel)
    with caplog.at_level(logging.ERROR):
        answer = await health.List(health_pb2.HealthListRequest(), timeout=10)
    assert listed(answer) == {
        "": SERVING,
        ADMIN: SERVING,
        DELIVERY: SERVING,
        CONSOLE: SERVING,
        HISTORY: SERVING,
        PROVIDERS: SERVING,
    }
    assert not caplog.records  # no traceback for a method the server advertises

    await server.app.grpc.health.set(ADMIN, NOT_SERVING)
    await server.app.grpc.health.set("extra.v1.Service", SERVING)
    answer = await health.List(health_pb2.HealthListRequest(), timeout=10)
    assert listed(answer) == {
        "": SERVING,
        ADMIN: NOT_SERVING,
        DELIVERY: SERVING,
        CONSOLE: SERVING,
        HISTORY: SERVING,
        PROVIDERS: SERVING,
        "extra.v1.Service": SERVING,
    }


async def test_list_refuses_more_services_than_the_protocol_allows(server: RunningServer) -> None:
    for index in range(100):  # with "" and the Admin service, 102
        await server.app.grpc.health.set(f"extra.v1.Service{index}", SERVING)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await health_pb2_grpc.HealthStub(server.channel).List(health_pb2.HealthListRequest(), timeout=10)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_healthz_shows_the_state_check_and_list_show(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    await server.app.grpc.health.set("extra.v1.Service", NOT_SERVING)
    check = await health_pb2_grpc.HealthStub(server.channel).Check(
        health_pb2.HealthCheckRequest(service="extra.v1.Service"), timeout=10
    )
    probe = await http.get("/healthz", params={"service": "extra.v1.Service"})
    assert check.status == NOT_SERVING
    assert (probe.status_code, probe.json()) == (503, {"status": "NOT_SERVING"})


async def test_head_healthz_answers_like_get_without_a_body(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    for params in ({}, {"service": ADMIN}, {"service": "nope.Service"}):
        got = await http.get("/healthz", params=params)
        head = await http.head("/healthz", params=params)
        assert head.status_code == got.status_code
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == str(len(got.content))
        assert head.content == b""
    head = await http.head("/openapi.json")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_other_methods_on_healthz_are_405_with_allow(http: httpx.AsyncClient, method: str) -> None:
    for path in ("/healthz", "/openapi.json"):
        response = await http.request(method, path)
        assert response.status_code == 405, (path, response.text)
        assert response.headers["allow"] == "GET, HEAD"
        assert response.json()["code"] == grpc.StatusCode.UNIMPLEMENTED.value[0]
