"""A stored secret never follows a changed destination (9.6 on Update), and `none` clears it (9.3)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.providers.secret_rule import SECRET_REENTRY_ID
from tests.fixtures.rpc import HOST, Admin, caller, legacy_update, plain, smtp_update, xoauth2
from tests.fixtures.servers import RunningServer, running_server

pytestmark = pytest.mark.asyncio(loop_scope="session")

PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
OTHER_HOST = "attacker.example.net:25"


async def _refused(admin: Admin, request: Any, rpc: str = "UpdateEmailProviderSMTP") -> None:
    failed = await admin.fail(rpc, request)
    assert failed.is_zitadel(PRECONDITION, SECRET_REENTRY_ID), failed.message
    assert "re-enter" in failed.message


async def _plain_provider(admin: Admin, tls: bool = True) -> tuple[str, pb.AddEmailProviderSMTPResponse]:
    added = await admin(
        "AddEmailProviderSMTP",
        pb.AddEmailProviderSMTPRequest(
            sender_address="a@example.com",
            sender_name="A",
            host=HOST,
            tls=tls,
            user="mailer",
            plain=plain("stored-pw"),
        ),
    )
    return added.id, added


def _same(provider_id: str, **changes: Any) -> pb.UpdateEmailProviderSMTPRequest:
    """An update that repeats the stored settings except `changes`."""
    fields: dict[str, Any] = {
        "sender_address": "a@example.com",
        "sender_name": "A",
        "tls": True,
        "user": "mailer",
    }
    fields.update(changes)
    return smtp_update(provider_id, **fields)


@pytest.mark.parametrize(
    "change",
    [
        {"host": OTHER_HOST},
        {"host": "smtp.example.com:2525"},  # another port is another destination
        {"user": "someone-else"},
        {"tls": False},
    ],
    ids=["host", "port", "user", "tls-weakened"],
)
async def test_changing_the_destination_without_the_password_is_refused(
    admin: Admin, change: dict[str, Any]
) -> None:
    provider_id, added = await _plain_provider(admin)

    await _refused(admin, _same(provider_id, **change))  # Auth oneof unset (older clients)
    await _refused(admin, _same(provider_id, plain=plain(""), **change))  # plain with an empty password

    unchanged = await admin.get(provider_id)
    assert (unchanged.smtp.host, unchanged.smtp.user, unchanged.smtp.tls) == (HOST, "mailer", True)
    assert unchanged.details.sequence == added.details.sequence


async def test_changing_the_destination_with_the_password_is_allowed(admin: Admin) -> None:
    provider_id, _ = await _plain_provider(admin)

    await admin(
        "UpdateEmailProviderSMTP",
        _same(provider_id, host=OTHER_HOST, tls=False, user="x", plain=plain("new")),
    )
    legacy_id, _ = await _plain_provider(admin)
    await admin("UpdateEmailProviderSMTP", _same(legacy_id, host=OTHER_HOST, password="new-legacy"))

    moved = await admin.get(provider_id)
    assert (moved.smtp.host, moved.smtp.user, moved.smtp.tls) == (OTHER_HOST, "x", False)
    assert (await admin.get(legacy_id)).smtp.host == OTHER_HOST
    # The new password is bound to the new destination: moving on again needs it again.
    await _refused(admin, _same(provider_id, host=HOST, tls=False, user="x"))


async def test_other_changes_keep_the_password(admin: Admin) -> None:
    provider_id, _ = await _plain_provider(admin, tls=False)

    # Sender, name, reply-to, description, and TLS false -> true (stronger) need no password.
    changed = {
        "sender_address": "b@example.com",
        "reply_to_address": "r@example.com",
        "description": "d",
        "tls": True,
    }
    await admin("UpdateEmailProviderSMTP", _same(provider_id, sender_name="B", **changed))
    await admin("UpdateEmailProviderSMTP", _same(provider_id, sender_name="C", plain=plain(""), **changed))

    kept = await admin.get(provider_id)
    assert (kept.smtp.sender_address, kept.smtp.sender_name, kept.smtp.tls, kept.description) == (
        "b@example.com",
        "C",
        True,
        "d",
    )
    assert kept.smtp.WhichOneof("Auth") == "plain"
    await _refused(admin, _same(provider_id, host=OTHER_HOST))  # the password is still stored


async def test_surrounding_spaces_do_not_change_the_host(admin: Admin) -> None:
    provider_id, _ = await _plain_provider(admin)

    await admin("UpdateEmailProviderSMTP", _same(provider_id, host=f"  {HOST} ", description="spaces"))

    assert (await admin.get(provider_id)).description == "spaces"


@pytest.mark.parametrize(
    "change",
    [{"token_endpoint": "https://evil.example.net/token"}, {"client_id": "another-client"}],
    ids=["token_endpoint", "client_id"],
)
async def test_xoauth2_token_endpoint_or_client_id_need_the_secret(
    admin: Admin, change: dict[str, str]
) -> None:
    provider_id = await admin.add_smtp(user="mailer", xoauth2=xoauth2(client_secret="stored-cs"))

    await _refused(admin, smtp_update(provider_id, user="mailer", xoauth2=xoauth2(**change)))
    await admin(
        "UpdateEmailProviderSMTP",
        smtp_update(provider_id, user="mailer", xoauth2=xoauth2(client_secret="cs2", **change)),
    )

    updated = (await admin.get(provider_id)).smtp.xoauth2
    expected = {"token_endpoint": updated.token_endpoint, "client_id": updated.client_credentials.client_id}
    assert {k: expected[k] for k in change} == change


async def test_xoauth2_scopes_and_same_endpoint_keep_the_secret(admin: Admin) -> None:
    provider_id = await admin.add_smtp(user="mailer", xoauth2=xoauth2(client_secret="stored-cs"))

    await admin(
        "UpdateEmailProviderSMTP", smtp_update(provider_id, user="mailer", xoauth2=xoauth2(scopes=("a", "b")))
    )
    await admin(
        "UpdateEmailProviderSMTP", smtp_update(provider_id, user="mailer", description="no auth field")
    )

    smtp = (await admin.get(provider_id)).smtp
    assert list(smtp.xoauth2.scopes) == ["a", "b"]
    await _refused(admin, smtp_update(provider_id, user="mailer", host=OTHER_HOST, xoauth2=xoauth2()))


async def test_the_deprecated_update_follows_the_same_rule(admin: Admin) -> None:
    provider_id, _ = await _plain_provider(admin)

    await _refused(
        admin, legacy_update(provider_id, tls=True, user="mailer", host=OTHER_HOST), "UpdateSMTPConfig"
    )
    await admin(
        "UpdateSMTPConfig",
        legacy_update(provider_id, tls=True, user="mailer", host=OTHER_HOST, password="again"),
    )

    assert (await admin.get(provider_id)).smtp.host == OTHER_HOST


async def test_none_clears_the_stored_secret(admin: Admin) -> None:
    provider_id, _ = await _plain_provider(admin)
    xo_id = await admin.add_smtp(user="mailer", xoauth2=xoauth2(client_secret="stored-cs"))

    await admin("UpdateEmailProviderSMTP", _same(provider_id, none=pb.SMTPNoAuth()))
    await admin("UpdateEmailProviderSMTP", smtp_update(xo_id, user="mailer", none=pb.SMTPNoAuth()))

    assert (await admin.get(provider_id)).smtp.WhichOneof("Auth") == "none"
    assert (await admin.get(xo_id)).smtp.WhichOneof("Auth") == "none"
    # Nothing left to protect: the destination may change freely.
    await admin("UpdateEmailProviderSMTP", _same(provider_id, host=OTHER_HOST, tls=False))
    await admin("UpdateEmailProviderSMTP", smtp_update(xo_id, user="mailer", host=OTHER_HOST))
    # Switching back to plain without a password does not bring the old one back.
    await admin("UpdateEmailProviderSMTP", _same(provider_id, host=OTHER_HOST, tls=False, plain=plain("")))
    await admin("UpdateEmailProviderSMTP", _same(provider_id, host=HOST, tls=False, plain=plain("")))


async def test_an_empty_password_update_clears_the_password(admin: Admin) -> None:
    provider_id, _ = await _plain_provider(admin)

    await admin(
        "UpdateEmailProviderSMTPPassword",
        pb.UpdateEmailProviderSMTPPasswordRequest(id=provider_id, password=""),
    )

    await admin("UpdateEmailProviderSMTP", _same(provider_id, host=OTHER_HOST))
    assert (await admin.get(provider_id)).smtp.host == OTHER_HOST


async def test_a_provider_without_secret_moves_freely(admin: Admin) -> None:
    provider_id = await admin.add_smtp(user="relay", tls=True, none=pb.SMTPNoAuth())

    await admin("UpdateEmailProviderSMTP", smtp_update(provider_id, user="other", tls=False, host=OTHER_HOST))

    assert (await admin.get(provider_id)).smtp.host == OTHER_HOST


@pytest_asyncio.fixture(loop_scope="session")
async def loose_server(settings_env: dict[str, str]) -> AsyncIterator[RunningServer]:
    """A server with MAILGATE_ALLOW_SECRET_REUSE_ANY_HOST=true (ZITADEL's looser rule)."""
    async with running_server({**settings_env, "MAILGATE_ALLOW_SECRET_REUSE_ANY_HOST": "true"}) as running:
        yield running


async def test_the_operator_setting_restores_zitadel_s_behaviour(loose_server: RunningServer) -> None:
    admin = await caller(loose_server)
    provider_id, _ = await _plain_provider(admin)

    await admin("UpdateEmailProviderSMTP", _same(provider_id, host=OTHER_HOST, tls=False, user="x"))

    moved = await admin.get(provider_id)
    assert (moved.smtp.host, moved.smtp.WhichOneof("Auth")) == (OTHER_HOST, "plain")
