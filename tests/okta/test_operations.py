"""The six operations: list, create, get, PATCH, delete (test is in test_test_email.py)."""

from __future__ import annotations

import httpx
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.rpc import ACTIVE, INACTIVE, UNKNOWN_ID, Admin
from tests.fixtures.servers import RunningServer
from tests.okta.conftest import SERVERS, Okta, assert_error, assert_rate_headers, basic, okta_client, served

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_create_answers_201_with_the_server_and_never_the_password(okta: Okta) -> None:
    response = await okta.create(basic())
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    created = response.json()
    assert created == {
        "id": created["id"],
        "alias": "Primary relay",
        "enabled": False,
        "authType": "BASIC_SMTP_AUTH",
        "host": "smtp.example.com",
        "port": 587,
        "username": "mailer",
    }
    assert "pw-okta-Secret-1" not in response.text
    assert_rate_headers(response)


async def test_get_list_and_delete(okta: Okta) -> None:
    first = await okta.add(basic(alias="first"))
    second = await okta.add(basic(alias="second", host="smtp2.example.com", port=465))

    got = await okta.get(second["id"])
    # The object itself (what Okta's Node SDK reads) and, under the list's property, the same object
    # again (what Okta's Python SDK reads: okta 3.4.6 types getEmailServer as the list response).
    assert (got.status_code, got.json()) == (200, {**second, "email-servers": [second]})

    listed = await okta.list()
    assert listed.status_code == 200
    assert listed.json() == {"email-servers": [first, second]}  # oldest first

    deleted = await okta.delete(first["id"])
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert_rate_headers(deleted)
    assert_error(await okta.get(first["id"]), 404, "E0000007")
    assert_error(await okta.delete(first["id"]), 404, "E0000007")
    assert (await okta.list()).json() == {"email-servers": [second]}


async def test_empty_list(okta: Okta) -> None:
    response = await okta.list()
    assert (response.status_code, response.json()) == (200, {"email-servers": []})


async def test_patch_answers_200_with_the_whole_server(okta: Okta) -> None:
    created = await okta.add(basic())
    response = await okta.patch(created["id"], {"alias": "renamed"})
    assert response.status_code == 200
    assert response.json() == {**created, "alias": "renamed"}
    assert served(await okta.get(created["id"])) == {**created, "alias": "renamed"}


async def test_http_providers_and_other_instances_never_appear(
    okta: Okta, zitadel: Admin, server: RunningServer, http: httpx.AsyncClient
) -> None:
    http_id = await zitadel.add_http()
    smtp_id = await zitadel.add_smtp(user="mailer")
    stranger = await okta_client(server, http, instance=server.instance + "-other")
    theirs = await stranger.add(basic(alias="theirs"))

    listed = (await okta.list()).json()["email-servers"]
    assert [item["id"] for item in listed] == [smtp_id]
    for missing in (http_id, theirs["id"], UNKNOWN_ID):
        body = assert_error(await okta.get(missing), 404, "E0000007")
        assert missing in body["errorSummary"]
        assert_error(await okta.patch(missing, {"alias": "x"}), 404, "E0000007")
        assert_error(await okta.delete(missing), 404, "E0000007")
    assert (await zitadel.get(http_id)).id == http_id  # the refused delete left it alone
    assert (await stranger.get(theirs["id"])).status_code == 200


async def test_enabled_true_activates_and_deactivates_the_others(okta: Okta, zitadel: Admin) -> None:
    http_id = await zitadel.add_http()
    await zitadel.activate(http_id)
    first = await okta.add(basic(enabled=True))
    assert first["enabled"] is True
    assert (await zitadel.get(first["id"])).state == ACTIVE
    assert (await zitadel.get(http_id)).state == INACTIVE

    second = await okta.add(basic(alias="second"))
    enabled = await okta.patch(second["id"], {"enabled": True})
    assert enabled.json()["enabled"] is True
    assert served(await okta.get(first["id"]))["enabled"] is False
    assert [s["enabled"] for s in (await okta.list()).json()["email-servers"]] == [False, True]


async def test_enabled_is_idempotent(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(basic())
    for _ in range(2):
        response = await okta.patch(created["id"], {"enabled": False})
        assert (response.status_code, response.json()["enabled"]) == (200, False)
    for _ in range(2):
        response = await okta.patch(created["id"], {"enabled": True})
        assert (response.status_code, response.json()["enabled"]) == (200, True)
    assert (await zitadel.get(created["id"])).state == ACTIVE
    disabled = await okta.patch(created["id"], {"enabled": False})
    assert disabled.json()["enabled"] is False
    assert (await zitadel.get(created["id"])).state == INACTIVE


async def test_deleting_the_active_server_leaves_none_active(okta: Okta, zitadel: Admin) -> None:
    created = await okta.add(basic(enabled=True))
    assert (await okta.delete(created["id"])).status_code == 204
    failure = await zitadel.fail("GetEmailProvider", pb.GetEmailProviderRequest())
    assert failure.error_id == "QUERY-fwofw"


async def test_bearer_and_ssws_are_the_same_tokens(server: RunningServer, http: httpx.AsyncClient) -> None:
    token = await server.token("iam.write")
    for scheme in ("SSWS", "Bearer", "ssws", "bearer"):
        response = await http.get(SERVERS, headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, (scheme, response.text)


async def test_ssws_may_omit_the_space_bearer_may_not(server: RunningServer, http: httpx.AsyncClient) -> None:
    token = await server.token("iam.write")
    # Okta's Python SDK (okta 3.4.6) sends the first form.
    accepted = [f"SSWS{token}", f"ssws{token}", f"SSWS   {token}", f"Bearer   {token}"]
    refused = [f"Bearer{token}", f"SSWS{token} extra", f"SSWS\t{token}", "SSWS"]
    for value in accepted:
        response = await http.get(SERVERS, headers={"Authorization": value})
        assert response.status_code == 200, (value, response.text)
    for value in refused:
        response = await http.get(SERVERS, headers={"Authorization": value})
        assert_error(response, 401, "E0000011")


async def test_trailing_slash_lists_too(okta: Okta) -> None:
    response = await okta.http.get(SERVERS + "/", headers=okta.headers)
    assert (response.status_code, response.json()) == (200, {"email-servers": []})
