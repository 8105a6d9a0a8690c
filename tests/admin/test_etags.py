"""Safe concurrent edits on native gRPC (decisions 6 and 7): a read's `etag` response metadata, the
`if-match` metadata on writes, ABORTED with the current etag, activation as a compare-and-swap."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from mailgate.gen.mailgate.v1.etag_pb2 import EtagMismatch
from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.rpc import ACTIVE, INACTIVE, UNKNOWN_ID, Admin, Failure, legacy_update, smtp_update

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def etag_of(admin: Admin, provider_id: str) -> str:
    """The etag a read of the provider answers with, in its response metadata."""
    call = admin.stub.GetEmailProviderById(
        pb.GetEmailProviderByIdRequest(id=provider_id), metadata=admin.metadata
    )
    await call
    found = [value for key, value in await call.initial_metadata() or () if key == "etag"]
    assert len(found) == 1, found
    return str(found[0])


def _with(admin: Admin, if_match: str) -> Admin:
    return Admin(admin.stub, (*admin.metadata, ("if-match", if_match)))


async def stale(admin: Admin, rpc: str, request: Message, if_match: str) -> Failure:
    """A write refused for its precondition: ABORTED, ZITADEL's form, then the current etag."""
    failed = await _with(admin, if_match).fail(rpc, request)
    assert failed.is_zitadel(grpc.StatusCode.ABORTED, "MG-ETAG-MISMATCH"), failed
    assert len(failed.details(EtagMismatch)) == 1
    return failed


def current_etag(failed: Failure) -> str:
    [mismatch] = failed.details(EtagMismatch)
    return str(mismatch.current_etag)


async def test_reads_carry_a_strong_etag_that_changes_with_every_change(admin: Admin) -> None:
    provider_id = await admin.add_smtp(description="first")
    first = await etag_of(admin, provider_id)
    assert first.startswith('"') and first.endswith('"') and not first.startswith("W/")
    assert await etag_of(admin, provider_id) == first  # a read changes nothing

    await admin("UpdateEmailProviderSMTP", smtp_update(provider_id, description="second"))
    second = await etag_of(admin, provider_id)
    assert second != first

    other = await admin.add_smtp()
    assert await etag_of(admin, other) not in (first, second)  # an etag names one provider

    # The active provider's read (and the deprecated one) answer the same etag.
    await admin.activate(provider_id)
    call = admin.stub.GetEmailProvider(pb.GetEmailProviderRequest(), metadata=admin.metadata)
    assert (await call).config.id == provider_id
    assert ("etag", await etag_of(admin, provider_id)) in list(await call.initial_metadata() or ())


async def test_a_matching_precondition_writes_and_a_stale_one_changes_nothing(admin: Admin) -> None:
    provider_id = await admin.add_smtp(description="before")
    read = await etag_of(admin, provider_id)
    await _with(admin, read)("UpdateEmailProviderSMTP", smtp_update(provider_id, description="mine"))
    now = await etag_of(admin, provider_id)
    assert now != read

    failed = await stale(
        admin, "UpdateEmailProviderSMTP", smtp_update(provider_id, description="lost update"), read
    )
    assert current_etag(failed) == now
    assert (await admin.get(provider_id)).description == "mine"
    assert await etag_of(admin, provider_id) == now


