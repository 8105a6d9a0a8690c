"""Okta's error object for every failure, and the rate-limit headers on every answer."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer, running_server
from tests.okta.conftest import (
    SERVERS,
    Okta,
    assert_error,
    assert_rate_headers,
    basic,
    causes,
    okta_client,
    served,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_missing_or_bad_authorization_is_401(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "SSWS not-a-token"}):
        response = await http.get(SERVERS, headers=headers)
        body = assert_error(response, 401, "E0000011")
        assert body["errorSummary"] == "Invalid token provided"
        assert_rate_headers(response)
    missing = await http.post(f"{SERVERS}/123/test", content=b"{", headers={})
    assert_error(missing, 401, "E0000011")  # the token is checked before the body


async def test_read_tokens_may_list_and_get_only(okta: Okta, reader: Okta) -> None:
    created = await okta.add(basic())
    assert (await reader.list()).status_code == 200
    assert served(await reader.get(created["id"])) == created
    refused = [
        await reader.create(basic()),
        await reader.patch(created["id"], {"alias": "x"}),
        await reader.delete(created["id"]),
        await reader.test(created["id"], "a@example.com", "b@example.com"),
    ]
    for response in refused:
        body = assert_error(response, 403, "E0000006")
        assert body["errorSummary"] == "You do not have permission to perform the requested action"
        assert_rate_headers(response)
    assert served(await okta.get(created["id"])) == created


async def test_unknown_ids_and_paths_are_404(okta: Okta) -> None:
    for path in (f"{SERVERS}/123456789", f"{SERVERS}/1/2", f"{SERVERS}/1/test/x", f"{SERVERS}//test"):
        response = await okta.http.get(path, headers=okta.headers)
        assert_error(response, 404, "E0000007")
        assert_rate_headers(response)
    body = assert_error(await okta.get("4711"), 404, "E0000007")
    assert body["errorSummary"] == "Not found: Resource not found: 4711 (EmailServer)"


async def test_unsupported_methods_are_405_with_allow(okta: Okta) -> None:
    for method, path, allowed in [
        ("PUT", SERVERS, "GET, POST"),
        ("PUT", f"{SERVERS}/1", "GET, PATCH, DELETE"),
        ("GET", f"{SERVERS}/1/test", "POST"),
    ]:
        response = await okta.http.request(method, path, headers=okta.headers)
        assert_error(response, 405, "E0000022")
        assert response.headers["allow"] == allowed
        assert_rate_headers(response)


async def test_head_is_405_like_any_method_a_path_lacks(okta: Okta) -> None:
    # A HEAD answer has no body to hold Okta's error object: the status and headers say it all.
    for path, allowed in [(SERVERS, "GET, POST"), (f"{SERVERS}/1", "GET, PATCH, DELETE")]:
        response = await okta.http.head(path, headers=okta.headers)
        assert (response.status_code, response.headers["allow"]) == (405, allowed)
        assert_rate_headers(response)


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"text"', b"\xff\xfe", b"[" * 100_000])
async def test_a_body_that_is_no_json_object_is_400(okta: Okta, raw: bytes) -> None:
    response = await okta.http.post(
        SERVERS, content=raw, headers={**okta.headers, "content-type": "application/json"}
    )
    body = assert_error(response, 400, "E0000001")
    assert causes(body)[0].startswith("body: ")


async def test_text_the_store_cannot_hold_is_400(okta: Okta) -> None:
    response = await okta.http.post(
        SERVERS,
        content=b'{"alias":"a\\u0000b","host":"h","port":25,"username":"\\ud800","password":"p"}',
        headers={**okta.headers, "content-type": "application/json"},
    )
    body = assert_error(response, 400, "E0000001")
    assert causes(body) == [
        "alias: must not contain NUL characters or unpaired surrogates",
        "username: must not contain NUL characters or unpaired surrogates",
    ]


async def test_error_ids_are_unique(okta: Okta) -> None:
    ids = {assert_error(await okta.get("1"), 404, "E0000007")["errorId"] for _ in range(5)}
    assert len(ids) == 5


async def test_unexpected_failure_is_500_with_only_an_error_id(
    okta: Okta, server: RunningServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(instance_id: str) -> None:
        raise RuntimeError("database password hunter2 in a stack trace")

    monkeypatch.setattr(server.services.queries, "smtp_providers", broken)
    response = await okta.list()
    body = assert_error(response, 500, "E0000009")
    assert body["errorSummary"] == "Internal Server Error" and body["errorCauses"] == []
    assert "hunter2" not in response.text
    assert_rate_headers(response)
    # The id finds the log line with the details.
    [record] = [r for r in caplog.records if getattr(r, "correlation_id", None) == body["errorId"]]
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])


async def test_too_large_body_is_400(okta: Okta, server: RunningServer) -> None:
    limit = server.services.settings.http_max_body
    response = await okta.create(basic(alias="x" * (limit + 1)))
    body = assert_error(response, 400, "E0000001")
    assert causes(body) == [f"request body is larger than {limit} bytes"]


# --- rate limits -------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def limited(shared_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    """A server allowing 4 Okta requests per minute per token, and one test email per instance."""
    async with running_server(shared_env, okta_rate_limit=4, test_rate=1, test_burst=1) as running:
        yield running


async def test_rate_limit_headers_count_down_then_429(limited: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=limited.http_base) as http:
        okta = await okta_client(limited, http, instance="limited-a")
        other = await okta_client(limited, http, instance="limited-a")  # another token: its own bucket
        seen = []
        for _ in range(4):
            response = await okta.list()
            assert response.status_code == 200
            seen.append(assert_rate_headers(response))
        assert [remaining for _, remaining, _ in seen] == [3, 2, 1, 0]
        assert all(limit == 4 for limit, _, _ in seen)
        now = time.time()
        assert all(now < reset <= now + 61 for _, _, reset in seen)

        refused = await okta.list()
        body = assert_error(refused, 429, "E0000047")
        assert body["errorSummary"] == "API call exceeded rate limit due to too many requests."
        assert assert_rate_headers(refused)[:2] == (4, 0)
        assert int(refused.headers["retry-after"]) >= 1
        assert_error(await okta.create(basic()), 429, "E0000047")  # nothing is done over the limit
        assert (await other.list()).json() == {"email-servers": []}


async def test_requests_without_a_valid_token_are_limited_too(
    limited: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient(base_url=limited.http_base) as http:
        statuses = []
        with caplog.at_level(logging.INFO, logger="mailgate.calls"):
            for _ in range(6):
                response = await http.get(SERVERS, headers={"Authorization": "SSWS guessed"})
                assert_rate_headers(response)
                statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 401, 429, 429]
    # The call log records what the client got, the 429s included.
    logged = [getattr(r, "code", None) for r in caplog.records if r.getMessage() == "call"]
    assert logged == ["UNAUTHENTICATED"] * 4 + ["RESOURCE_EXHAUSTED"] * 2


async def test_the_test_email_limit_is_429_too(limited: RunningServer) -> None:
    with socket.socket() as sock:  # a port where nothing listens: the test fails fast, no TLS
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with httpx.AsyncClient(base_url=limited.http_base, timeout=20) as http:
        okta = await okta_client(limited, http, instance="limited-b")
        created = await okta.add(basic(host="127.0.0.1", port=port))
        failed = await okta.test(created["id"], "noreply@example.com", "bob@example.com")
        assert "stage connect" in assert_error(failed, 400, "E0000001")["errorSummary"]
        limited_again = await okta.test(created["id"], "noreply@example.com", "bob@example.com")
        body = assert_error(limited_again, 429, "E0000047")
        assert any("MG-RATE-LIMITED" in cause for cause in causes(body))


async def test_test_request_is_checked_before_anything_is_sent(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(basic(host="127.0.0.1", port=9))  # nothing is ever sent there
    path = f"{SERVERS}/{created['id']}/test"
    missing = await okta.http.post(path, json={}, headers=okta.headers)
    assert causes(assert_error(missing, 400, "E0000001")) == [
        "fromAddress: is required",
        "toAddress: is required",
    ]
    bad = await okta.test(created["id"], "not an address", "bob@")
    assert causes(assert_error(bad, 400, "E0000001")) == [
        "fromAddress: must be a valid email address",
        "toAddress: must be a valid email address",
    ]
    http_id = await zitadel.add_http()
    for server_id in (http_id, "123456789"):
        assert_error(await okta.test(server_id, "a@example.com", "b@example.com"), 404, "E0000007")
