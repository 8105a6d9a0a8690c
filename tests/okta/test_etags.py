"""Safe concurrent edits on Okta's API: ETag on the answers that are one server, If-Match on PATCH
and DELETE (enabling included), 412 in Okta's error object with the current ETag, 400 when malformed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fixtures.rpc import ACTIVE, INACTIVE, Admin
from tests.okta.conftest import SERVERS, Okta, assert_error, basic, served

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _if_match(okta: Okta, value: str) -> dict[str, str]:
    return {**okta.headers, "If-Match": value}


async def _patch(okta: Okta, server_id: str, body: dict[str, object], if_match: str) -> httpx.Response:
    return await okta.http.patch(f"{SERVERS}/{server_id}", json=body, headers=_if_match(okta, if_match))


async def test_get_create_and_patch_answer_the_current_etag(okta: Okta) -> None:
    created = await okta.create(basic(alias="first"))
    etag = created.headers["etag"]
    got = await okta.get(created.json()["id"])
    assert got.headers["etag"] == etag
    assert etag.startswith('"') and etag.endswith('"')

    patched = await _patch(okta, created.json()["id"], {"alias": "second"}, etag)
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] != etag
    assert (await okta.get(created.json()["id"])).headers["etag"] == patched.headers["etag"]


async def test_a_stale_if_match_is_412_in_oktas_shape_and_changes_nothing(okta: Okta) -> None:
    created = await okta.create(basic(alias="kept"))
    server_id, read = created.json()["id"], created.headers["etag"]
    now = (await okta.patch(server_id, {"alias": "changed elsewhere"})).headers["etag"]  # no If-Match

    refused = await _patch(okta, server_id, {"alias": "lost update"}, read)
    body = assert_error(refused, 412, "E0000001")
    assert refused.headers["etag"] == now
    assert body["errorCauses"] == [{"errorSummary": f"If-Match: the email server's current ETag is {now}"}]
    assert "precondition failed" in body["errorSummary"]
    assert served(await okta.get(server_id))["alias"] == "changed elsewhere"

    gone = await okta.http.delete(f"{SERVERS}/{server_id}", headers=_if_match(okta, read))
    assert_error(gone, 412, "E0000001")
    assert (await okta.get(server_id)).status_code == 200
    removed = await okta.http.delete(f"{SERVERS}/{server_id}", headers=_if_match(okta, now))
    assert removed.status_code == 204
    assert (await okta.get(server_id)).status_code == 404


async def test_star_and_a_malformed_if_match(okta: Okta) -> None:
    server_id = (await okta.add(basic()))["id"]
    assert (await _patch(okta, server_id, {"alias": "star"}, "*")).status_code == 200
    malformed = await _patch(okta, server_id, {"alias": "never"}, "v1")
    body = assert_error(malformed, 400, "E0000001")
    assert body["errorCauses"][0]["errorSummary"].startswith("If-Match: ")
    assert served(await okta.get(server_id))["alias"] == "star"


async def test_enabling_under_if_match_is_a_compare_and_swap(okta: Okta, zitadel: Admin) -> None:
    first, second = await okta.create(basic(alias="a")), await okta.create(basic(alias="b"))
    answers = await asyncio.gather(
        _patch(okta, first.json()["id"], {"enabled": True}, first.headers["etag"]),
        _patch(okta, second.json()["id"], {"enabled": True}, second.headers["etag"]),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 412]
    [winner] = [answer.json()["id"] for answer in answers if answer.status_code == 200]
    states = {s: (await zitadel.get(s)).state for s in (first.json()["id"], second.json()["id"])}
    assert states == {s: ACTIVE if s == winner else INACTIVE for s in states}
