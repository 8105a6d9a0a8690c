"""Stored-secret reuse by inline tests (decision 9.6): allowed for the same destination, refused
before any connection when the host, user, TLS, token endpoint or client id changed."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.providers.secret_rule import SECRET_REENTRY_ID
from tests.fixtures.credentials import CLIENT_SECRET, PASSWORD, USER
from tests.fixtures.network import LOCAL
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.rpc import Admin, caller, plain
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import Listener, SmtpServer, unique

from .helpers import add_smtp, assert_no_leak, inline, legacy, xoauth2

Mailboxes = dict[str, SmtpServer]


@pytest.mark.parametrize("rpc", ["TestEmailProviderSMTP", "TestSMTPConfig"])
async def test_stored_password_is_reused_for_the_same_destination(
    admin: Admin, mailboxes: Mailboxes, rpc: str
) -> None:
    server = mailboxes["starttls"]
    provider_id = await add_smtp(admin, server.host, tls=True, user=USER, plain=plain())
    receiver = unique()
    if rpc == "TestSMTPConfig":  # no oneof: a user alone means plain auth with the stored password
        request: Any = legacy(server.host, receiver, tls=True, user=USER, id=provider_id)
    else:
        request = inline(server.host, receiver, tls=True, user=USER, id=provider_id, plain=plain(""))
    await admin(rpc, request)
    assert len(server.received(receiver)) == 1


async def test_stored_client_secret_is_reused_for_the_same_endpoint(
    admin: Admin, mailboxes: Mailboxes, token_endpoint: TokenEndpoint
) -> None:
    server = mailboxes["plain"]
    url = token_endpoint.url(LOCAL)
    provider_id = await add_smtp(
        admin, server.host, user=USER, xoauth2=xoauth2(url, client_secret=CLIENT_SECRET)
    )
    receiver = unique()
    await admin(
        "TestEmailProviderSMTP",
        inline(server.host, receiver, user=USER, id=provider_id, xoauth2=xoauth2(url)),
    )
    assert len(server.received(receiver)) == 1
    [request] = token_endpoint.requests
    assert request["authorization"].startswith("Basic ")  # providers made through ZITADEL use Basic


async def test_stronger_tls_may_reuse_the_secret(admin: Admin, mailboxes: Mailboxes) -> None:
    # Stored without TLS; testing with TLS is no weakening (9.6 refuses only true -> false).
    server = mailboxes["starttls"]
    provider_id = await add_smtp(admin, server.host, tls=False, user=USER, plain=plain())
    receiver = unique()
    await admin(
        "TestEmailProviderSMTP",
        inline(server.host, receiver, tls=True, user=USER, id=provider_id, plain=plain("")),
    )
    assert len(server.received(receiver)) == 1


async def _refused(admin: Admin, request: Any, caplog: pytest.LogCaptureFixture) -> None:
    failure = await admin.fail("TestEmailProviderSMTP", request)
    assert failure.is_zitadel(grpc.StatusCode.FAILED_PRECONDITION, SECRET_REENTRY_ID), failure.message
    assert "re-enter the password or client secret" in failure.message
    assert len(failure.status.details) == 1  # refused before any connection: no SMTP report
    assert_no_leak(caplog, failure)


def _changed(change: str, stored_host: str, other_host: str) -> dict[str, Any]:
    """The stored settings (TLS on, USER) with one of them changed."""
    fields: dict[str, Any] = {"host": stored_host, "tls": True, "user": USER}
    if change == "host":
        fields["host"] = other_host
    elif change == "user":
        fields["user"] = "mallory@example.com"
    else:
        fields["tls"] = False
    return fields


@pytest.mark.parametrize("change", ["host", "user", "tls"])
async def test_plain_secret_does_not_follow_a_changed_destination(
    admin: Admin, listener: Listener, change: str, caplog: pytest.LogCaptureFixture
) -> None:
    stored, other = await listener(), await listener()
    stored_host = f"{LOCAL}:{stored.port}"
    provider_id = await add_smtp(admin, stored_host, tls=True, user=USER, plain=plain())
    fields = _changed(change, stored_host, f"{LOCAL}:{other.port}")
    await _refused(admin, inline(id=provider_id, plain=plain(""), **fields), caplog)
    assert (stored.accepted, other.accepted) == (0, 0)


@pytest.mark.parametrize("change", ["token_endpoint", "client_id"])
async def test_client_secret_does_not_follow_a_changed_endpoint_or_client(
    admin: Admin,
    listener: Listener,
    token_endpoint: TokenEndpoint,
    change: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp, stored_endpoint = await listener(), await listener()
    host = f"{LOCAL}:{smtp.port}"
    stored_url = f"https://{LOCAL}:{stored_endpoint.port}/token"
    provider_id = await add_smtp(
        admin, host, user=USER, xoauth2=xoauth2(stored_url, client_secret=CLIENT_SECRET)
    )
    if change == "token_endpoint":
        auth = xoauth2(token_endpoint.url(LOCAL))  # an endpoint that would happily take the secret
    else:
        auth = xoauth2(stored_url, client_id="someone-else")
    await _refused(admin, inline(host, user=USER, id=provider_id, xoauth2=auth), caplog)
    assert (smtp.accepted, stored_endpoint.accepted, token_endpoint.requests) == (0, 0, [])


async def test_id_of_another_instance_is_not_found(
    mail_server: RunningServer, admin: Admin, listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    target = await listener()
    host = f"{LOCAL}:{target.port}"
    stranger = await caller(mail_server, instance=mail_server.instance + "-other")
    provider_id = await add_smtp(stranger, host, user=USER, plain=plain())
    failure = await admin.fail(
        "TestEmailProviderSMTP", inline(host, user=USER, id=provider_id, plain=plain(""))
    )
    assert failure.is_zitadel(grpc.StatusCode.NOT_FOUND, "SMTP-p9cc")
    assert target.accepted == 0
    assert_no_leak(caplog, failure, extra=[PASSWORD])


async def test_id_of_an_http_provider_is_not_found(admin: Admin, listener: Listener) -> None:
    target = await listener()
    response = await admin(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="https://relay.example.com/mail")
    )
    failure = await admin.fail(
        "TestEmailProviderSMTP", inline(f"{LOCAL}:{target.port}", user=USER, id=response.id, plain=plain(""))
    )
    assert failure.is_zitadel(grpc.StatusCode.NOT_FOUND, "SMTP-p9cc")
    assert target.accepted == 0


async def test_empty_client_secret_without_id(admin: Admin, token_endpoint: TokenEndpoint) -> None:
    failure = await admin.fail(
        "TestEmailProviderSMTP", inline(f"{LOCAL}:25", user=USER, xoauth2=xoauth2(token_endpoint.url(LOCAL)))
    )
    assert failure.is_zitadel(grpc.StatusCode.INVALID_ARGUMENT, "SMTP-9OP96s")
    assert token_endpoint.requests == []
