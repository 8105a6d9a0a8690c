"""The address ranges outgoing connections may not reach by default (decision 9.9), with their sources.

Sources: IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates), IANA's
IPv4 Multicast and IPv6 Address Space registries, and the cloud providers' metadata addresses.
Every special-purpose block is refused, also those IANA marks globally reachable (anycast
relays, DNS sinks, identifiers): none is where a mail server or token endpoint lives, and some
(PCP and TURN anycast) answer on the host's own gateway. The translation prefixes stay open
because ordinary traffic uses them; policy.py checks the IPv4 address they carry instead.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Kind(Enum):
    """How a built-in range is treated."""

    REFUSED = "refused"  # refused unless any MAILGATE_OUTBOUND_ALLOW range covers the address
    PINNED = "pinned"  # refused unless an allow range at least this specific covers it
    TRANSLATION = "translation"  # open itself; the IPv4 address it carries decides


@dataclass(frozen=True)
class SpecialRange:
    """A built-in range: its network, what it is, where it is defined, and how it is treated."""

    network: IPNetwork
    name: str
    source: str
    kind: Kind = Kind.REFUSED


def _r(network: str, name: str, source: str, kind: Kind = Kind.REFUSED) -> SpecialRange:
    return SpecialRange(ipaddress.ip_network(network), name, source, kind)


_V4 = "IANA IPv4 special-purpose registry"
_V6 = "IANA IPv6 special-purpose registry"
_SPACE = "IANA IPv6 address space registry"

# Longest prefix wins among these (policy.py), so nested entries name an address precisely.
SPECIAL_RANGES: tuple[SpecialRange, ...] = (
    # IPv4 special-purpose registry. 0.0.0.0/8 includes 0.0.0.0/32, which Linux connects to the host.
    _r("0.0.0.0/8", '"this network"', f"{_V4}, RFC 791"),
    _r("10.0.0.0/8", "private network", f"{_V4}, RFC 1918"),
    _r("100.64.0.0/10", "shared address space, carrier-grade NAT", f"{_V4}, RFC 6598"),
    _r("127.0.0.0/8", "loopback", f"{_V4}, RFC 1122"),
    _r("169.254.0.0/16", "link-local", f"{_V4}, RFC 3927"),
    _r("172.16.0.0/12", "private network", f"{_V4}, RFC 1918"),
    # Includes 192.0.0.0/29 (DS-Lite, RFC 7335), 192.0.0.8/32 (dummy, RFC 7600), 192.0.0.9/32 (PCP
    # anycast, RFC 7723), 192.0.0.10/32 (TURN anycast, RFC 8155), 192.0.0.170-171 (NAT64 discovery, RFC 8880).
    _r("192.0.0.0/24", "IETF protocol assignments", f"{_V4}, RFC 6890"),
    _r("192.0.2.0/24", "documentation, TEST-NET-1", f"{_V4}, RFC 5737"),
    _r("192.31.196.0/24", "AS112 DNS sink", f"{_V4}, RFC 7535"),
    _r("192.52.193.0/24", "AMT relay anycast", f"{_V4}, RFC 7450"),
    # Includes 192.88.99.2/32, the 6a44 relay anycast address (RFC 6751).
    _r("192.88.99.0/24", "deprecated 6to4 relay anycast", f"{_V4}, RFC 7526"),
    _r("192.168.0.0/16", "private network", f"{_V4}, RFC 1918"),
    _r("192.175.48.0/24", "AS112 direct delegation DNS sink", f"{_V4}, RFC 7534"),
    _r("198.18.0.0/15", "benchmarking", f"{_V4}, RFC 2544"),
    _r("198.51.100.0/24", "documentation, TEST-NET-2", f"{_V4}, RFC 5737"),
    _r("203.0.113.0/24", "documentation, TEST-NET-3", f"{_V4}, RFC 5737"),
    _r("224.0.0.0/4", "multicast", "IANA IPv4 multicast address space registry, RFC 5771"),
    _r("240.0.0.0/4", "reserved", f"{_V4}, RFC 1112"),
    _r("255.255.255.255/32", "limited broadcast", f"{_V4}, RFC 919"),
    # Cloud metadata and platform endpoints: pinned, so allowing their whole network (say
    # 169.254.0.0/16, or 100.64.0.0/10 for a VPN) does not open them by accident.
    _r("169.254.169.254/32", "cloud metadata: AWS, GCP, Azure, OCI", "provider docs", Kind.PINNED),
    _r("169.254.170.2/32", "AWS ECS task credentials", "AWS documentation", Kind.PINNED),
    _r("169.254.170.23/32", "AWS EKS Pod Identity credentials", "AWS documentation", Kind.PINNED),
    _r("100.100.100.200/32", "Alibaba Cloud metadata", "Alibaba Cloud documentation", Kind.PINNED),
    _r("168.63.129.16/32", "Azure platform endpoint (WireServer)", "Azure documentation", Kind.PINNED),
    # IPv6 address space registry: everything outside global unicast 2000::/3 is reserved by the
    # IETF, unique-local, link-local, site-local or multicast.
    _r("::/3", "reserved by the IETF", f"{_SPACE}, RFC 4291"),
    _r("4000::/2", "reserved by the IETF", f"{_SPACE}, RFC 4291"),
    _r("8000::/1", "reserved by the IETF", f"{_SPACE}, RFC 4291"),
    _r("::/128", "unspecified", f"{_V6}, RFC 4291"),
    _r("::1/128", "loopback", f"{_V6}, RFC 4291"),
    # ::ffff:0:0/96 (IPv4-mapped) never reaches here: policy.py decides those as the IPv4 address.
    _r("::/96", "deprecated IPv4-compatible form", "RFC 4291 section 2.5.5.1"),
    _r("::ffff:0:0:0/96", "SIIT IPv4-translated form", "RFC 2765"),
    _r("64:ff9b::/96", "NAT64 well-known prefix", f"{_V6}, RFC 6052", Kind.TRANSLATION),
    # Local-use NAT64: where the IPv4 address sits depends on the operator's prefix length, which
    # only the allow range that opens it can say (policy.py).
    _r("64:ff9b:1::/48", "local-use NAT64", f"{_V6}, RFC 8215", Kind.PINNED),
    _r("100::/64", "discard-only", f"{_V6}, RFC 6666"),
    _r("100:0:0:1::/64", "dummy prefix", f"{_V6}, RFC 9780"),
    # Includes 2001:1::1-3 (PCP, TURN and DNS-SD SRP anycast), 2001:2::/48 (benchmarking, RFC 5180),
    # 2001:3::/32 (AMT), 2001:4:112::/48 (AS112-v6), 2001:10::/28 and 2001:20::/28 (ORCHID),
    # 2001:30::/28 (drone remote ID tags).
    _r("2001::/23", "IETF protocol assignments", f"{_V6}, RFC 2928"),
    _r("2001::/32", "Teredo", f"{_V6}, RFC 4380", Kind.TRANSLATION),
    _r("2001:2::/48", "benchmarking", f"{_V6}, RFC 5180"),
    _r("2001:db8::/32", "documentation", f"{_V6}, RFC 3849"),
    _r("2002::/16", "6to4", f"{_V6}, RFC 3056", Kind.TRANSLATION),
    _r("2620:4f:8000::/48", "AS112 direct delegation DNS sink", f"{_V6}, RFC 7534"),
    _r("3fff::/20", "documentation", f"{_V6}, RFC 9637"),
    _r("5f00::/16", "SRv6 segment identifiers", f"{_V6}, RFC 9602"),
    _r("fc00::/7", "unique-local private network", f"{_V6}, RFC 4193"),
    _r("fe80::/10", "link-local", f"{_V6}, RFC 4291"),
    _r("fec0::/10", "deprecated site-local", f"{_SPACE}, RFC 3879"),
    _r("ff00::/8", "multicast", f"{_SPACE}, RFC 4291"),
    _r("fd00:ec2::254/128", "AWS metadata over IPv6", "AWS documentation", Kind.PINNED),
    _r("fd00:ec2::23/128", "AWS EKS Pod Identity credentials over IPv6", "AWS documentation", Kind.PINNED),
)

NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def special_range(ip: IPAddress) -> SpecialRange | None:
    """The most specific built-in range holding `ip` (an address without zone), or None."""
    found = [entry for entry in SPECIAL_RANGES if entry.network.version == ip.version and ip in entry.network]
    return max(found, key=lambda entry: entry.network.prefixlen, default=None)
