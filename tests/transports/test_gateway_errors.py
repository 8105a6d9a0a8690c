"""Errors and request handling of the JSON routes as a client sees them: status, golden body, headers."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.servers import RunningServer
from tests.transports.conftest import SMTP, add_smtp, assert_status_json, bearer

UNKNOWN_ID = "123456789012345678"


async def test_unknown_route_is_404_not_found(server: RunningServer, http: httpx.AsyncClient) -> None:
    for path in ("/admin/v1/nothing", "/", "/admin/v1/email/smtp/x/y/z"):
        response = await http.get(path)
        assert response.status_code == 404
        assert response.json() == {"code": 5, "message": "Not Found"}


async def test_known_path_with_wrong_method_is_405(server: RunningServer, http: httpx.AsyncClient) -> None:
    response = await http.patch("/admin/v1/email/abc", json={})
    assert response.status_code == 405
    assert response.json() == {"code": 12, "message": "Method Not Allowed"}
    assert response.headers["allow"] == "DELETE, GET"
    # HEAD is not GET: grpc-gateway has no automatic HEAD either
    assert (await http.head("/admin/v1/email")).status_code == 405


async def test_trailing_slash_and_encoded_slash_do_not_match(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    auth = await bearer(server)
    assert (await http.get("/admin/v1/email/", headers=auth)).status_code == 404
    # %2F is a segment separator once decoded, as in grpc-gateway's default unescaping mode
    assert (await http.get("/admin/v1/email/a%2Fb", headers=auth)).status_code == 404


async def test_invalid_json_is_400_invalid_argument(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    for body in (b"{not json", b"[1, 2]", b'{"senderAddress": 5}', b'{"tls": "maybe"}', b"\xff\xfe"):
        response = await http.post("/admin/v1/email/smtp", content=body, headers=auth)
        assert response.status_code == 400, body
        status = assert_status_json(response)
        assert status["code"] == 3
        assert status["message"]


async def test_validation_error_golden(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    response = await http.post("/admin/v1/email/smtp", json={**SMTP, "host": ""}, headers=auth)
    assert response.status_code == 400
    assert response.json() == {
        "code": 3,
        "message": (
            "invalid AddEmailProviderSMTPRequest.Host: "
            "value length must be between 1 and 500 runes, inclusive"
        ),
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {
                        "field": "host",
                        "description": "value length must be between 1 and 500 runes, inclusive",
                    }
                ],
            }
        ],
    }


async def test_not_found_golden_with_zitadel_error_detail(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    response = await http.get(f"/admin/v1/email/{UNKNOWN_ID}", headers=await bearer(server))
    assert response.status_code == 404
    assert response.json() == {
        "code": 5,
        "message": "SMTP configuration not found (QUERY-fwofw)",
        "details": [
            {
                "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                "id": "QUERY-fwofw",
                "message": "SMTP configuration not found",
            }
        ],
    }


async def test_missing_token_is_401_with_www_authenticate(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    response = await http.get("/admin/v1/email")
    assert response.status_code == 401
    body = response.json()
    assert body == {
        "code": 16,
        "message": "authorization header missing: send 'Bearer <token>' (MG-AUTH-MISSING)",
        "details": [
            {
                "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                "id": "MG-AUTH-MISSING",
                "message": "authorization header missing: send 'Bearer <token>'",
            }
        ],
    }
    assert response.headers["www-authenticate"] == body["message"]

    wrong = await http.get("/admin/v1/email", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == wrong.json()["message"]


async def test_read_token_cannot_write_403(server: RunningServer, http: httpx.AsyncClient) -> None:
    response = await http.post("/admin/v1/email/smtp", json=SMTP, headers=await bearer(server, "iam.read"))
    assert response.status_code == 403
    assert response.json() == {
        "code": 7,
        "message": "No matching permissions found: this call needs iam.write (AUTH-5mWD2)",
        "details": [
            {
                "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
                "id": "AUTH-5mWD2",
                "message": "No matching permissions found: this call needs iam.write",
            }
        ],
    }


async def test_grpc_metadata_headers_become_metadata(server: RunningServer, http: httpx.AsyncClient) -> None:
    token = await server.token("iam.read")
    response = await http.get(
        "/admin/v1/email/_search_not_an_id", headers={"Grpc-Metadata-Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404  # authenticated, then not found
    assert response.json()["code"] == 5


async def test_grpc_timeout_header(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    fine = await http.get(f"/admin/v1/email/{UNKNOWN_ID}", headers={**auth, "Grpc-Timeout": "10S"})
    assert fine.status_code == 404
    bad = await http.get(f"/admin/v1/email/{UNKNOWN_ID}", headers={**auth, "Grpc-Timeout": "soon"})
    assert bad.status_code == 400
    assert assert_status_json(bad)["code"] == 3
    known = await add_smtp(http, auth)
    assert (await http.get(f"/admin/v1/email/{known}", headers=auth)).status_code == 200  # now cached
    # A deadline over before the handler starts is exceeded, however fast the answer would come.
    for path in (f"/admin/v1/email/{UNKNOWN_ID}", f"/admin/v1/email/{known}"):
        expired = await http.get(path, headers={**auth, "Grpc-Timeout": "1n"})
        assert expired.status_code == 504, (path, expired.text)
        assert assert_status_json(expired)["code"] == 4


async def test_path_value_wins_over_body_and_query(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    provider_id = await add_smtp(http, auth)
    # `id` in the query cannot replace the path's id; unknown parameters are ignored
    got = await http.get(
        f"/admin/v1/email/{provider_id}", params={"id": UNKNOWN_ID, "foo": "bar"}, headers=auth
    )
    assert got.status_code == 200
    assert got.json()["config"]["id"] == provider_id
    # nor can `id` in a body: path values are set after the body
    activated = await http.post(
        f"/admin/v1/email/{provider_id}/_activate", json={"id": UNKNOWN_ID}, headers=auth
    )
    assert activated.status_code == 200, activated.text


async def test_int64_accepted_as_string_or_number(server: RunningServer, http: httpx.AsyncClient) -> None:
    auth = await bearer(server)
    await add_smtp(http, auth)
    for offset in ("0", 0):
        listed = await http.post(
            "/admin/v1/email/_search", json={"query": {"offset": offset, "limit": 5}}, headers=auth
        )
        assert listed.status_code == 200
        assert listed.json()["details"]["totalResult"] == "1"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_body_over_limit_is_413_and_connection_survives(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    auth = await bearer(server)
    big = b'{"description": "' + b"x" * (1024 * 1024) + b'"}'
    declared = await http.post("/admin/v1/email/smtp", content=big, headers=auth)
    assert declared.status_code == 413
    assert declared.json() == {"code": 8, "message": "request body is larger than 1048576 bytes"}

    async def chunks():  # no Content-Length: the limit must hold while streaming
        for _ in range(40):
            yield b"y" * 65536

    streamed = await http.post("/admin/v1/email/smtp", content=chunks(), headers=auth)
    assert streamed.status_code == 413
    # the same keep-alive connection still answers
    after = await http.post("/admin/v1/email/smtp", json=SMTP, headers=auth)
    assert after.status_code == 200
