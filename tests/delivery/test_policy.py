"""The outbound-address policy: default refusals, mapped forms, deny and allow lists, resolution."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable

import grpc
import pytest

from mailgate.config import Settings
from mailgate.delivery.policy import OutboundPolicy, PolicyRefused, ResolveError, check_address

from .conftest import fake_resolver


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # AWS/GCP/Azure metadata
        "169.254.1.1",  # IPv4 link-local
        "fe80::1",
        "fe80::1%eth0",  # with a zone id
        "fd00:ec2::254",  # AWS metadata over IPv6
        "100.100.100.200",  # Alibaba metadata
        "0.0.0.0",
        "0.1.2.3",
        "::",
        "224.0.0.1",
        "239.255.255.250",
        "ff02::1",
        "255.255.255.255",
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::ffff:0.0.0.0",
        "::ffff:255.255.255.255",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::6464:64c8",  # NAT64 of 100.100.100.200
        "::a9fe:a9fe",  # IPv4-compatible (deprecated) form of 169.254.169.254
        "not an address",
    ],
)
def test_refused_by_default(address: str) -> None:
    assert not check_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "192.168.1.10",
        "172.16.0.1",
        "8.8.8.8",
        "2001:db8::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "100.100.100.201",
        "169.253.255.255",
        "fd00:ec2::253",
    ],
)
def test_allowed_by_default(address: str) -> None:
    assert check_address(address)
    assert check_address(ipaddress.ip_address(address))


def test_deny_adds_ranges_including_their_mapped_forms() -> None:
    deny = [net("10.0.0.0/8"), net("127.0.0.0/8")]
    assert not check_address("10.9.8.7", deny=deny)
    assert not check_address("::ffff:10.9.8.7", deny=deny)
    assert not check_address("64:ff9b::a09:807", deny=deny)
    assert not check_address("127.0.0.1", deny=deny)
    assert check_address("192.168.0.1", deny=deny)


def test_allow_wins_over_default_and_deny() -> None:
    allow = [net("169.254.169.254/32"), net("10.1.0.0/16")]
    assert check_address("169.254.169.254", allow=allow)
    assert check_address("::ffff:169.254.169.254", allow=allow)
    assert not check_address("169.254.169.253", allow=allow)
    assert check_address("10.1.2.3", deny=[net("10.0.0.0/8")], allow=allow)
    assert not check_address("10.2.0.1", deny=[net("10.0.0.0/8")], allow=allow)


def test_policy_uses_the_settings(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(outbound_deny=(net("192.168.0.0/16"),), outbound_allow=(net("169.254.0.0/16"),))
    policy = OutboundPolicy(settings)
    assert not policy.allows("192.168.1.1")
    assert policy.allows("169.254.169.254")
    assert policy.allows("127.0.0.1")


async def test_resolve_checks_every_address(settings: Settings) -> None:
    policy = OutboundPolicy(settings, resolver=fake_resolver)
    assert await policy.resolve("mail.test", 25) == ["127.0.0.1"]
    with pytest.raises(PolicyRefused) as info:
        await policy.resolve("mixed.test", 25)  # one good and one refused address: refused
    assert (info.value.code, info.value.error_id) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "MG-OUTBOUND-REFUSED",
    )
    assert info.value.address == "169.254.169.254"
    assert "mixed.test resolves to 169.254.169.254" in info.value.detail


async def test_ip_literals_skip_the_resolver(settings: Settings) -> None:
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return []

    policy = OutboundPolicy(settings, resolver=resolver)
    assert await policy.resolve("127.0.0.1", 25) == ["127.0.0.1"]
    assert await policy.resolve("[::1]", 25) == ["::1"]
    with pytest.raises(PolicyRefused):
        await policy.resolve("169.254.169.254", 80)
    assert calls == []


async def test_resolve_errors(settings: Settings) -> None:
    async def empty(host: str, port: int) -> list[str]:
        return []

    with pytest.raises(ResolveError, match=r"could not resolve nowhere\.test"):
        await OutboundPolicy(settings, resolver=fake_resolver).resolve("nowhere.test", 25)
    with pytest.raises(ResolveError, match="has no address"):
        await OutboundPolicy(settings, resolver=empty).resolve("empty.test", 25)


async def test_default_resolver_uses_getaddrinfo(settings: Settings) -> None:
    # localhost comes from /etc/hosts: no DNS server needed.
    addresses = await OutboundPolicy(settings).resolve("localhost", 25)
    assert addresses and set(addresses) <= {"127.0.0.1", "::1"}


async def test_tls_context_trusts_the_ca_file_and_checks_names(settings: Settings) -> None:
    context = await OutboundPolicy(settings).tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert any(cert["subject"] for cert in context.get_ca_certs())


async def test_smtp_and_http_get_separate_tls_contexts(settings: Settings) -> None:
    # httpx sets ALPN http/1.1 on its context; an SMTP handshake must not offer it.
    policy = OutboundPolicy(settings)
    smtp, http = await policy.tls_context(), await policy.tls_context("http")
    assert smtp is not http
    assert smtp is await policy.tls_context("smtp")
