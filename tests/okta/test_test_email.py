"""POST /api/v1/email-servers/{id}/test: a real test email through the stored server.

Okta's servers always use TLS: every email here goes over STARTTLS with AUTH, each test on a
mailgate of its own (a fresh token cache, so each test's token endpoint sees its own request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt as pyjwt
import pytest

from tests.fixtures.credentials import CLIENT_ID, CLIENT_SECRET, JWT_KEY_ID, PASSWORD, USER
from tests.fixtures.network import LOCAL
from tests.fixtures.oauth import RsaKey, TokenEndpoint
from tests.fixtures.secrets import assert_no_secrets
from tests.fixtures.servers import RunningServer, StartServer
from tests.fixtures.smtp import SmtpServer, unique
from tests.okta.conftest import Okta, assert_error, assert_rate_headers, basic, causes, okta_client

from .test_auth_types import client_credentials, jwt_bearer

Mailboxes = dict[str, SmtpServer]
SENDER = "okta-test@example.com"


@pytest.fixture
async def mailgate(start_mail_server: StartServer) -> RunningServer:
    return await start_mail_server()


@pytest.fixture
async def okta(mailgate: RunningServer) -> AsyncIterator[Okta]:
    async with httpx.AsyncClient(base_url=mailgate.http_base, timeout=20) as http:
        yield await okta_client(mailgate, http)


def _starttls(mailboxes: Mailboxes) -> SmtpServer:
    return mailboxes["starttls"]


async def test_basic_auth_email_over_starttls(
    okta: Okta, mailboxes: Mailboxes, caplog: pytest.LogCaptureFixture
) -> None:
    server = _starttls(mailboxes)
    created = await okta.add(basic(host=LOCAL, port=server.port, username=USER, password=PASSWORD))
    receiver = unique()
    response = await okta.test(created["id"], SENDER, receiver)
    assert (response.status_code, response.content) == (204, b""), response.text
    assert_rate_headers(response)

    [envelope] = server.received(receiver)
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [receiver])
    message = server.message(receiver)
    assert [a.addr_spec for a in message["From"].addresses] == [SENDER]  # fromAddress, no stored sender
    assert [a.addr_spec for a in message["To"].addresses] == [receiver]
    assert message["Subject"] == "Test email"
    assert abs(message["Date"].datetime - datetime.now(UTC)) < timedelta(minutes=1)
    assert "test email from mailgate" in message.get_content()
    assert_no_secrets(caplog, response.text)


@pytest.mark.parametrize("method", ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"])
async def test_client_credentials_email(
    okta: Okta,
    mailboxes: Mailboxes,
    token_endpoint: TokenEndpoint,
    method: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token_endpoint.accept = "basic" if method == "CLIENT_SECRET_BASIC" else "body"
    server = _starttls(mailboxes)
    body = client_credentials(
        host=LOCAL, port=server.port, tokenEndpoint=token_endpoint.url(LOCAL), tokenEndpointAuthMethod=method
    )
    created = await okta.add(body)
    receiver = unique()
    response = await okta.test(created["id"], SENDER, receiver)
    assert response.status_code == 204, response.text
    assert len(server.received(receiver)) == 1
    [request] = token_endpoint.requests  # the endpoint checked the credentials the chosen way
    if method == "CLIENT_SECRET_BASIC":
        assert request["authorization"].startswith("Basic ") and "client_secret" not in request["form"]
    else:
        assert request["authorization"] == ""
        assert (request["form"]["client_id"], request["form"]["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert_no_secrets(caplog, response.text)


async def test_the_wrong_token_endpoint_auth_method_fails_at_auth(
    okta: Okta, mailboxes: Mailboxes, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    token_endpoint.accept = "body"  # but the server is stored with HTTP Basic
    server = _starttls(mailboxes)
    body = client_credentials(
        host=LOCAL,
        port=server.port,
        tokenEndpoint=token_endpoint.url(LOCAL),
        tokenEndpointAuthMethod="CLIENT_SECRET_BASIC",
    )
    created = await okta.add(body)
    response = await okta.test(created["id"], SENDER, unique())
    error = assert_error(response, 400, "E0000001")
    assert error["errorSummary"].startswith("Api validation failed: the test email failed at stage auth: ")
    assert "stage: auth" in causes(error)
    assert any("invalid_client" in cause for cause in causes(error)), causes(error)
    assert_no_secrets(caplog, response.text)


async def test_jwt_bearer_email(
    okta: Okta,
    mailboxes: Mailboxes,
    token_endpoint: TokenEndpoint,
    rsa_key: RsaKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = _starttls(mailboxes)
    body = jwt_bearer(rsa_key, host=LOCAL, port=server.port, tokenEndpoint=token_endpoint.url(LOCAL))
    created = await okta.add(body)
    receiver = unique()
    response = await okta.test(created["id"], SENDER, receiver)
    assert response.status_code == 204, response.text
    assert len(server.received(receiver)) == 1  # XOAUTH2 as the subject, with the issued token

    # The endpoint verified the RS256 signature with the public key, and iss, sub, aud and scope.
    [(header, claims)] = token_endpoint.assertions
    assert (header["alg"], header["kid"]) == ("RS256", JWT_KEY_ID)
    assert claims["sub"] == USER and 0 < claims["exp"] - claims["iat"] <= 3600
    [request] = token_endpoint.requests
    assertion = request["form"]["assertion"]
    pyjwt.decode(assertion, rsa_key.public, algorithms=["RS256"], audience=claims["aud"])
    key_lines = rsa_key.pem.strip().splitlines()[1:-1]
    assert_no_secrets(caplog, response.text, extra=[assertion, *key_lines])


async def test_refused_recipient_answers_400_with_stage_and_reply(okta: Okta, mailboxes: Mailboxes) -> None:
    server = _starttls(mailboxes)
    created = await okta.add(basic(host=LOCAL, port=server.port, username=USER, password=PASSWORD))
    response = await okta.test(created["id"], SENDER, "reject@example.com")
    error = assert_error(response, 400, "E0000001")
    reply = "550 5.1.1 <reject@example.com>: Recipient address rejected: User unknown"
    assert error["errorSummary"] == f"Api validation failed: the test email failed at stage rcpt_to: {reply}"
    assert causes(error)[:2] == ["stage: rcpt_to", f"server reply: {reply}"]
