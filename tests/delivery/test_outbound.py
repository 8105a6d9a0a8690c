"""The outbound-address policy through the SMTP engine, against real listeners on loopback: refused
by default before any packet is sent, reached when MAILGATE_OUTBOUND_ALLOW lists loopback."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from mailgate.api.status import smtp_test_report
from mailgate.config import Settings
from mailgate.delivery.oauth import TokenCache
from mailgate.delivery.policy import OutboundPolicy, PolicyRefused
from mailgate.delivery.report import Stage
from mailgate.delivery.smtp import SmtpTester
from mailgate.errors import Code
from mailgate.providers.auth import ClientCredentials, TokenEndpointAuth
from mailgate.providers.sealing import Secret
from tests.fixtures.credentials import CLIENT_ID, CLIENT_SECRET, SCOPE
from tests.fixtures.network import LOCAL_ALLOW, SPELLINGS
from tests.fixtures.oauth import TokenEndpoint
from tests.fixtures.smtp import Banner

from .test_smtp import check, expect_failure, make_email


@pytest.mark.parametrize(("spelling", "listen"), SPELLINGS)
async def test_loopback_is_refused_by_default_in_every_spelling(
    make_settings: Callable[..., Settings], banner: Banner, spelling: str, listen: str
) -> None:
    server = await banner(listen)
    token = server.token
    tester = SmtpTester(make_settings(outbound_allow=()))  # the system resolver and the shipped policy
    failed = await expect_failure(tester, make_email(f"{spelling}:{server.port}"))
    check(failed, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED", Stage.POLICY)
    assert server.accepted == 0
    report = failed.report
    # Nothing connected, so nothing the listener would have said can be in the answer.
    assert token.encode() not in smtp_test_report(report).SerializeToString() and token not in failed.message
    assert report.reply_code == 0 and not any(line.startswith("S:") for line in report.transcript)
    assert report.address == ""
    for text in (report.detail, failed.text):
        assert listen in text and "MAILGATE_OUTBOUND_ALLOW=" in text and "loopback" in text


@pytest.mark.parametrize(("spelling", "listen"), SPELLINGS)
async def test_loopback_is_reached_when_allowed(
    make_settings: Callable[..., Settings], banner: Banner, spelling: str, listen: str
) -> None:
    server = await banner(listen)
    token = server.token
    tester = SmtpTester(make_settings(outbound_allow=LOCAL_ALLOW))
    report = await tester.send_test(make_email(f"{spelling}:{server.port}"))
    assert report.stage == Stage.DONE
    assert server.accepted == 1 and report.address == listen  # the checked address is the one connected to
    assert f"S: 220 {token} ESMTP" in report.transcript


async def test_a_deny_range_wins_over_a_wider_allow(
    make_settings: Callable[..., Settings], banner: Banner
) -> None:
    server = await banner("127.0.0.1")
    deny = (ipaddress.ip_network("127.0.0.1/32"),)
    tester = SmtpTester(make_settings(outbound_allow=LOCAL_ALLOW, outbound_deny=deny))
    failed = await expect_failure(tester, make_email(f"127.0.0.1:{server.port}"))
    check(failed, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED", Stage.POLICY)
    assert "MAILGATE_OUTBOUND_DENY" in failed.report.detail
    assert server.accepted == 0


@pytest.mark.parametrize("spelling", ["127.0.0.1.", "127.0.0.08", "1.2.3.4.5", "0x"])
async def test_ambiguous_spellings_are_refused_even_when_loopback_is_allowed(
    make_settings: Callable[..., Settings], banner: Banner, spelling: str
) -> None:
    server = await banner("127.0.0.1")
    tester = SmtpTester(make_settings(outbound_allow=LOCAL_ALLOW))
    failed = await expect_failure(tester, make_email(f"{spelling}:{server.port}"))
    check(failed, Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED", Stage.POLICY)
    assert server.accepted == 0


# --- the token endpoint's HTTP client ------------------------------------------------------------


def _grant(url: str) -> ClientCredentials[Secret]:
    basic = TokenEndpointAuth.CLIENT_SECRET_BASIC
    return ClientCredentials(CLIENT_ID, Secret(CLIENT_SECRET), url, basic, (SCOPE,))


@pytest.mark.parametrize(
    "spelling", ["127.0.0.1", "127.1", "0x7f000001", "2130706433", "[::ffff:127.0.0.1]", "[::1]", "localhost"]
)
async def test_a_token_endpoint_on_loopback_is_refused_by_default(
    make_settings: Callable[..., Settings], token_endpoint: TokenEndpoint, spelling: str
) -> None:
    settings = make_settings(outbound_allow=())
    tokens = TokenCache(settings, OutboundPolicy(settings))  # the system resolver
    with pytest.raises(PolicyRefused) as info:
        await tokens.token(_grant(f"https://{spelling}:{token_endpoint.port}/oauth2/token"))
    assert "loopback" in info.value.detail and "MAILGATE_OUTBOUND_ALLOW=" in info.value.detail
    assert token_endpoint.requests == []


async def test_the_token_endpoint_is_asked_at_the_checked_address_after_one_lookup(
    make_settings: Callable[..., Settings], token_endpoint: TokenEndpoint
) -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    settings = make_settings(outbound_allow=LOCAL_ALLOW)
    tokens = TokenCache(settings, OutboundPolicy(settings, resolver))
    # token.test exists only in this resolver: the HTTP client cannot have looked it up again.
    assert await tokens.token(_grant(token_endpoint.url()))
    assert asked == ["token.test"]
    [request] = token_endpoint.requests
    assert request["host"] == f"token.test:{token_endpoint.port}"


async def test_a_zone_in_a_token_endpoint_url_is_read_as_rfc_6874_writes_it(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(outbound_allow=())
    tokens = TokenCache(settings, OutboundPolicy(settings))
    with pytest.raises(PolicyRefused) as info:
        await tokens.token(_grant("https://[fe80::1%25eth0]:8443/oauth2/token"))
    assert info.value.address == "fe80::1%eth0" and "link-local" in info.value.detail
