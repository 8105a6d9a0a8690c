"""A request refused before the pipeline runs still gets its call-log line: method (or path), transport, code.

Each transport's refusals are sent over real HTTP to a server with a 1 KiB body limit, and the test
reads what the `mailgate.calls` logger wrote for them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.servers import RunningServer, running_server
from tests.transports.conftest import SMTP, bearer, frame, grpc_web, parse_frames

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
LIMIT = 1024
PATH = "/zitadel.admin.v1.AdminService/"
CONNECT_JSON = {"content-type": "application/json", "connect-protocol-version": "1"}


@pytest.fixture
async def small(settings_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    async with running_server(settings_env, http_max_body=LIMIT) as running:
        yield running


@pytest.fixture
async def http(small: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=small.http_base, timeout=10) as client:
        yield client


@pytest.fixture
def calls(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="mailgate.calls")
    return caplog


def call_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    """(method, transport, code) of each call line logged so far."""
    return [
        (record.method, record.transport, record.code)  # type: ignore[attr-defined]
        for record in caplog.records
        if record.name == "mailgate.calls" and record.getMessage() == "call"
    ]


async def test_json_refusals_are_logged(
    small: RunningServer, http: httpx.AsyncClient, calls: pytest.LogCaptureFixture
) -> None:
    auth = await bearer(small)
    answers = [
        await http.get("/admin/v1/no/such/route", headers=auth),
        await http.patch("/admin/v1/email/smtp", headers=auth),
        await http.post("/admin/v1/email/smtp", content=b"{not json", headers=auth),
        await http.get("/admin/v1/email/abc", headers={**auth, "grpc-timeout": "forever"}),
        await http.post("/admin/v1/email/smtp", json={**SMTP, "description": "x" * LIMIT}, headers=auth),
        await http.post("/healthz"),
    ]
    assert [answer.status_code for answer in answers] == [404, 405, 400, 400, 413, 405]
    assert call_lines(calls) == [
        ("/admin/v1/no/such/route", "http", "NOT_FOUND"),
        ("/admin/v1/email/smtp", "http", "UNIMPLEMENTED"),
        ("AddEmailProviderSMTP", "http", "INVALID_ARGUMENT"),
        ("GetEmailProviderById", "http", "INVALID_ARGUMENT"),
        ("AddEmailProviderSMTP", "http", "RESOURCE_EXHAUSTED"),
        ("/healthz", "http", "UNIMPLEMENTED"),
    ]


async def test_grpc_web_refusals_are_logged(
    small: RunningServer, http: httpx.AsyncClient, calls: pytest.LogCaptureFixture
) -> None:
    auth = await bearer(small)
    big = pb.AddEmailProviderSMTPRequest(description="x" * LIMIT)
    replies = [
        await grpc_web(http, "NoSuchMethod", b"", auth),
        await grpc_web(http, "ListEmailProviders", b"", auth, raw_body=b"\x00\x00"),
        await grpc_web(http, "ListEmailProviders", b"", auth, text=True, raw_body=b"AAAAA"),
        await grpc_web(http, "ListEmailProviders", b"", {**auth, "grpc-timeout": "forever"}),
        await grpc_web(http, "AddEmailProviderSMTP", big, auth),
    ]
    json_subtype = await http.post(
        PATH + "ListEmailProviders",
        content=frame(b"{}"),
        headers={**auth, "content-type": "application/grpc-web+json"},
    )
    assert [reply.code for reply in replies] == [12, 3, 3, 3, 8]
    assert json_subtype.status_code == 200
    assert parse_frames(json_subtype.content)[1]["grpc-status"] == "12"
    assert call_lines(calls) == [
        (PATH + "NoSuchMethod", "grpc-web", "UNIMPLEMENTED"),
        ("ListEmailProviders", "grpc-web", "INVALID_ARGUMENT"),
        ("ListEmailProviders", "grpc-web", "INVALID_ARGUMENT"),
        ("ListEmailProviders", "grpc-web", "INVALID_ARGUMENT"),
        ("AddEmailProviderSMTP", "grpc-web", "RESOURCE_EXHAUSTED"),
        ("ListEmailProviders", "grpc-web", "UNIMPLEMENTED"),
    ]


async def test_connect_refusals_are_logged(
    small: RunningServer, http: httpx.AsyncClient, calls: pytest.LogCaptureFixture
) -> None:
    auth = {**CONNECT_JSON, **(await bearer(small))}
    answers = [
        await http.post(PATH + "NoSuchMethod", json={}, headers=auth),
        await http.get(PATH + "ListEmailProviders", headers=auth),
        await http.post(PATH + "ListEmailProviders", json={}, headers={**auth, "content-type": "text/xml"}),
        await http.post(
            PATH + "ListEmailProviders", json={}, headers={**auth, "connect-protocol-version": "2"}
        ),
        await http.post(PATH + "ListEmailProviders", json={}, headers={**auth, "content-encoding": "gzip"}),
        await http.post(PATH + "ListEmailProviders", json={}, headers={**auth, "connect-timeout-ms": "soon"}),
        await http.post(PATH + "ListEmailProviders", content=b"[1]", headers=auth),
        await http.post(
            PATH + "AddEmailProviderSMTP", json={**SMTP, "description": "x" * LIMIT}, headers=auth
        ),
    ]
    assert [answer.status_code for answer in answers] == [404, 405, 415, 400, 501, 400, 400, 429]
    assert call_lines(calls) == [
        (PATH + "NoSuchMethod", "connect", "UNIMPLEMENTED"),
        ("ListEmailProviders", "connect", "UNIMPLEMENTED"),
        ("ListEmailProviders", "connect", "UNIMPLEMENTED"),
        ("ListEmailProviders", "connect", "INVALID_ARGUMENT"),
        ("ListEmailProviders", "connect", "UNIMPLEMENTED"),
        ("ListEmailProviders", "connect", "INVALID_ARGUMENT"),
        ("ListEmailProviders", "connect", "INVALID_ARGUMENT"),
        ("AddEmailProviderSMTP", "connect", "RESOURCE_EXHAUSTED"),
    ]