@pytest.mark.parametrize(
    ("rpc", "request_for"),
    [
        (
            "UpdateEmailProviderSMTPPassword",
            lambda i: pb.UpdateEmailProviderSMTPPasswordRequest(id=i, password="x"),
        ),
        ("ActivateEmailProvider", lambda i: pb.ActivateEmailProviderRequest(id=i)),
        ("RemoveEmailProvider", lambda i: pb.RemoveEmailProviderRequest(id=i)),
        ("UpdateSMTPConfig", lambda i: legacy_update(i, description="legacy")),
        ("RemoveSMTPConfig", lambda i: pb.RemoveSMTPConfigRequest(id=i)),
    ],
)
async def test_every_write_takes_the_precondition(admin: Admin, rpc: str, request_for: Any) -> None:
    provider_id = await admin.add_smtp(description="kept")
    read = await etag_of(admin, provider_id)
    await admin("UpdateEmailProviderSMTP", smtp_update(provider_id, description="changed elsewhere"))
    now = await etag_of(admin, provider_id)

    assert current_etag(await stale(admin, rpc, request_for(provider_id), read)) == now
    stored = await admin.get(provider_id)  # nothing changed: not removed, not activated
    assert (stored.description, stored.state) == ("changed elsewhere", INACTIVE)

    await _with(admin, now)(rpc, request_for(provider_id))
    if rpc.startswith("Remove"):
        assert (
            await admin.fail("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=provider_id))
        ).code == (grpc.StatusCode.NOT_FOUND)
    else:
        assert await etag_of(admin, provider_id) != now


async def test_http_provider_and_deactivation_take_it_too(admin: Admin) -> None:
    provider_id = await admin.add_http()
    read = await etag_of(admin, provider_id)
    update = pb.UpdateEmailProviderHTTPRequest(id=provider_id, endpoint="https://relay.example.com/v2")
    await _with(admin, read)("UpdateEmailProviderHTTP", update)
    await stale(admin, "UpdateEmailProviderHTTP", update, read)

    await admin.activate(provider_id)
    active = await etag_of(admin, provider_id)
    await stale(admin, "DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=provider_id), read)
    await _with(admin, active)("DeactivateEmailProvider", pb.DeactivateEmailProviderRequest(id=provider_id))
    assert (await admin.get(provider_id)).state == INACTIVE


async def test_star_matches_any_existing_version_and_weak_or_foreign_tags_never_match(admin: Admin) -> None:
    provider_id = await admin.add_smtp()
    other = await admin.add_smtp()
    await _with(admin, "*")("UpdateEmailProviderSMTP", smtp_update(provider_id, description="star"))
    assert (await admin.get(provider_id)).description == "star"

    # If-Match on a provider that does not exist: NOT_FOUND, as without it.
    missing = await _with(admin, "*").fail("UpdateEmailProviderSMTP", smtp_update(UNKNOWN_ID))
    assert missing.code == grpc.StatusCode.NOT_FOUND

    now = await etag_of(admin, provider_id)
    update = smtp_update(provider_id, description="never")
    await stale(admin, "UpdateEmailProviderSMTP", update, "W/" + now)  # If-Match compares strongly
    await stale(admin, "UpdateEmailProviderSMTP", update, await etag_of(admin, other))
    await stale(admin, "UpdateEmailProviderSMTP", update, '"made-up"')
    # One of a list is enough.
    await _with(admin, f'"made-up", {now}')("UpdateEmailProviderSMTP", update)
    assert (await admin.get(provider_id)).description == "never"


@pytest.mark.parametrize("value", ["", "abc", '"unterminated', '"a" "b"', '"a";', 'w/"x"', '*, "a"', ","])
async def test_a_malformed_precondition_is_invalid_argument(admin: Admin, value: str) -> None:
    provider_id = await admin.add_smtp(description="kept")
    failed = await _with(admin, value).fail(
        "UpdateEmailProviderSMTP", smtp_update(provider_id, description="changed")
    )
    assert failed.is_zitadel(grpc.StatusCode.INVALID_ARGUMENT, "MG-IF-MATCH-MALFORMED"), failed
    assert (await admin.get(provider_id)).description == "kept"


async def test_activating_another_provider_makes_every_read_etag_stale(admin: Admin) -> None:
    first, second = await admin.add_smtp(), await admin.add_smtp()
    seen_first, seen_second = await etag_of(admin, first), await etag_of(admin, second)

    await _with(admin, seen_first)("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=first))
    # The second admin read before the first activation: its activation must not pass.
    await stale(admin, "ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=second), seen_second)
    assert (await admin.get(first)).state == ACTIVE
    assert (await admin.get(second)).state == INACTIVE


async def test_two_concurrent_updates_with_one_etag_exactly_one_wins(admin: Admin) -> None:
    provider_id = await admin.add_smtp(description="start")
    read = await etag_of(admin, provider_id)

    async def update(description: str) -> str:
        try:
            await _with(admin, read)(
                "UpdateEmailProviderSMTP", smtp_update(provider_id, description=description)
            )
        except grpc.aio.AioRpcError as error:
            return error.code().name
        return description

    outcomes = await asyncio.gather(*(update(f"writer-{n}") for n in range(6)))
    winners = [outcome for outcome in outcomes if outcome.startswith("writer-")]
    assert len(winners) == 1 and outcomes.count("ABORTED") == 5, outcomes
    assert (await admin.get(provider_id)).description == winners[0]


async def test_two_concurrent_activations_under_preconditions_exactly_one_wins(admin: Admin) -> None:
    ids = [await admin.add_smtp(description=f"p{n}") for n in range(4)]
    etags = [await etag_of(admin, provider_id) for provider_id in ids]

    async def activate(provider_id: str, etag: str) -> str:
        try:
            await _with(admin, etag)("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=provider_id))
        except grpc.aio.AioRpcError as error:
            return error.code().name
        return provider_id

    outcomes = await asyncio.gather(*(activate(i, e) for i, e in zip(ids, etags, strict=True)))
    winners = [outcome for outcome in outcomes if outcome in ids]
    assert len(winners) == 1 and outcomes.count("ABORTED") == 3, outcomes
    states = {provider_id: (await admin.get(provider_id)).state for provider_id in ids}
    assert states == {provider_id: ACTIVE if provider_id == winners[0] else INACTIVE for provider_id in ids}
