"""Tokens, permissions and instances, for every one of the 23 non-test RPCs (issue item 7, 9.12, 9.15;
the three event RPCs of issue 11, whose events.read both admin permissions grant)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf.message import Message

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.rpc import (
    UNKNOWN_ID,
    Admin,
    Failure,
    caller,
    legacy_add,
    legacy_update,
    plain,
    smtp_add,
    smtp_update,
)
from tests.fixtures.servers import RunningServer, start_server

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND


@dataclass(frozen=True)
class Rpc:
    name: str
    write: bool
    request: Callable[[str], Message]  # a valid request about the provider with this id
    takes_id: bool = True
    invalid: Message | None = None  # a request that fails validation


def _http_update(provider_id: str) -> Message:
    return pb.UpdateEmailProviderHTTPRequest(id=provider_id, endpoint="https://relay.example.com/x")


# Each request is valid for the SMTP provider the tests create (the HTTP update for the HTTP one).
RPCS = [
    Rpc("ListEmailProviders", False, lambda _: pb.ListEmailProvidersRequest(), takes_id=False),
    Rpc("GetEmailProvider", False, lambda _: pb.GetEmailProviderRequest(), takes_id=False),
    Rpc(
        "GetEmailProviderById",
        False,
        lambda i: pb.GetEmailProviderByIdRequest(id=i),
        invalid=pb.GetEmailProviderByIdRequest(),
    ),
    Rpc("ListSMTPConfigs", False, lambda _: pb.ListSMTPConfigsRequest(), takes_id=False),
    Rpc("GetSMTPConfig", False, lambda _: pb.GetSMTPConfigRequest(), takes_id=False),
    Rpc(
        "GetSMTPConfigById",
        False,
        lambda i: pb.GetSMTPConfigByIdRequest(id=i),
        invalid=pb.GetSMTPConfigByIdRequest(),
    ),
    Rpc("AddEmailProviderSMTP", True, lambda _: smtp_add(), takes_id=False, invalid=smtp_add(host="")),
    Rpc(
        "UpdateEmailProviderSMTP",
        True,
        lambda i: smtp_update(i, description="changed"),
        invalid=smtp_update(""),
    ),
    Rpc(
        "UpdateEmailProviderSMTPPassword",
        True,
        lambda i: pb.UpdateEmailProviderSMTPPasswordRequest(id=i, password="changed"),
        invalid=pb.UpdateEmailProviderSMTPPasswordRequest(),
    ),
    Rpc(
        "AddEmailProviderHTTP",
        True,
        lambda _: pb.AddEmailProviderHTTPRequest(endpoint="https://relay.example.com/x"),
        takes_id=False,
        invalid=pb.AddEmailProviderHTTPRequest(),
    ),
    Rpc("UpdateEmailProviderHTTP", True, _http_update, invalid=pb.UpdateEmailProviderHTTPRequest()),
    Rpc(
        "ActivateEmailProvider",
        True,
        lambda i: pb.ActivateEmailProviderRequest(id=i),
        invalid=pb.ActivateEmailProviderRequest(),
    ),
    Rpc(
        "DeactivateEmailProvider",
        True,
        lambda i: pb.DeactivateEmailProviderRequest(id=i),
        invalid=pb.DeactivateEmailProviderRequest(),
    ),
    Rpc(
        "RemoveEmailProvider",
        True,
        lambda i: pb.RemoveEmailProviderRequest(id=i),
        invalid=pb.RemoveEmailProviderRequest(),
    ),
    Rpc("AddSMTPConfig", True, lambda _: legacy_add(), takes_id=False, invalid=legacy_add(sender_name="")),
    Rpc(
        "UpdateSMTPConfig", True, lambda i: legacy_update(i, description="changed"), invalid=legacy_update("")
    ),
    Rpc(
        "UpdateSMTPConfigPassword",
        True,
        lambda i: pb.UpdateSMTPConfigPasswordRequest(id=i, password="changed"),
        invalid=pb.UpdateSMTPConfigPasswordRequest(),
    ),
    Rpc(
        "ActivateSMTPConfig",
        True,
        lambda i: pb.ActivateSMTPConfigRequest(id=i),
        invalid=pb.ActivateSMTPConfigRequest(),
    ),
    Rpc(
        "DeactivateSMTPConfig",
        True,
        lambda i: pb.DeactivateSMTPConfigRequest(id=i),
        invalid=pb.DeactivateSMTPConfigRequest(),
    ),
    Rpc(
        "RemoveSMTPConfig",
        True,
        lambda i: pb.RemoveSMTPConfigRequest(id=i),
        invalid=pb.RemoveSMTPConfigRequest(),
    ),
    Rpc(
        "ListEvents",
        False,
        lambda _: pb.ListEventsRequest(),
        takes_id=False,
        invalid=pb.ListEventsRequest(aggregate_types=["instance"] * 11),
    ),
    Rpc("ListEventTypes", False, lambda _: pb.ListEventTypesRequest(), takes_id=False),
    Rpc("ListAggregateTypes", False, lambda _: pb.ListAggregateTypesRequest(), takes_id=False),
]


async def test_the_table_covers_the_23_non_test_rpcs() -> None:
    service = pb.DESCRIPTOR.services_by_name["AdminService"]
    non_test = {m.name for m in service.methods if not m.name.startswith("Test")}
    assert len(non_test) == 23
    assert {rpc.name for rpc in RPCS} == non_test
    assert len(RPCS) == 23


async def _fixture(admin: Admin) -> tuple[str, str]:
    """An active SMTP provider with a password, and an inactive HTTP provider."""
    smtp_id = await admin.add_smtp(user="mailer", plain=plain("pw"), description="orig")
    http_id = await admin.add_http(description="orig")
    await admin.activate(smtp_id)
    return smtp_id, http_id


async def _snapshot(admin: Admin) -> list[Message]:
    return list((await admin.listing()).result)


def _target(rpc: Rpc, smtp_id: str, http_id: str) -> str:
    return http_id if rpc.name == "UpdateEmailProviderHTTP" else smtp_id


async def _call(
    server: RunningServer, rpc: Rpc, request: Message, metadata: tuple[tuple[str, str], ...]
) -> Failure:
    return await Admin(server.stub, metadata).fail(rpc.name, request)


async def test_no_token_is_unauthenticated(server: RunningServer, admin: Admin) -> None:
    smtp_id, http_id = await _fixture(admin)
    before = await _snapshot(admin)
    headers = {
        "no header": (),
        "empty bearer": (("authorization", "Bearer "),),
        "other scheme": (("authorization", "Basic dXNlcjpwYXNz"),),
        "token without scheme": (("authorization", await server.token()),),
    }
    wrong = []
    for label, metadata in headers.items():
        for rpc in RPCS:
            failed = await _call(server, rpc, rpc.request(_target(rpc, smtp_id, http_id)), metadata)
            if failed.code != UNAUTHENTICATED or failed.error_id is None:
                wrong.append((label, rpc.name, failed.code, failed.message))
    assert wrong == []
    assert await _snapshot(admin) == before


async def test_unknown_and_revoked_tokens_are_unauthenticated(settings_env: dict[str, str]) -> None:
    # A server of its own that checks every token anew: the revocation must bite on the next call.
    server = await start_server(settings_env, token_cache_seconds=0)
    try:
        admin = await caller(server, "iam.write")
        smtp_id, http_id = await _fixture(admin)
        before = await _snapshot(admin)
        record, revoked_token = await server.services.tokens.create(server.instance, "iam.write")
        revoked = (("authorization", f"Bearer {revoked_token}"),)
        await Admin(server.stub, revoked)("ListEmailProviders", pb.ListEmailProvidersRequest())
        assert await server.services.tokens.revoke(record.id)
        unknown = (("authorization", "Bearer mgt_" + "x" * 43),)
        wrong = []
        for label, metadata in (("unknown", unknown), ("revoked", revoked)):
            for rpc in RPCS:
                failed = await _call(server, rpc, rpc.request(_target(rpc, smtp_id, http_id)), metadata)
                if not failed.is_zitadel(UNAUTHENTICATED, "MG-AUTH-INVALID"):
                    wrong.append((label, rpc.name, failed.code, failed.message))
        assert wrong == []
        assert await _snapshot(admin) == before
    finally:
        await server.close()


async def test_read_permission_cannot_write(server: RunningServer, admin: Admin, reader: Admin) -> None:
    smtp_id, http_id = await _fixture(admin)
    before = await _snapshot(admin)
    wrong = []
    for rpc in RPCS:
        if not rpc.write:
            continue
        failed = await reader.fail(rpc.name, rpc.request(_target(rpc, smtp_id, http_id)))
        if failed.code != DENIED or failed.error_id is None or "iam.write" not in failed.message:
            wrong.append((rpc.name, failed.code, failed.message))
    assert wrong == []
    assert await _snapshot(admin) == before


async def _reads(caller: Admin, smtp_id: str) -> dict[str, Message]:
    """Every read RPC's answer about the fixture, without the lists' view time (it is "now")."""
    answers = {}
    for rpc in RPCS:
        if not rpc.write:
            response = await caller(rpc.name, rpc.request(smtp_id))
            if "details" in response.DESCRIPTOR.fields_by_name:
                response.details.ClearField("view_timestamp")
            answers[rpc.name] = response
    return answers


def _shown(answers: dict[str, Message]) -> dict[str, set[str]]:
    """The ids of the providers each answer shows."""
    shown = {}
    for name, response in answers.items():
        fields = response.DESCRIPTOR.fields_by_name
        if "result" in fields:
            shown[name] = {item.id for item in response.result}
        elif "events" in fields:  # the providers the history speaks of (tokens have events too)
            shown[name] = {e.payload["id"] for e in response.events if e.type.type.startswith("instance.")}
        elif name in _ABOUT_NO_PROVIDER:
            continue
        else:
            shown[name] = {(response.config if "config" in fields else response.smtp_config).id}
    return shown


_ABOUT_NO_PROVIDER = frozenset({"ListEventTypes", "ListAggregateTypes"})


def _fixture_shown(smtp_id: str, http_id: str) -> dict[str, set[str]]:
    """Lists show both providers; the active-provider and by-id reads show the SMTP one."""
    return {
        rpc.name: {smtp_id, http_id} if rpc.name.startswith("List") else {smtp_id}
        for rpc in RPCS
        if not rpc.write and rpc.name not in _ABOUT_NO_PROVIDER
    }


async def test_read_permission_may_get_and_list(admin: Admin, reader: Admin) -> None:
    smtp_id, http_id = await _fixture(admin)
    seen = await _reads(reader, smtp_id)
    assert _shown(seen) == _fixture_shown(smtp_id, http_id)
    assert seen == await _reads(admin, smtp_id)  # a reader sees exactly what a writer sees


async def test_write_permission_includes_read(admin: Admin) -> None:
    smtp_id, http_id = await _fixture(admin)
    assert _shown(await _reads(admin, smtp_id)) == _fixture_shown(smtp_id, http_id)


async def test_another_instance_s_provider_is_not_found_exactly_as_an_unknown_id(
    admin: Admin, stranger: Admin
) -> None:
    smtp_id, http_id = await _fixture(admin)
    before = await _snapshot(admin)
    wrong = []
    for rpc in RPCS:
        if not rpc.takes_id:
            continue
        theirs = await stranger.fail(rpc.name, rpc.request(_target(rpc, smtp_id, http_id)))
        unknown = await stranger.fail(rpc.name, rpc.request(UNKNOWN_ID))
        if theirs.code != NOT_FOUND or (theirs.code, theirs.message, theirs.status) != (
            unknown.code,
            unknown.message,
            unknown.status,
        ):
            wrong.append((rpc.name, theirs.code, theirs.message, unknown.message))
    assert wrong == []
    assert await _snapshot(admin) == before


async def test_instances_see_only_their_own_providers(admin: Admin, stranger: Admin) -> None:
    await _fixture(admin)
    theirs = await stranger.add_smtp(description="theirs")

    assert [p.id for p in (await stranger.listing()).result] == [theirs]
    assert (await stranger.listing()).details.total_result == 1
    assert len((await stranger("ListSMTPConfigs", pb.ListSMTPConfigsRequest())).result) == 1
    # The other instance has an active provider; this one has none.
    assert (await stranger.fail("GetEmailProvider", pb.GetEmailProviderRequest())).code == NOT_FOUND
    assert (await stranger.fail("GetSMTPConfig", pb.GetSMTPConfigRequest())).code == NOT_FOUND
    # Activating in one instance leaves the other's active provider alone.
    await stranger.activate(theirs)
    assert (await admin("GetEmailProvider", pb.GetEmailProviderRequest())).config.description == "orig"
    assert (await admin.listing()).details.total_result == 2
    # Sequences are per instance.
    mine = (await admin.listing()).details.processed_sequence
    assert (await stranger.listing()).details.processed_sequence == 2 and mine == 3


async def test_auth_errors_win_over_validation_errors(server: RunningServer, reader: Admin) -> None:
    wrong = []
    anonymous = Admin(server.stub, ())
    for rpc in RPCS:
        if rpc.invalid is None:
            continue
        nobody = await anonymous.fail(rpc.name, rpc.invalid)
        if nobody.code != UNAUTHENTICATED:
            wrong.append(("no token", rpc.name, nobody.code))
        if rpc.write:
            denied = await reader.fail(rpc.name, rpc.invalid)
            if denied.code != DENIED:
                wrong.append(("iam.read", rpc.name, denied.code))
    assert wrong == []
