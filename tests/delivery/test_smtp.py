"""The SMTP conversation against real aiosmtpd servers: success paths and misbehaving servers."""

from __future__ import annotations

import email
import email.policy
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mailgate.config import Settings
from mailgate.delivery.report import Stage, TlsMode
from mailgate.delivery.smtp import SmtpTester, TestEmail
from mailgate.errors import Code, TestFailed
from mailgate.hostport import split_host_port
from mailgate.providers.auth import ClientCredentials, JwtBearer, NoAuth, PlainAuth, TokenEndpointAuth
from mailgate.providers.sealing import Secret
from tests.delivery.conftest import fake_resolver
from tests.fixtures.credentials import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    SCOPE,
    USER,
)
from tests.fixtures.oauth import RsaKey, TokenEndpoint, jwt_bearer_auth
from tests.fixtures.pki import MAIL_NAME
from tests.fixtures.secrets import assert_no_secrets
from tests.fixtures.smtp import RawServer, SmtpServer, unique

Servers = dict[str, SmtpServer]


def make_email(
    host: str, *, tls: bool = False, auth: Any = None, receiver: str = "bob@example.com", **kw: Any
) -> TestEmail:
    return TestEmail(
        host=host,
        tls=tls,
        sender_address=kw.pop("sender_address", "noreply@example.com"),
        sender_name=kw.pop("sender_name", "Mailgate Tests"),
        receiver_address=receiver,
        user=kw.pop("user", USER),
        auth=NoAuth() if auth is None else auth,
        **kw,
    )


def plain(password: str = PASSWORD) -> PlainAuth[Secret]:
    return PlainAuth(password=Secret(password))


def xoauth2(
    endpoint: TokenEndpoint,
    secret: str = CLIENT_SECRET,
    name: str = "token.test",
    method: TokenEndpointAuth = TokenEndpointAuth.CLIENT_SECRET_BASIC,
) -> ClientCredentials[Secret]:
    return ClientCredentials(
        client_id=CLIENT_ID,
        client_secret=Secret(secret),
        token_endpoint=endpoint.url(name),
        token_endpoint_auth=method,
        scopes=(SCOPE,),
    )


def jwt_bearer(endpoint: TokenEndpoint, private_key: str) -> JwtBearer[Secret]:
    return jwt_bearer_auth(endpoint.url(), Secret(private_key))


def key_forms(private_key: str) -> list[str]:
    """The PEM and each line of its body: none may appear anywhere."""
    return [private_key.strip(), *(line for line in private_key.splitlines() if len(line) > 20)]


async def expect_failure(tester: SmtpTester, test_email: TestEmail) -> TestFailed:
    with pytest.raises(TestFailed) as info:
        await tester.send_test(test_email)
    failed = info.value
    return failed


def check(failed: TestFailed, code: Code, error_id: str | None, stage: Stage) -> None:
    assert (failed.code, failed.error_id, failed.stage) == (code, error_id, stage), failed.report


# --- success -------------------------------------------------------------------------------------


async def test_plaintext_without_auth_delivers_a_valid_message(
    tester: SmtpTester, smtp_servers: Servers
) -> None:
    server = smtp_servers["plain"]
    receiver = unique()
    report = await tester.send_test(
        make_email(
            server.host, receiver=receiver, sender_name="Zoë Müller, Ops", sender_address="ops@example.com"
        )
    )

    assert report.stage == Stage.DONE
    assert report.tls_mode == TlsMode.NONE
    assert report.address == "127.0.0.1" and report.host == server.host
    assert report.auth_mechanism == "" and report.elapsed_ms >= 0
    assert list(report.transcript[:3]) == [
        f"* {MAIL_NAME} resolves to 127.0.0.1",
        f"* connecting to 127.0.0.1 port {server.port}",
        "S: 220 mail.test Python SMTP 1.4.6",
    ]
    assert "C: EHLO client.test" in report.transcript
    assert f"C: RCPT TO:<{receiver}>" in report.transcript
    assert report.transcript[-1].startswith("S: 221")

    [envelope] = server.received(receiver)
    assert envelope.mail_from == "ops@example.com"
    raw: bytes = envelope.original_content
    assert b"\r\nSubject: Test email\r\n" in b"\r\n" + raw  # plain ASCII, not an encoded word
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"].addresses[0].display_name == "Zoë Müller, Ops"
    assert message["From"].addresses[0].addr_spec == "ops@example.com"
    assert message["To"].addresses[0].addr_spec == receiver
    assert message["Subject"] == "Test email"
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_content_type() == "text/plain"
    assert "test email from mailgate" in message.get_content()
    assert not message.defects


