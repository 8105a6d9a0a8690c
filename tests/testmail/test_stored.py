"""TestEmailProviderSMTPById and TestSMTPConfigById: real mail through a stored provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import grpc
import pytest

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as report_pb
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.providers.auth import JwtBearer, StoredAuth, TokenEndpointAuth
from mailgate.providers.sealing import Sealed, secret_context
from mailgate.store.providers import ProviderRepository
from tests.fixtures.credentials import (
    CLIENT_SECRET,
    JWT_KEY_ID,
    JWT_SCOPE,
    USER,
)
from tests.fixtures.network import LOCAL
from tests.fixtures.oauth import RsaKey, TokenEndpoint, jwt_bearer_auth
from tests.fixtures.rpc import Admin, caller, plain
from tests.fixtures.servers import RunningServer
from tests.fixtures.smtp import Listener, SmtpServer, unique

from .helpers import add_smtp, assert_no_leak, by_id, xoauth2

Mailboxes = dict[str, SmtpServer]
BY_ID = ["TestEmailProviderSMTPById", "TestSMTPConfigById"]


@pytest.mark.parametrize("rpc", BY_ID)
async def test_stored_plain_provider_over_starttls(admin: Admin, mailboxes: Mailboxes, rpc: str) -> None:
    server = mailboxes["starttls"]
    provider_id = await add_smtp(admin, server.host, tls=True, user=USER, plain=plain())
    receiver = unique()
    response = await admin(rpc, by_id(rpc, provider_id, receiver))
    assert response.ListFields() == []  # {}
    [envelope] = server.received(receiver)
    assert envelope.mail_from == "noreply@example.com"


@pytest.mark.parametrize("rpc", BY_ID)
async def test_stored_xoauth2_provider(
    admin: Admin, mailboxes: Mailboxes, token_endpoint: TokenEndpoint, rpc: str
) -> None:
    server = mailboxes["plain"]
    url = token_endpoint.url(LOCAL)
    provider_id = await add_smtp(
        admin, server.host, user=USER, xoauth2=xoauth2(url, client_secret=CLIENT_SECRET)
    )
    receiver = unique()
    await admin(rpc, by_id(rpc, provider_id, receiver))
    assert len(server.received(receiver)) == 1
    [request] = token_endpoint.requests
    assert request["form"]["grant_type"] == "client_credentials"
    assert request["authorization"].startswith("Basic ")


@pytest.mark.parametrize("rpc", BY_ID)
async def test_http_provider_or_unknown_id_is_not_found(admin: Admin, rpc: str) -> None:
    added = await admin(
        "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint="https://relay.example.com/mail")
    )
    for provider_id in (added.id, "123456789012345678"):
        failure = await admin.fail(rpc, by_id(rpc, provider_id, unique()))
        assert failure.is_zitadel(grpc.StatusCode.NOT_FOUND, "SMTP-99klw")


async def test_stored_provider_of_another_instance_is_not_found(
    mail_server: RunningServer, admin: Admin, listener: Listener
) -> None:
    target = await listener()
    stranger = await caller(mail_server, instance=mail_server.instance + "-other")
    provider_id = await add_smtp(stranger, f"{LOCAL}:{target.port}", user=USER, plain=plain())
    failure = await admin.fail(
        "TestEmailProviderSMTPById", by_id("TestEmailProviderSMTPById", provider_id, unique())
    )
    assert failure.is_zitadel(grpc.StatusCode.NOT_FOUND, "SMTP-99klw")
    assert target.accepted == 0


# Okta's API (issue 5) will store these grants; until then the tests write them to the store directly.


async def _store_auth(
    server: RunningServer, provider_id: str, change: Callable[[StoredAuth], StoredAuth]
) -> None:
    """Change a stored provider's auth as the Okta API will store it (the server has not read it yet)."""
    repo = ProviderRepository(server.services.db)
    async with repo.write(server.instance) as tx:
        await tx.begin_change()
        current = await tx.get(provider_id)
        assert current is not None and current.smtp is not None
        auth = change(current.smtp.auth)
        await tx.save(replace(current, smtp=replace(current.smtp, auth=auth)))


async def test_stored_client_secret_post_is_honoured(
    mail_server: RunningServer, admin: Admin, mailboxes: Mailboxes, token_endpoint: TokenEndpoint
) -> None:
    server = mailboxes["plain"]
    url = token_endpoint.url(LOCAL)
    provider_id = await add_smtp(
        admin, server.host, user=USER, xoauth2=xoauth2(url, client_secret=CLIENT_SECRET)
    )
    await _store_auth(
        mail_server,
        provider_id,
        lambda auth: replace(auth, token_endpoint_auth=TokenEndpointAuth.CLIENT_SECRET_POST),
    )
    token_endpoint.accept = "body"
    receiver = unique()
    await admin("TestEmailProviderSMTPById", by_id("TestEmailProviderSMTPById", provider_id, receiver))
    assert len(server.received(receiver)) == 1
    [request] = token_endpoint.requests
    assert request["authorization"] == "" and request["form"]["client_secret"] == CLIENT_SECRET


async def test_stored_jwt_bearer_provider(
    mail_server: RunningServer,
    admin: Admin,
    mailboxes: Mailboxes,
    token_endpoint: TokenEndpoint,
    rsa_key: RsaKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Plaintext: several TLS tests in a row hit the bug test_tls_tests_back_to_back shows.
    server = mailboxes["plain"]
    # Through ZITADEL's API the provider's user is some login; the grant logs in as its subject.
    provider_id = await add_smtp(admin, server.host, user="service-account", none=pb.SMTPNoAuth())
    sealed = mail_server.services.box.seal(
        rsa_key.pem, secret_context(mail_server.instance, provider_id, JwtBearer.SECRET)
    )
    auth = jwt_bearer_auth(token_endpoint.url(LOCAL), Sealed(sealed))
    await _store_auth(mail_server, provider_id, lambda _: auth)
    receiver = unique()
    await admin("TestSMTPConfigById", by_id("TestSMTPConfigById", provider_id, receiver))
    assert len(server.received(receiver)) == 1
    [(header, claims)] = token_endpoint.assertions  # verified with the public key
    assert header["kid"] == JWT_KEY_ID and claims["sub"] == USER and claims["scope"] == JWT_SCOPE

    # The key is revoked: the SMTP server refuses the cached token, then the endpoint the assertion.
    token_endpoint.jwt_keys.clear()
    token_endpoint.issued.clear()
    rpc = "TestEmailProviderSMTPById"
    refused_token = await admin.fail(rpc, by_id(rpc, provider_id, unique()))
    assert refused_token.is_zitadel(grpc.StatusCode.INTERNAL, "EMAIL-av88SB")
    assert refused_token.report.reply_code == 535
    refused_key = await admin.fail(rpc, by_id(rpc, provider_id, unique()))
    assert refused_key.is_zitadel(grpc.StatusCode.INTERNAL, "EMAIL-av88SB")
    assert refused_key.report.stage == report_pb.SMTP_TEST_STAGE_AUTH
    assert "400: invalid_grant" in refused_key.report.detail
    assertions = [request["form"]["assertion"] for request in token_endpoint.requests]
    key_lines = rsa_key.pem.strip().splitlines()[1:-1]
    for failure in (refused_token, refused_key):
        assert_no_leak(caplog, failure, extra=[*assertions, rsa_key.pem.strip(), *key_lines])
