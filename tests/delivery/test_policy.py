"""The outbound-address policy: every spelling of an address, every refused range, the IPv4 forms
inside IPv6 addresses, allow and deny lists, resolution once and only once."""

from __future__ import annotations

import ipaddress
import itertools
import socket
import ssl
from collections.abc import Callable

import pytest

from mailgate.config import Settings
from mailgate.delivery.addresses import UnreadableHost, inet_aton, nat64_ipv4, read_host
from mailgate.delivery.policy import OutboundPolicy, PolicyRefused, ResolveError, check_address
from mailgate.errors import Code
from tests.delivery.conftest import fake_resolver
from tests.fixtures.network import LOCAL_ALLOW

# How a caller can write loopback, and the address each spelling means (names: see LOOPBACK_NAMES).
LOOPBACK_SPELLINGS = [
    ("127.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0X7F000001", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("0x7f.0.0.0x1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("017700000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0177.1", "127.0.0.1"),
    ("127.0.0.01", "127.0.0.1"),
    ("127.000.000.001", "127.0.0.1"),
    ("127.255.255.254", "127.255.255.254"),
    ("[::ffff:127.0.0.1]", "127.0.0.1"),
    ("::ffff:7f00:1", "127.0.0.1"),
    ("[0:0:0:0:0:ffff:127.0.0.1]", "127.0.0.1"),
    ("[::ffff:127.0.0.1%eth0]", "127.0.0.1"),
    (
        "\uff11\uff12\uff17.\uff10.\uff10.\uff11",
        "127.0.0.1",
    ),  # full-width digits: the IDNA encoding makes them ASCII
    ("127\u30020\u30020\u30021", "127.0.0.1"),  # ideographic full stops, likewise
    ("[::1]", "::1"),
    ("::1", "::1"),
    ("[0:0:0:0:0:0:0:1]", "::1"),
    ("[::1%lo]", "::1%lo"),
]
# Names that resolve to loopback (here through an injected resolver; the system's is tested below).
LOOPBACK_NAMES = {
    "localhost": ["127.0.0.1", "::1"],
    "localhost.": ["127.0.0.1"],
    "mail.localhost": ["127.0.0.1"],
    "loopback.test": ["127.0.0.2"],
    "mapped-loopback.test": ["::ffff:127.0.0.1"],
}

# One address from every block of IANA's IPv4 and IPv6 special-purpose registries (except the
# translation prefixes, tested below), multicast, the IPv6 space outside global unicast, and
# the cloud metadata addresses: (the block as IANA lists it, an address in it).
REFUSED_BY_DEFAULT = [
    ("0.0.0.0/8", "0.0.0.0"),
    ("0.0.0.0/8", "0.1.2.3"),
    ("10.0.0.0/8", "10.255.255.255"),
    ("100.64.0.0/10", "100.64.0.1"),
    ("100.64.0.0/10", "100.127.255.254"),
    ("127.0.0.0/8", "127.0.0.1"),
    ("169.254.0.0/16", "169.254.1.1"),
    ("172.16.0.0/12", "172.31.255.255"),
    ("192.0.0.0/24", "192.0.0.100"),
    ("192.0.0.0/29", "192.0.0.1"),
    ("192.0.0.8/32", "192.0.0.8"),
    ("192.0.0.9/32", "192.0.0.9"),
    ("192.0.0.10/32", "192.0.0.10"),
    ("192.0.0.170/32", "192.0.0.170"),
    ("192.0.0.171/32", "192.0.0.171"),
    ("192.0.2.0/24", "192.0.2.1"),
    ("192.31.196.0/24", "192.31.196.1"),
    ("192.52.193.0/24", "192.52.193.1"),
    ("192.88.99.0/24", "192.88.99.1"),
    ("192.88.99.2/32", "192.88.99.2"),
    ("192.168.0.0/16", "192.168.1.10"),
    ("192.175.48.0/24", "192.175.48.1"),
    ("198.18.0.0/15", "198.19.255.255"),
    ("198.51.100.0/24", "198.51.100.7"),
    ("203.0.113.0/24", "203.0.113.9"),
    ("224.0.0.0/4", "224.0.0.1"),
    ("224.0.0.0/4", "239.255.255.250"),
    ("240.0.0.0/4", "240.0.0.1"),
    ("255.255.255.255/32", "255.255.255.255"),
    ("::/128", "::"),
    ("::1/128", "::1"),
    ("100::/64", "100::1"),
    ("100:0:0:1::/64", "100:0:0:1::1"),
    ("2001::/23", "2001:100::1"),
    ("2001:1::1/128", "2001:1::1"),
    ("2001:1::2/128", "2001:1::2"),
    ("2001:1::3/128", "2001:1::3"),
    ("2001:2::/48", "2001:2::1"),
    ("2001:3::/32", "2001:3::1"),
    ("2001:4:112::/48", "2001:4:112::1"),
    ("2001:10::/28", "2001:10::1"),
    ("2001:20::/28", "2001:20::1"),
    ("2001:30::/28", "2001:30::1"),
    ("2001:db8::/32", "2001:db8::1"),
    ("2620:4f:8000::/48", "2620:4f:8000::1"),
    ("3fff::/20", "3fff::1"),
    ("5f00::/16", "5f00::1"),
    ("fc00::/7", "fd12:3456::1"),
    ("fe80::/10", "fe80::1"),
    ("fe80::/10", "fe80::1%eth0"),
    ("fec0::/10", "fec0::1"),
    ("ff00::/8", "ff02::1"),
    ("4000::/3", "4000::1"),  # reserved by the IETF (outside global unicast 2000::/3)
    ("8000::/1", "c000::1"),
    ("::/96", "::808:808"),  # IPv4-compatible, even of a public address
    ("::ffff:0:0:0/96", "::ffff:0:808:808"),  # SIIT
    ("169.254.169.254/32", "169.254.169.254"),
    ("169.254.170.2/32", "169.254.170.2"),
    ("169.254.170.23/32", "169.254.170.23"),
    ("100.100.100.200/32", "100.100.100.200"),
    ("168.63.129.16/32", "168.63.129.16"),
    ("fd00:ec2::254/128", "fd00:ec2::254"),
    ("fd00:ec2::23/128", "fd00:ec2::23"),
]

# Public unicast, including the neighbours of refused blocks.
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "9.255.255.255",
    "11.0.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.0",
    "169.253.255.255",
    "169.255.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "192.88.98.255",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "168.63.129.17",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2001:200::1",  # just past 2001::/23
    "2001:db9::1",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "2001:0:808:808:8000:63bf:f7f7:f7f7",  # Teredo: server 8.8.8.8, client 8.8.8.8 (inverted)
]

# IPv6 addresses that carry a refused IPv4 address: (address, carried address, how).
CARRYING = [
    ("::ffff:169.254.169.254", "169.254.169.254", ""),  # IPv4-mapped: simply the IPv4 address
    ("64:ff9b::a9fe:a9fe", "169.254.169.254", "NAT64"),
    ("64:ff9b::a00:1", "10.0.0.1", "NAT64"),
    ("64:ff9b::7f00:1", "127.0.0.1", "NAT64"),
    ("2002:a9fe:a9fe::1", "169.254.169.254", "6to4"),
    ("2002:c0a8:10a::", "192.168.1.10", "6to4"),
    ("2002:7f00:1::1", "127.0.0.1", "6to4"),
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "10.0.0.1", "Teredo server"),
    ("2001:0:808:808:8000:63bf:80ff:fffe", "127.0.0.1", "Teredo client"),  # ~7f000001
    ("2001:0:808:808:8000:63bf:f5ff:fffe", "10.0.0.1", "Teredo client"),
    ("2a00:1450:4001::5efe:a00:1", "10.0.0.1", "ISATAP"),
    ("2a00:1450:4001::200:5efe:c0a8:10a", "192.168.1.10", "ISATAP"),
]


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