async def test_auth_plain(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["plain"]
    receiver = unique()
    report = await tester.send_test(make_email(server.host, receiver=receiver, auth=plain()))
    assert report.auth_mechanism == "PLAIN"
    assert "C: AUTH PLAIN [redacted]" in report.transcript
    assert any(line.startswith("S: 235") for line in report.transcript)
    assert len(server.received(receiver)) == 1
    assert_no_secrets(caplog, report)


async def test_auth_login_when_plain_is_not_offered(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["login_only"]
    receiver = unique()
    report = await tester.send_test(make_email(server.host, receiver=receiver, auth=plain()))
    assert report.auth_mechanism == "LOGIN"
    lines = list(report.transcript)
    auth = lines[lines.index("C: AUTH LOGIN") :][:6]
    # AUTH LOGIN, the user-name challenge, the user, the password challenge, the password, success.
    assert [line[:6] for line in auth] == ["C: AUT", "S: 334", "C: [re", "S: 334", "C: [re", "S: 235"]
    assert len(server.received(receiver)) == 1
    assert_no_secrets(caplog, report)


async def test_starttls_after_plaintext_answer(tester: SmtpTester, smtp_servers: Servers) -> None:
    server = smtp_servers["starttls"]
    receiver = unique()
    report = await tester.send_test(make_email(server.host, tls=True, receiver=receiver, auth=plain()))
    assert report.tls_mode == TlsMode.STARTTLS
    assert "* the server answered in plaintext: reconnecting to require STARTTLS" in report.transcript
    assert "C: STARTTLS" in report.transcript
    assert any(line.startswith("* TLS established: TLSv1.") for line in report.transcript)
    # The certificate the server showed, as the console's TLS stage names it.
    [certificate] = [line for line in report.transcript if line.startswith("* certificate subject ")]
    assert "names mail.test" in certificate and "valid until" in certificate
    # Nothing but EHLO and STARTTLS went out before TLS.
    sent = [line for line in report.transcript if line.startswith("C: ")]
    assert sent[:2] == ["C: EHLO client.test", "C: STARTTLS"]
    assert len(server.received(receiver)) == 1


async def test_implicit_tls_on_a_port_other_than_465(tester: SmtpTester, smtp_servers: Servers) -> None:
    server = smtp_servers["implicit"]
    assert server.port != 465
    receiver = unique()
    report = await tester.send_test(make_email(server.host, tls=True, receiver=receiver, auth=plain()))
    assert report.tls_mode == TlsMode.IMPLICIT
    assert not any("reconnecting" in line for line in report.transcript)
    assert report.auth_mechanism == "PLAIN"
    assert len(server.received(receiver)) == 1


async def test_xoauth2_fetches_and_reuses_a_token(
    tester: SmtpTester, smtp_servers: Servers, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["plain"]
    receivers = [unique(), unique()]
    reports = [
        await tester.send_test(make_email(server.host, receiver=receiver, auth=xoauth2(token_endpoint)))
        for receiver in receivers
    ]
    assert [r.auth_mechanism for r in reports] == ["XOAUTH2", "XOAUTH2"]
    assert all(len(server.received(receiver)) == 1 for receiver in receivers)
    # One token request: the second test used the cached token.
    [request] = token_endpoint.requests
    assert request["form"] == {"grant_type": "client_credentials", "scope": SCOPE}
    assert request["authorization"].startswith("Basic ")
    assert request["host"] == f"token.test:{token_endpoint.port}"
    assert "C: AUTH XOAUTH2 [redacted]" in reports[0].transcript
    assert_no_secrets(caplog, *reports, extra=sorted(token_endpoint.issued))


async def test_xoauth2_with_client_secret_post(
    tester: SmtpTester, smtp_servers: Servers, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["plain"]
    receiver = unique()
    token_endpoint.accept = "body"
    auth = xoauth2(token_endpoint, method=TokenEndpointAuth.CLIENT_SECRET_POST)
    report = await tester.send_test(make_email(server.host, receiver=receiver, auth=auth))
    assert report.auth_mechanism == "XOAUTH2" and len(server.received(receiver)) == 1
    [request] = token_endpoint.requests
    assert request["authorization"] == "" and request["form"]["client_secret"] == CLIENT_SECRET
    assert_no_secrets(caplog, report, extra=sorted(token_endpoint.issued))


async def test_xoauth2_basic_refused_by_a_post_only_endpoint(
    tester: SmtpTester, smtp_servers: Servers, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    token_endpoint.accept = "body"
    failed = await expect_failure(
        tester, make_email(smtp_servers["plain"].host, auth=xoauth2(token_endpoint))
    )
    check(failed, Code.INTERNAL, "EMAIL-av88SB", Stage.AUTH)
    assert "401: invalid_client" in failed.report.detail
    assert len(token_endpoint.requests) == 1  # no second try with the other method
    assert_no_secrets(caplog, failed)


async def test_jwt_bearer_delivers_as_the_subject(
    tester: SmtpTester,
    smtp_servers: Servers,
    token_endpoint: TokenEndpoint,
    rsa_key: RsaKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = smtp_servers["starttls"]
    receiver = unique()
    report = await tester.send_test(
        make_email(server.host, tls=True, receiver=receiver, auth=jwt_bearer(token_endpoint, rsa_key.pem))
    )
    assert report.auth_mechanism == "XOAUTH2" and report.tls_mode == TlsMode.STARTTLS
    [message] = server.received(receiver)
    assert message.mail_from == "noreply@example.com"
    assert len(token_endpoint.assertions) == 1
    assert "C: AUTH XOAUTH2 [redacted]" in report.transcript
    assertion = token_endpoint.requests[0]["form"]["assertion"]
    extra = [*sorted(token_endpoint.issued), assertion, *key_forms(rsa_key.pem)]
    assert_no_secrets(caplog, report, extra=extra)


async def test_jwt_bearer_untrusted_key_fails_at_auth(
    tester: SmtpTester,
    smtp_servers: Servers,
    token_endpoint: TokenEndpoint,
    other_rsa_key: RsaKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = await expect_failure(
        tester, make_email(smtp_servers["plain"].host, auth=jwt_bearer(token_endpoint, other_rsa_key.pem))
    )
    check(failed, Code.INTERNAL, "EMAIL-av88SB", Stage.AUTH)
    assert "400: invalid_grant" in failed.report.detail
    assert not any(line.startswith("C: AUTH") for line in failed.report.transcript)
    assertion = token_endpoint.requests[0]["form"]["assertion"]
    assert_no_secrets(caplog, failed, extra=[assertion, *key_forms(other_rsa_key.pem)])


async def test_jwt_bearer_bad_pem_fails_at_auth(
    tester: SmtpTester, smtp_servers: Servers, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-really\n-----END PRIVATE KEY-----"
    )
    failed = await expect_failure(
        tester, make_email(smtp_servers["plain"].host, auth=jwt_bearer(token_endpoint, garbage))
    )
    check(failed, Code.INTERNAL, "EMAIL-av88SB", Stage.AUTH)
    assert failed.report.detail == "the private key is not a PEM-encoded RSA private key"
    assert token_endpoint.requests == []
    assert_no_secrets(caplog, failed, extra=key_forms(garbage))


async def test_utf8_addresses_use_smtputf8_and_idna(tester: SmtpTester, smtp_servers: Servers) -> None:
    server = smtp_servers["plain"]
    receiver = f"jörg+{time.monotonic_ns()}@bücher.example"
    report = await tester.send_test(make_email(server.host, receiver=receiver, sender_name="Jörg"))
    ascii_domain = receiver.replace("bücher.example", "xn--bcher-kva.example")
    assert any("SMTPUTF8" in line and line.startswith("C: MAIL FROM") for line in report.transcript)
    [envelope] = server.received(ascii_domain)
    # RFC 6532: the headers are UTF-8.
    message = email.message_from_string(
        envelope.original_content.decode("utf-8"), policy=email.policy.default
    )
    assert message["To"].addresses[0].addr_spec == ascii_domain
    assert message["From"].addresses[0].display_name == "Jörg"
    assert "SMTPUTF8" in envelope.mail_options


async def test_default_helo_name_is_an_address_literal_without_fqdn(
    make_settings: Callable[..., Settings], smtp_servers: Servers
) -> None:
    tester = SmtpTester(make_settings(smtp_helo_name=""), resolver=fake_resolver)
    report = await tester.send_test(make_email(smtp_servers["plain"].host, receiver=unique()))
    ehlo = next(line for line in report.transcript if line.startswith("C: EHLO "))
    assert ehlo.removeprefix("C: EHLO ") in ("[127.0.0.1]", tester._fqdn)


# --- misbehaving servers and refusals ---------------------------------------------------------------


async def test_connection_refused(
    tester: SmtpTester, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{closed_port}", auth=plain()))
    check(failed, Code.INTERNAL, "EMAIL-skwos", Stage.CONNECT)
    assert "could not contact with the SMTP server" in failed.message
    assert "refused" in failed.report.detail.lower()
    assert_no_secrets(caplog, failed)


async def test_accept_then_hang_ends_at_the_greeting_timeout(
    tester: SmtpTester, raw_server: Callable[[str], Awaitable[RawServer]], caplog: pytest.LogCaptureFixture
) -> None:
    server = await raw_server("hang")
    started = time.monotonic()
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}", auth=plain()))
    assert time.monotonic() - started < 3
    check(failed, Code.INTERNAL, "EMAIL-skwos", Stage.GREETING)
    assert failed.report.detail == "no greeting within 1s"
    assert_no_secrets(caplog, failed)


async def test_hang_during_tls_handshake(
    tester: SmtpTester, raw_server: Callable[[str], Awaitable[RawServer]], caplog: pytest.LogCaptureFixture
) -> None:
    server = await raw_server("hang")
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}", tls=True))
    check(failed, Code.INTERNAL, "EMAIL-sl39s", Stage.TLS)
    assert "handshake" in failed.report.detail


async def test_trickling_server_ends_at_the_overall_deadline(
    make_settings: Callable[..., Settings],
    raw_server: Callable[[str], Awaitable[RawServer]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Per-step limits are generous; only the overall deadline can end this.
    settings = make_settings(smtp_connect_timeout=30.0, smtp_command_timeout=30.0, smtp_test_timeout=1.0)
    tester = SmtpTester(settings, resolver=fake_resolver)
    server = await raw_server("trickle")
    started = time.monotonic()
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}", auth=plain()))
    assert time.monotonic() - started < 2
    check(failed, Code.DEADLINE_EXCEEDED, "MG-SMTP-DEADLINE", Stage.DEADLINE)
    assert "it was at stage greeting" in failed.report.detail
    assert 900 <= failed.report.elapsed_ms < 2000
    assert_no_secrets(caplog, failed)


async def test_server_closes_during_data(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["plain"]
    failed = await expect_failure(tester, make_email(server.host, receiver=unique("drop"), auth=plain()))
    check(failed, Code.UNKNOWN, None, Stage.DATA)
    assert failed.message == "the server closed the connection"
    assert "C: DATA" in failed.report.transcript
    assert_no_secrets(caplog, failed)


async def test_5xx_at_rcpt(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["plain"]
    failed = await expect_failure(
        tester, make_email(server.host, receiver="reject@example.com", auth=plain())
    )
    check(failed, Code.INTERNAL, "EMAIL-s4is4", Stage.RCPT_TO)
    assert failed.message == "could not set recipient (EMAIL-s4is4)"
    report = failed.report
    assert (report.reply_code, report.enhanced_status_code) == (550, "5.1.1")
    assert "Recipient address rejected" in report.reply_text
    assert report.transcript[-1].startswith("S: 550 5.1.1")
    assert_no_secrets(caplog, failed)


async def test_wrong_host_certificate(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["wrong_cert"]
    failed = await expect_failure(tester, make_email(server.host, tls=True, auth=plain()))
    check(failed, Code.INTERNAL, "EMAIL-sl39s", Stage.TLS)
    assert "certificate verification failed" in failed.report.detail
    assert MAIL_NAME in failed.report.detail
    assert not any(line.startswith("C: ") for line in failed.report.transcript)  # nothing sent
    assert_no_secrets(caplog, failed)


async def test_tls_required_but_starttls_not_offered(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["no_auth"]
    failed = await expect_failure(tester, make_email(server.host, tls=True, auth=plain()))
    check(failed, Code.INTERNAL, "EMAIL-guvsQ", Stage.STARTTLS)
    assert failed.message == "could not start tls (EMAIL-guvsQ)"
    sent = [line for line in failed.report.transcript if line.startswith("C: ")]
    assert sent == ["C: EHLO client.test"]  # no AUTH, no MAIL in plaintext
    assert_no_secrets(caplog, failed)


async def test_bad_password(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["plain"]
    wrong = "wrong-Passw0rd-123456"
    failed = await expect_failure(tester, make_email(server.host, auth=plain(wrong)))
    check(failed, Code.INTERNAL, "EMAIL-s9kfs", Stage.AUTH)
    assert failed.message.startswith(
        "could not add smtp auth, check if both your user and password are correct"
    )
    assert (failed.report.reply_code, failed.report.enhanced_status_code) == (535, "5.7.8")
    assert_no_secrets(caplog, failed, extra=[wrong, f"\0{USER}\0{wrong}"])


async def test_stored_secret_with_no_auth_offered_fails_at_auth(
    tester: SmtpTester, smtp_servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_servers["no_auth"]
    receiver = unique()
    failed = await expect_failure(
        tester,
        make_email(server.host, receiver=receiver, auth=plain(), secret_from_store=True),
    )
    check(failed, Code.INTERNAL, "EMAIL-s9kfs", Stage.AUTH)
    assert "offers no AUTH" in failed.report.detail and "stored secret" in failed.report.detail
    assert not any(line.startswith("C: MAIL") for line in failed.report.transcript)
    assert server.received(receiver) == []
    assert_no_secrets(caplog, failed)


async def test_xoauth2_bad_client_secret(
    tester: SmtpTester, smtp_servers: Servers, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "cs-Wr0ng-S3cret-000000"
    failed = await expect_failure(
        tester, make_email(smtp_servers["plain"].host, auth=xoauth2(token_endpoint, secret=wrong))
    )
    check(failed, Code.INTERNAL, "EMAIL-av88SB", Stage.AUTH)
    assert "401: invalid_client: bad client credentials" in failed.report.detail
    assert not any(line.startswith("C: AUTH") for line in failed.report.transcript)
    assert_no_secrets(caplog, failed, extra=[wrong])


async def test_xoauth2_token_refused_by_the_server(
    tester: SmtpTester, smtp_servers: Servers, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    auth = xoauth2(token_endpoint)
    failed = await expect_failure(
        tester, make_email(smtp_servers["plain"].host, auth=auth, user="mallory@example.com")
    )
    check(failed, Code.INTERNAL, "EMAIL-av88SB", Stage.AUTH)
    lines = failed.report.transcript
    assert "C: AUTH XOAUTH2 [redacted]" in lines
    assert any(line.startswith("S: 334 ") for line in lines) and "C: (empty response)" in lines
    assert failed.report.reply_code == 535
    # The refused token was dropped from the cache: the next test fetches a new one.
    with pytest.raises(TestFailed):
        await tester.send_test(make_email(smtp_servers["plain"].host, auth=auth, user="mallory@example.com"))
    assert len(token_endpoint.requests) == 2
    assert_no_secrets(caplog, failed, extra=sorted(token_endpoint.issued))


async def test_policy_refuses_a_name_resolving_to_metadata(
    tester: SmtpTester, caplog: pytest.LogCaptureFixture
) -> None:
    failed = await expect_failure(tester, make_email("metadata.test:25", auth=plain()))
    check(failed, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED", Stage.POLICY)
    assert "169.254.169.254" in failed.report.detail
    assert failed.report.address == ""
    assert_no_secrets(caplog, failed)


@pytest.mark.parametrize(
    "host", ["mapped.test:25", "mixed.test:25", "[::ffff:169.254.169.254]:25", "[64:ff9b::a9fe:a9fe]:25"]
)
async def test_policy_refuses_mapped_and_mixed_forms(tester: SmtpTester, host: str) -> None:
    failed = await expect_failure(tester, make_email(host))
    check(failed, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED", Stage.POLICY)


async def test_policy_refusal_sends_nothing(
    make_settings: Callable[..., Settings], raw_server: Callable[[str], Awaitable[RawServer]]
) -> None:
    import ipaddress

    tester = SmtpTester(
        make_settings(outbound_deny=(ipaddress.ip_network("127.0.0.0/8"),)), resolver=fake_resolver
    )
    server = await raw_server("hang")
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}"))
    check(failed, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED", Stage.POLICY)
    assert server.accepted == 0


async def test_policy_refuses_the_token_endpoint(
    tester: SmtpTester, smtp_servers: Servers, token_endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    failed = await expect_failure(
        tester, make_email(smtp_servers["plain"].host, auth=xoauth2(token_endpoint, name="metadata.test"))
    )
    check(failed, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED", Stage.POLICY)
    assert "token endpoint" in failed.report.detail
    assert token_endpoint.requests == []
    assert_no_secrets(caplog, failed)


async def test_unknown_name_fails_at_resolve(tester: SmtpTester) -> None:
    failed = await expect_failure(tester, make_email("nowhere.test:25"))
    check(failed, Code.INTERNAL, "EMAIL-skwos", Stage.RESOLVE)
    assert "could not resolve nowhere.test" in failed.report.detail


@pytest.mark.parametrize(
    "host", ["mail.test", "::1", "[::1]", "mail.test:", "mail.test:smtp", "mail.test:70000", ":25"]
)
async def test_host_without_valid_port(tester: SmtpTester, host: str) -> None:
    failed = await expect_failure(tester, make_email(host))
    check(failed, Code.INTERNAL, "EMAIL-spR56", Stage.RESOLVE)
    assert failed.message == "could not split host and port for connect to smtp (EMAIL-spR56)"


async def test_invalid_sender_fails_before_connecting(tester: SmtpTester, closed_port: int) -> None:
    failed = await expect_failure(
        tester, make_email(f"{MAIL_NAME}:{closed_port}", sender_address="not an address")
    )
    check(failed, Code.INTERNAL, "EMAIL-s3is3", Stage.MAIL_FROM)
    assert failed.report.transcript == ()


def test_split_host_port() -> None:
    assert split_host_port("smtp.example.com:587") == ("smtp.example.com", 587)
    assert split_host_port("[2001:db8::1]:465") == ("2001:db8::1", 465)
    assert split_host_port("127.0.0.1:25") == ("127.0.0.1", 25)


def test_auth_repr_hides_secrets() -> None:
    assert PASSWORD not in repr(plain())
    basic = TokenEndpointAuth.CLIENT_SECRET_BASIC
    client = ClientCredentials(CLIENT_ID, Secret(CLIENT_SECRET), "https://t", basic, ())
    assert CLIENT_SECRET not in repr(client)
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n"
    shown = repr(JwtBearer("c", "https://t", "RS256", "k", "i", USER, "a", (), Secret(key)))
    assert "PRIVATE KEY" not in shown and "[redacted]" in shown
    assert PASSWORD not in repr(make_email("x:1", auth=plain()))


# --- scripted servers: replies real servers send, on demand ----------------------------------------

Scripted = Callable[..., Awaitable[RawServer]]


async def test_greeting_refusal(tester: SmtpTester, raw_server: Scripted) -> None:
    server = await raw_server("script", {"GREETING": "554 5.3.2 No SMTP service here"})
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}"))
    check(failed, Code.INTERNAL, "EMAIL-skwos", Stage.GREETING)
    assert (failed.report.reply_code, failed.report.enhanced_status_code) == (554, "5.3.2")


async def test_helo_after_ehlo_is_refused(tester: SmtpTester, raw_server: Scripted) -> None:
    server = await raw_server("script", {"EHLO": "502 5.5.1 EHLO not implemented"})
    report = await tester.send_test(make_email(f"{MAIL_NAME}:{server.port}"))
    assert report.stage == Stage.DONE
    assert server.commands[:2] == ["EHLO client.test", "HELO client.test"]


async def test_data_rejection_is_unknown_with_the_servers_text(
    tester: SmtpTester, raw_server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    server = await raw_server("script", {".": "554 5.7.1 Message rejected: spam"})
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}", auth=plain()))
    check(failed, Code.UNKNOWN, None, Stage.DATA)
    assert failed.message == "554 5.7.1 Message rejected: spam"
    assert failed.report.enhanced_status_code == "5.7.1"
    assert_no_secrets(caplog, failed)


async def test_quit_failure_is_unknown(tester: SmtpTester, raw_server: Scripted) -> None:
    server = await raw_server("script", {"QUIT": "500 5.5.2 what?"})
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}"))
    check(failed, Code.UNKNOWN, None, Stage.QUIT)
    assert failed.message == "500 5.5.2 what?"


async def test_mail_from_refused(tester: SmtpTester, raw_server: Scripted) -> None:
    server = await raw_server("script", {"MAIL": "530 5.7.0 Authentication required"})
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}"))
    check(failed, Code.INTERNAL, "EMAIL-s3is3", Stage.MAIL_FROM)
    assert failed.message == "could not set sender (EMAIL-s3is3)"
    assert failed.report.reply_text == "5.7.0 Authentication required"


async def test_server_offering_only_cram_md5(tester: SmtpTester, raw_server: Scripted) -> None:
    server = await raw_server("script", {"EHLO": "250-scripted.test\r\n250 AUTH CRAM-MD5"})
    failed = await expect_failure(tester, make_email(f"{MAIL_NAME}:{server.port}", auth=plain()))
    check(failed, Code.INTERNAL, "EMAIL-s9kfs", Stage.AUTH)
    assert "neither PLAIN nor LOGIN, only CRAM-MD5" in failed.report.detail


async def test_xoauth2_not_offered(
    tester: SmtpTester, raw_server: Scripted, token_endpoint: TokenEndpoint
) -> None:
    server = await raw_server("script")
    failed = await expect_failure(
        tester, make_email(f"{MAIL_NAME}:{server.port}", auth=xoauth2(token_endpoint))
    )
    check(failed, Code.INTERNAL, "EMAIL-av88SB", Stage.AUTH)
    assert "does not offer AUTH XOAUTH2, only PLAIN" in failed.report.detail
    assert token_endpoint.requests == []  # no token fetched for a server that cannot use it


async def test_smtputf8_needed_but_not_offered(tester: SmtpTester, raw_server: Scripted) -> None:
    server = await raw_server("script")
    failed = await expect_failure(
        tester, make_email(f"{MAIL_NAME}:{server.port}", receiver="jörg@example.com")
    )
    check(failed, Code.INTERNAL, "EMAIL-s3is3", Stage.MAIL_FROM)
    assert "SMTPUTF8" in failed.report.detail
