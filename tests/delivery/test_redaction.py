"""Secrets never readable from a report, an error or the log, whatever a peer echoes back.

Scripted peers echo what mailgate sent them: a token endpoint its headers and body (HTTP Basic
credentials, the URL-encoded form, a JWT assertion's signature), an SMTP server the password
wrapped over two reply lines.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import pytest

from mailgate.config import Settings
from mailgate.delivery.report import Stage
from mailgate.delivery.smtp import SmtpTester, TestEmail
from mailgate.errors import TestFailed
from mailgate.providers.auth import ClientCredentials, OpenedAuth, PlainAuth, TokenEndpointAuth
from mailgate.providers.sealing import Secret
from tests.delivery.conftest import fake_resolver
from tests.fixtures.credentials import (
    CLIENT_ID,
    ODD_SECRET,
    PASSWORD,
    SCOPE,
    USER,
)
from tests.fixtures.network import LOCAL_ALLOW
from tests.fixtures.oauth import RsaKey, TokenEndpoint, echo_everything, jwt_bearer_auth
from tests.fixtures.pki import MAIL_NAME
from tests.fixtures.secrets import assert_no_secrets, client_secret_forms
from tests.fixtures.smtp import RawServer, SmtpServer


@pytest.fixture
def tester(make_settings: Callable[..., Settings]) -> SmtpTester:
    return SmtpTester(make_settings(outbound_allow=LOCAL_ALLOW), resolver=fake_resolver)


async def fail(tester: SmtpTester, host: str, auth: OpenedAuth) -> TestFailed:
    test_email = TestEmail(host, False, "noreply@example.com", "Tests", "bob@example.com", USER, auth)
    with pytest.raises(TestFailed) as info:
        await tester.send_test(test_email)
    return info.value


def texts_of(failed: TestFailed) -> str:
    report = failed.report
    return "\n".join([failed.message, report.detail, report.reply_text, *report.transcript])


@pytest.mark.parametrize("method", list(TokenEndpointAuth))
async def test_token_endpoint_echoing_headers_and_body(
    tester: SmtpTester,
    smtp_servers: dict[str, SmtpServer],
    token_endpoint: TokenEndpoint,
    caplog: pytest.LogCaptureFixture,
    method: TokenEndpointAuth,
) -> None:
    token_endpoint.echo_back = echo_everything
    auth = ClientCredentials(CLIENT_ID, Secret(ODD_SECRET), token_endpoint.url(), method, (SCOPE,))
    failed = await fail(tester, smtp_servers["plain"].host, auth)
    assert failed.stage is Stage.AUTH and "the token endpoint answered 400" in failed.report.detail
    assert "[redacted]" in failed.report.detail  # the echo arrived, and was redacted
    [sent] = token_endpoint.requests
    basic = method == TokenEndpointAuth.CLIENT_SECRET_BASIC
    assert sent["authorization" if basic else "form"]  # what was echoed
    assert_no_secrets(caplog, failed, extra=client_secret_forms(ODD_SECRET))


async def test_token_endpoint_echoing_the_assertion_signature(
    tester: SmtpTester,
    smtp_servers: dict[str, SmtpServer],
    token_endpoint: TokenEndpoint,
    rsa_key: RsaKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token_endpoint.echo_back = lambda headers, body, form: f"bad signature {form['assertion'].split('.')[2]}"
    auth = jwt_bearer_auth(token_endpoint.url(), Secret(rsa_key.pem))
    failed = await fail(tester, smtp_servers["plain"].host, auth)
    assert failed.stage is Stage.AUTH and "bad signature [redacted]" in failed.report.detail
    [sent] = token_endpoint.requests
    assertion = sent["form"]["assertion"]
    assert_no_secrets(caplog, failed, extra=[assertion, assertion.split(".")[2]])


Scripted = Callable[..., Awaitable[RawServer]]
FIRST, SECOND = PASSWORD[:8], PASSWORD[8:]  # "pw-Sup3r", "-S3cret-9f2c"
PLAIN_PAYLOAD = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
# The reply, and the pieces of a secret none of which may be shown.
SPLIT_REPLIES = {
    "password wrapped": (
        f"535-5.7.8 Authentication failed for {FIRST}\r\n535 {SECOND}: bad password",
        [FIRST, SECOND],
    ),
    "password wrapped, status on each line": (
        f"535-5.7.8 no user with {FIRST}\r\n535 5.7.8 {SECOND} here",
        [FIRST, SECOND],
    ),
    "payload wrapped": (
        f"535-5.7.8 cannot decode {PLAIN_PAYLOAD[:20]}\r\n535 {PLAIN_PAYLOAD[20:]}",
        [PLAIN_PAYLOAD[:20], PLAIN_PAYLOAD[20:]],
    ),
}


@pytest.mark.parametrize(("reply", "pieces"), SPLIT_REPLIES.values(), ids=SPLIT_REPLIES.keys())
async def test_smtp_server_splitting_an_echoed_secret_over_reply_lines(
    tester: SmtpTester,
    raw_server: Scripted,
    caplog: pytest.LogCaptureFixture,
    reply: str,
    pieces: list[str],
) -> None:
    server = await raw_server("script", {"AUTH": reply})
    failed = await fail(tester, f"{MAIL_NAME}:{server.port}", PlainAuth(Secret(PASSWORD)))
    assert failed.stage is Stage.AUTH and failed.report.reply_code == 535
    shown = texts_of(failed)
    assert "[redacted]" in failed.report.reply_text
    for piece in pieces:
        assert piece not in shown, f"{piece!r} shown in {shown}"
    assert_no_secrets(caplog, failed)
