"""The HTTP listener itself: binding, health, OpenAPI discovery and CORS."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from mailgate.app import App, build_services
from mailgate.config import Settings
from mailgate.transports.grpc import BindError
from tests.fixtures.servers import RunningServer, start_server

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

ORIGIN = "https://console.example.com"


async def test_healthz_mirrors_grpc_health(server: RunningServer, http: httpx.AsyncClient) -> None:
    ok = await http.get("/healthz")
    assert (ok.status_code, ok.json()) == (200, {"status": "SERVING"})
    service = await http.get("/healthz", params={"service": "zitadel.admin.v1.AdminService"})
    assert (service.status_code, service.json()) == (200, {"status": "SERVING"})
    unknown = await http.get("/healthz", params={"service": "nope.Service"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == 5

    await server.app.grpc.health.set("", 2)  # NOT_SERVING, as during a drain
    draining = await http.get("/healthz")
    assert (draining.status_code, draining.json()) == (503, {"status": "NOT_SERVING"})


async def test_openapi_document_lists_every_route(server: RunningServer, http: httpx.AsyncClient) -> None:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    operations = {(method.upper(), path) for path, item in doc["paths"].items() for method in item}
    for route in server.app.routes.routes:
        assert (route.http_method, route.openapi_path) in operations
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    add = doc["paths"]["/admin/v1/email/smtp"]["post"]
    schema_ref = add["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert schema["properties"]["host"] == {"type": "string", "minLength": 1, "maxLength": 500}
    assert {"senderAddress", "senderName", "host"} <= set(schema["required"])
    details = doc["components"]["schemas"]["zitadel.v1.ObjectDetails"]["properties"]
    assert details["sequence"]["type"] == "string"  # uint64 travels as a string
    # path variables are parameters, not body fields
    update = doc["paths"]["/admin/v1/email/smtp/{id}"]["put"]
    assert [p["name"] for p in update["parameters"]] == ["id"]
    body_ref = update["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "id" not in doc["components"]["schemas"][body_ref.rsplit("/", 1)[1]]["properties"]


async def test_no_cors_headers_by_default(server: RunningServer, http: httpx.AsyncClient) -> None:
    response = await http.get("/admin/v1/email", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers
    preflight = await http.options(
        "/admin/v1/email", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_cors_for_configured_origins(settings_env: dict[str, str]) -> None:
    running = await start_server(settings_env, cors_origins=(ORIGIN,))
    try:
        async with httpx.AsyncClient(base_url=running.http_base) as http:
            preflight = await http.options(
                "/zitadel.admin.v1.AdminService/GetEmailProvider",
                headers={
                    "Origin": ORIGIN,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type,x-grpc-web,authorization,grpc-timeout",
                },
            )
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == ORIGIN
            assert "POST" in preflight.headers["access-control-allow-methods"]
            allowed = preflight.headers["access-control-allow-headers"].lower()
            for header in ("content-type", "x-grpc-web", "authorization", "grpc-timeout"):
                assert header in allowed

            actual = await http.post(
                "/zitadel.admin.v1.AdminService/GetEmailProvider",
                content=b"",
                headers={"Origin": ORIGIN, "content-type": "application/grpc-web+proto"},
            )
            assert actual.headers["access-control-allow-origin"] == ORIGIN
            exposed = {name.strip() for name in actual.headers["access-control-expose-headers"].split(",")}
            assert exposed >= {"grpc-status", "grpc-message", "grpc-status-details-bin"}

            other = await http.get("/admin/v1/email", headers={"Origin": "https://evil.example.com"})
            assert "access-control-allow-origin" not in other.headers
    finally:
        await running.close()


async def test_cors_origins_match_however_they_are_spelled(settings_env: dict[str, str]) -> None:
    # The browser sends "https://console.example.com"; the setting may use capitals and the default port.
    env = {**settings_env, "MAILGATE_CORS_ORIGINS": "HTTPS://Console.Example.com:443"}
    running = await start_server(env)
    try:
        async with httpx.AsyncClient(base_url=running.http_base) as http:
            response = await http.get("/healthz", headers={"Origin": ORIGIN})
            assert response.headers["access-control-allow-origin"] == ORIGIN
    finally:
        await running.close()


async def test_cors_star_allows_every_origin_without_credentials(settings_env: dict[str, str]) -> None:
    running = await start_server({**settings_env, "MAILGATE_CORS_ORIGINS": "*"})
    try:
        async with httpx.AsyncClient(base_url=running.http_base) as http:
            preflight = await http.options(
                "/admin/v1/email/_search",
                headers={
                    "Origin": "https://anywhere.example.net",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
            )
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == "*"
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            assert "access-control-allow-credentials" not in preflight.headers

            actual = await http.post(
                "/admin/v1/email/_search", json={}, headers={"Origin": "https://anywhere.example.net"}
            )
            assert actual.status_code == 401  # CORS opens nothing: a token is still required
            assert actual.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in actual.headers
    finally:
        await running.close()


async def test_http_port_in_use_stops_startup(settings_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        overrides: dict[str, Any] = {"http_addr": f"127.0.0.1:{port}"}
        services = await build_services(Settings.from_env(settings_env, **overrides))
        app = App(services)
        try:
            with pytest.raises(BindError) as failure:
                app.bind()
            message = str(failure.value)
            assert "\n" not in message
            assert f"127.0.0.1:{port}" in message and "HTTP" in message
        finally:
            await app.stop()


async def test_both_ports_bound_before_start(settings_env: dict[str, str]) -> None:
    services = await build_services(Settings.from_env(settings_env))
    app = App(services)
    try:
        app.bind()
        assert app.grpc.port > 0 and app.http.port > 0
        # bound but not started: the kernel queues the connection, nobody answers yet
        with socket.create_connection(("127.0.0.1", app.http.port), timeout=1) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            conn.settimeout(0.2)
            with pytest.raises(TimeoutError):
                conn.recv(1)
    finally:
        await app.stop()