def nets(*texts: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(net(text) for text in texts)


def refused(address: str, **lists: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    return not check_address(address, **lists)


class Resolver:
    """Resolves LOOPBACK_NAMES and records every name it is asked for."""

    def __init__(self, names: dict[str, list[str]] | None = None) -> None:
        self.names = LOOPBACK_NAMES if names is None else names
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.names[host]


@pytest.fixture
def default_settings(make_settings: Callable[..., Settings]) -> Settings:
    """The policy exactly as shipped: no allow and no deny list."""
    return make_settings(outbound_allow=())


async def refusal_of(policy: OutboundPolicy, host: str) -> PolicyRefused:
    with pytest.raises(PolicyRefused) as info:
        await policy.resolve(host, 25)
    error = info.value
    assert (error.code, error.error_id) == (Code.FAILED_PRECONDITION, "MG-OUTBOUND-REFUSED")
    assert error.message == f"{error.detail} (MG-OUTBOUND-REFUSED)"
    return error


# --- spellings ------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "address"), LOOPBACK_SPELLINGS)
async def test_every_spelling_of_loopback_is_refused_by_default(
    default_settings: Settings, host: str, address: str
) -> None:
    resolver = Resolver()
    error = await refusal_of(OutboundPolicy(default_settings, resolver), host)
    assert error.address == address
    assert address in error.detail and "MAILGATE_OUTBOUND_ALLOW=" in error.detail
    assert "loopback" in error.detail
    assert resolver.asked == []  # a literal, however written, is never looked up


@pytest.mark.parametrize(("host", "address"), LOOPBACK_SPELLINGS)
async def test_every_spelling_of_loopback_is_allowed_when_listed(
    make_settings: Callable[..., Settings], host: str, address: str
) -> None:
    policy = OutboundPolicy(make_settings(outbound_allow=LOCAL_ALLOW), Resolver())
    assert await policy.resolve(host, 25) == [address]  # the address connected to is the one checked


@pytest.mark.parametrize("name", sorted(LOOPBACK_NAMES))
async def test_names_resolving_to_loopback_are_refused_by_default(
    default_settings: Settings, make_settings: Callable[..., Settings], name: str
) -> None:
    error = await refusal_of(OutboundPolicy(default_settings, Resolver()), name)
    assert f"{name} resolves to {error.address}, in 127.0.0.0/8 (loopback)" in error.detail
    assert "MAILGATE_OUTBOUND_ALLOW=127.0.0.0/8 would allow it" in error.detail
    allowed = OutboundPolicy(make_settings(outbound_allow=LOCAL_ALLOW), Resolver())
    expected = {"localhost": ["127.0.0.1", "::1"], "loopback.test": ["127.0.0.2"]}
    assert await allowed.resolve(name, 25) == expected.get(name, ["127.0.0.1"])


async def test_the_system_resolver_localhost_is_refused_by_default(
    default_settings: Settings, make_settings: Callable[..., Settings]
) -> None:
    # localhost comes from /etc/hosts: no DNS server needed.
    for spelling in ("localhost", "LOCALHOST", "LocalHost"):
        error = await refusal_of(OutboundPolicy(default_settings), spelling)
        assert error.address in ("127.0.0.1", "::1")
    addresses = await OutboundPolicy(make_settings(outbound_allow=LOCAL_ALLOW)).resolve("localhost", 25)
    assert addresses and set(addresses) <= {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1.",  # a trailing dot: URL parsers read 127.0.0.1, the system a DNS name
        "0x7f000001.",
        "127.0.0.08",  # 08 is no octal number: the system would ask DNS
        "127.0.0.256",
        "1.2.3.4.5",
        "4294967296",
        "0x",
        "0x7g.1",
        "mail.test.127",  # a numeric last label is an IPv4 address to URL parsers
        "foo.0x1",
        "[127.1]",  # brackets hold an exact literal
        "[::ffff:127.1]",
        "[localhost]",
        "::ffff:127.1",
        "127.0.0.1%eth0",
        "127.0.0.1 x",
        "local host",
        "-mail.test",
        "mail..test",
        "",
        "a" * 64 + ".test",
    ],
)
async def test_ambiguous_spellings_are_refused_without_a_lookup(
    default_settings: Settings, host: str
) -> None:
    resolver = Resolver()
    # Refused even when loopback is allowed: what they mean is not certain.
    policy = OutboundPolicy(Settings.from_env({}, outbound_allow=(net("0.0.0.0/0"), net("::/0"))), resolver)
    error = await refusal_of(policy, host)
    assert "outbound-address policy refuses it" in error.detail and error.address == ""
    assert resolver.asked == []


def test_inet_aton_reads_what_the_c_library_reads() -> None:
    parts = ["0", "1", "00", "07", "08", "0x", "0x0", "0xff", "0x100", "0X7F", "255", "256", "65535"]
    parts += ["65536", "16777216", "4294967295", "4294967296", "017700000001", "0377", "0400", "", "1a"]
    for count in (1, 2, 3, 4, 5):
        combos = itertools.product(parts, repeat=count) if count <= 3 else [parts[:count], parts[-count:]]
        for combo in combos:
            text = ".".join(combo)
            try:
                expected: str | None = socket.inet_ntoa(socket.inet_aton(text))
            except OSError:
                expected = None
            mine = inet_aton(text)
            assert (str(mine) if mine else None) == expected, text


def test_names_are_read_as_the_socket_module_sends_them() -> None:
    assert read_host("Mail.Example.COM") == "mail.example.com"
    assert read_host("mail.example.com.") == "mail.example.com."
    assert read_host("bücher.example") == "xn--bcher-kva.example"
    assert read_host("_smtp._tcp.example") == "_smtp._tcp.example"
    with pytest.raises(UnreadableHost):
        read_host("exa mple.com")


# --- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("block", "address"), REFUSED_BY_DEFAULT)
async def test_special_purpose_ranges_are_refused_by_default(
    default_settings: Settings, block: str, address: str
) -> None:
    assert refused(address)
    error = await refusal_of(OutboundPolicy(default_settings), address)
    assert error.address == address
    assert address in error.detail and "MAILGATE_OUTBOUND_ALLOW=" in error.detail


@pytest.mark.parametrize(("block", "address"), REFUSED_BY_DEFAULT)
def test_allowing_the_range_opens_it(block: str, address: str) -> None:
    assert check_address(address, allow=nets(block))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert check_address(address)
    assert check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(("address", "carried", "how"), CARRYING)
async def test_ipv6_forms_carrying_a_refused_ipv4_address_are_refused(
    default_settings: Settings, address: str, carried: str, how: str
) -> None:
    error = await refusal_of(OutboundPolicy(default_settings), f"[{address}]")
    assert carried in error.detail and "MAILGATE_OUTBOUND_ALLOW=" in error.detail
    assert f"({how})" in error.detail if how else error.address == carried
    # Opening the carried address's range opens the form too; a deny list closes it again.
    block = ipaddress.ip_network(f"{carried}/8", strict=False)
    for pinned in ("169.254.169.254/32",):
        if ipaddress.ip_address(carried) in net(pinned):
            block = net(pinned)
    assert check_address(address, allow=(block,))
    assert refused(address, allow=(block,), deny=(ipaddress.ip_network(f"{carried}/32"),))


def test_compatible_and_siit_forms_check_what_they_carry_when_opened() -> None:
    opened = nets("::/96", "::ffff:0:0:0/96")
    assert check_address("::808:808", allow=opened)
    assert check_address("::ffff:0:808:808", allow=opened)
    assert refused("::7f00:1", allow=opened)
    assert refused("::ffff:0:a9fe:a9fe", allow=opened)


def test_nat64_addresses_are_read_at_every_rfc6052_prefix_length() -> None:
    # RFC 6052 section 2.4's examples: 192.0.2.33 under 2001:db8::/32 ... /96.
    examples = {
        32: "2001:db8:c000:221::",
        40: "2001:db8:1c0:2:21::",
        48: "2001:db8:122:c000:2:2100::",
        56: "2001:db8:122:3c0:0:221::",
        64: "2001:db8:122:344:c0:2:2100:0",
        96: "2001:db8:122:344::192.0.2.33",
    }
    for length, text in examples.items():
        assert str(nat64_ipv4(ipaddress.IPv6Address(text), length)) == "192.0.2.33", length
    assert nat64_ipv4(ipaddress.IPv6Address("2001:db8:122:c000:ff02:2100::"), 48) is None  # u octet set
    assert nat64_ipv4(ipaddress.IPv6Address("2001:db8::1"), 50) is None


def test_local_use_nat64_needs_its_prefix_in_the_allow_list() -> None:
    assert refused("64:ff9b:1::808:808")
    assert refused("64:ff9b:1::808:808", allow=nets("::/0"))  # a broad range does not say the prefix
    as96 = nets("64:ff9b:1::/96")
    assert check_address("64:ff9b:1::808:808", allow=as96)
    assert refused("64:ff9b:1::a00:1", allow=as96)  # carries 10.0.0.1
    as48 = nets("64:ff9b:1::/48")
    assert check_address("64:ff9b:1:808:8:800::", allow=as48)  # 8.8.8.8 at the /48 position
    assert refused("64:ff9b:1:a00:0:100::", allow=as48)  # 10.0.0.1 at the /48 position
    assert refused("64:ff9b:1::808:808", allow=nets("64:ff9b:1::/50"))  # no RFC 6052 length


# --- allow and deny ---------------------------------------------------------------------------


def test_any_allow_range_opens_ordinary_refusals_but_not_metadata() -> None:
    everything = nets("0.0.0.0/0", "::/0")
    for address in ("127.0.0.1", "10.0.0.1", "192.168.1.1", "::1", "fd12::1", "fe80::1"):
        assert check_address(address, allow=everything), address
    for address in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254", "168.63.129.16"):
        assert refused(address, allow=everything), address
    # Allowing a VPN's shared address space does not open Alibaba's metadata inside it.
    assert check_address("100.64.1.2", allow=nets("100.64.0.0/10"))
    assert refused("100.100.100.200", allow=nets("100.64.0.0/10"))
    assert check_address("169.254.169.254", allow=nets("169.254.169.254/32"))
    assert check_address("::ffff:169.254.169.254", allow=nets("169.254.169.254/32"))
    assert refused("169.254.169.253", allow=nets("169.254.169.254/32"))


def test_deny_closes_more_including_the_forms_carrying_it() -> None:
    deny = nets("8.8.8.0/24")
    for address in ("8.8.8.8", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"):
        assert refused(address, deny=deny), address
    assert check_address("8.8.4.4", deny=deny)
    # The translation prefixes being open by default does not undo a deny list.
    assert refused("64:ff9b::808:808", deny=nets("::/0"))


def test_between_deny_and_allow_the_longer_prefix_wins_and_deny_wins_a_tie() -> None:
    assert check_address("10.1.2.3", deny=nets("10.0.0.0/8"), allow=nets("10.1.0.0/16"))
    assert refused("10.2.0.1", deny=nets("10.0.0.0/8"), allow=nets("10.1.0.0/16"))
    assert refused("10.1.2.3", deny=nets("10.1.0.0/16"), allow=nets("10.0.0.0/8"))
    assert check_address("10.2.0.1", deny=nets("10.1.0.0/16"), allow=nets("10.0.0.0/8"))
    assert refused("10.1.2.3", deny=nets("10.0.0.0/8"), allow=nets("10.0.0.0/8"))
    # An egress-only setup: everything denied but one relay.
    relay = {"deny": nets("0.0.0.0/0", "::/0"), "allow": nets("198.51.100.25/32")}
    assert check_address("198.51.100.25", **relay)
    assert refused("8.8.8.8", **relay)


async def test_the_deny_message_names_the_setting(make_settings: Callable[..., Settings]) -> None:
    policy = OutboundPolicy(make_settings(outbound_deny=nets("8.8.8.0/24")))
    error = await refusal_of(policy, "8.8.8.8")
    assert "8.8.8.8, in 8.8.8.0/24" in error.detail and "MAILGATE_OUTBOUND_DENY" in error.detail
    assert "MAILGATE_OUTBOUND_ALLOW" in error.detail


def test_the_policy_reads_ranges_as_it_compares_them(make_settings: Callable[..., Settings]) -> None:
    # An IPv4-mapped range means its IPv4 range; a zone in a range means nothing.
    policy = OutboundPolicy(make_settings(outbound_allow=nets("::ffff:127.0.0.0/104", "fe80::%eth0/64")))
    assert policy.allows("127.0.0.1") and policy.allows("::ffff:127.0.0.1")
    assert policy.allows("fe80::1%eth1")
    assert not policy.allows("10.0.0.1")
    from_env = Settings.from_env(
        {"MAILGATE_OUTBOUND_ALLOW": "127.0.0.0/8, ::1", "MAILGATE_OUTBOUND_DENY": ""}
    )
    assert OutboundPolicy(from_env).allows("::1") and not OutboundPolicy(from_env).allows("::2")


# --- resolution ------------------------------------------------------------------------------


async def test_resolve_checks_every_address(settings: Settings) -> None:
    policy = OutboundPolicy(settings, resolver=fake_resolver)
    assert await policy.resolve("mail.test", 25) == ["127.0.0.1"]
    with pytest.raises(PolicyRefused) as info:
        await policy.resolve("mixed.test", 25)  # one good and one refused address: refused
    assert info.value.address == "169.254.169.254"
    assert "mixed.test resolves to 169.254.169.254" in info.value.detail


async def test_resolve_asks_once_and_returns_canonical_unique_addresses(default_settings: Settings) -> None:
    resolver = Resolver({"dual.test": ["::ffff:8.8.8.8", "8.8.8.8", "2606:4700::1111", "8.8.8.8"]})
    policy = OutboundPolicy(default_settings, resolver)
    assert await policy.resolve("DUAL.test", 25) == ["8.8.8.8", "2606:4700::1111"]
    assert resolver.asked == ["dual.test"]


async def test_ip_literals_skip_the_resolver(settings: Settings) -> None:
    resolver = Resolver({})
    policy = OutboundPolicy(settings, resolver=resolver)
    assert await policy.resolve("127.0.0.1", 25) == ["127.0.0.1"]
    assert await policy.resolve("[::1]", 25) == ["::1"]
    with pytest.raises(PolicyRefused):
        await policy.resolve("169.254.169.254", 80)
    assert resolver.asked == []


async def test_resolve_errors(settings: Settings) -> None:
    with pytest.raises(ResolveError, match=r"could not resolve nowhere\.test"):
        await OutboundPolicy(settings, resolver=fake_resolver).resolve("nowhere.test", 25)
    with pytest.raises(ResolveError, match="has no address"):
        await OutboundPolicy(settings, resolver=Resolver({"empty.test": []})).resolve("empty.test", 25)
    with pytest.raises(ResolveError, match="not an IP address"):
        await OutboundPolicy(settings, resolver=Resolver({"odd.test": ["mail.test"]})).resolve("odd.test", 25)


# --- TLS trust ---------------------------------------------------------------------------------


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
