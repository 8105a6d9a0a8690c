"""Outbound-address policy (decision 9.9): which addresses mailgate may connect to, and whom it trusts.

Every outgoing connection (SMTP tests, XOAUTH2 token endpoints, later HTTP providers) resolves the
name once, checks every address, and connects to a checked address: no second lookup, so DNS
rebinding cannot swap in a refused address between check and connect.

The decision for one address: the most specific range covering it decides, among the built-in
ranges (special_ranges.py), MAILGATE_OUTBOUND_DENY and MAILGATE_OUTBOUND_ALLOW. Any allow range
beats a built-in refusal except a pinned one (cloud metadata), which only an allow range at least
as specific opens; between deny and allow the longer prefix wins, deny on a tie. An IPv6 address
that carries an IPv4 address (NAT64, 6to4, Teredo, ...) must pass both as itself and as what it
carries; an IPv4-mapped address is simply its IPv4 address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from mailgate.config import Settings
from mailgate.errors import FailedPrecondition, MailgateError

from .addresses import (
    UnreadableHost,
    canonical,
    carried_ipv4,
    nat64_ipv4,
    parse_literal,
    read_host,
    without_zone,
)
from .special_ranges import NAT64_LOCAL_USE, IPAddress, IPNetwork, Kind, SpecialRange, special_range

# An async name lookup: (host, port) -> IP address strings. Tests inject one to map a name to any
# address; the default asks the event loop's getaddrinfo (run in a thread, never blocking the loop).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

POLICY_REFUSED_ID = "MG-OUTBOUND-REFUSED"
POLICY_REFUSED_TEXT = (
    "the outbound-address policy refuses this address (loopback, private networks and other "
    "special-purpose ranges are refused unless MAILGATE_OUTBOUND_ALLOW opens them)"
)
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_ip(text: str) -> IPAddress | None:
    """The address an IP literal spells, in any form the system reads (127.1, [::1], fe80::1%eth0).

    IPv4-mapped literals give their IPv4 address; a name, or an unreadable spelling, gives None.
    """
    return parse_literal(text.strip())


class Origin(Enum):
    """What decided about an address."""

    DEFAULT = "the built-in ranges"
    DENY = "MAILGATE_OUTBOUND_DENY"
    ALLOW = "MAILGATE_OUTBOUND_ALLOW"


@dataclass(frozen=True)
class Verdict:
    """The decision for one address (without zone) and the range that made it (None: no range did)."""

    address: IPAddress
    allowed: bool
    origin: Origin | None = None
    network: IPNetwork | None = None
    special: SpecialRange | None = None


def _covers(network: IPNetwork, ip: IPAddress) -> bool:
    return network.version == ip.version and ip in network


def decide(ip: IPAddress, deny: Iterable[IPNetwork] = (), allow: Iterable[IPNetwork] = ()) -> Verdict:
    """The verdict for `ip` alone, not for what it carries; the most specific range decides."""
    bare = without_zone(ip)
    special = special_range(bare)
    # (strength, tie rank, origin, network): the highest wins. Ordinary built-in refusals have
    # strength -1, so any allow range covering the address beats them.
    candidates: list[tuple[int, int, Origin, IPNetwork]] = []
    if special is not None and special.kind is not Kind.TRANSLATION:
        strength = special.network.prefixlen if special.kind is Kind.PINNED else -1
        candidates.append((strength, 0, Origin.DEFAULT, special.network))
    candidates += [(net.prefixlen, 1, Origin.ALLOW, net) for net in allow if _covers(net, bare)]
    candidates += [(net.prefixlen, 2, Origin.DENY, net) for net in deny if _covers(net, bare)]
    if not candidates:
        return Verdict(bare, True, special=special)
    _, _, origin, network = max(candidates, key=lambda candidate: candidate[:2])
    return Verdict(bare, origin is Origin.ALLOW, origin, network, special)


@dataclass(frozen=True)
class Refusal:
    """Why an address is refused: its own verdict, or that of an IPv4 address it carries."""

    verdict: Verdict
    carried: str = ""  # how the refused IPv4 address is carried ("6to4"); "" for the address itself
    problem: str = ""  # why the carried address cannot be read, when that is the reason

    def describe(self, subject: str) -> str:
        """English for the report: `subject` (the address as the caller named it), range, setting."""
        verdict = self.verdict
        text = f"{subject}, which carries {verdict.address} ({self.carried})" if self.carried else subject
        if self.problem:
            return f"{text}: {self.problem}; the outbound-address policy refuses it"
        network = verdict.network
        if verdict.origin is Origin.DENY:
            return (
                f"{text}, in {network}, which the outbound-address policy refuses (MAILGATE_OUTBOUND_DENY); "
                "only a narrower MAILGATE_OUTBOUND_ALLOW range would allow it"
            )
        name = verdict.special.name if verdict.special else "refused"
        if network == NAT64_LOCAL_USE:
            hint = "MAILGATE_OUTBOUND_ALLOW set to your NAT64 prefix (for example 64:ff9b:1::/96)"
        else:
            hint = f"MAILGATE_OUTBOUND_ALLOW={network}"
        return (
            f"{text}, in {network} ({name}), which the outbound-address policy refuses by default; "
            f"{hint} would allow it"
        )


_UNLOCATABLE = (
    "the IPv4 address it carries cannot be located (the MAILGATE_OUTBOUND_ALLOW range opening "
    "local-use NAT64 must be the NAT64 prefix: /48, /56, /64 or /96, with bits 64-71 zero)"
)


def _carried(
    address: ipaddress.IPv6Address, verdict: Verdict
) -> list[tuple[ipaddress.IPv4Address, str]] | None:
    """The IPv4 addresses `address` carries; None if it is local-use NAT64 and they cannot be located."""
    carried = carried_ipv4(address)
    if address in NAT64_LOCAL_USE:
        # Only the allow range that opened it can say the operator's prefix length.
        inner = nat64_ipv4(address, verdict.network.prefixlen if verdict.network else 0)
        if inner is None:
            return None
        carried.append((inner, "local-use NAT64"))
    return carried


def refusal(ip: IPAddress, deny: Iterable[IPNetwork] = (), allow: Iterable[IPNetwork] = ()) -> Refusal | None:
    """Why a connection may not reach `ip`, or None if it may."""
    deny, allow = tuple(deny), tuple(allow)
    verdict = decide(canonical(ip), deny, allow)
    if not verdict.allowed:
        return Refusal(verdict)
    if isinstance(verdict.address, ipaddress.IPv6Address):
        carried = _carried(verdict.address, verdict)
        if carried is None:
            return Refusal(verdict, problem=_UNLOCATABLE)
        for inner, how in carried:
            inner_verdict = decide(inner, deny, allow)
            if not inner_verdict.allowed:
                return Refusal(inner_verdict, how)
    return None


def check_address(
    ip: IPAddress | str,
    deny: Iterable[IPNetwork] = (),
    allow: Iterable[IPNetwork] = (),
) -> bool:
    """True if a connection may reach `ip` under the built-in ranges and these deny/allow lists."""
    address = parse_ip(ip) if isinstance(ip, str) else ip
    return address is not None and refusal(address, deny, allow) is None


def plain_network(network: IPNetwork) -> IPNetwork:
    """A configured range as the policy compares it: no zone, IPv4-mapped ranges as IPv4 ranges."""
    if isinstance(network, ipaddress.IPv4Network):
        return network
    start = int(network.network_address)
    if network.prefixlen >= 96 and ipaddress.IPv6Address(start) in _MAPPED:
        return ipaddress.IPv4Network((start & 0xFFFFFFFF, network.prefixlen - 96))
    return ipaddress.IPv6Network((start, network.prefixlen))


class PolicyRefused(FailedPrecondition):
    """An address the outbound-address policy refuses; nothing was sent to it.

    The message is `detail`: it names the address, the range and the setting that would allow it.
    """

    def __init__(self, target: str, address: str, detail: str) -> None:
        super().__init__(POLICY_REFUSED_ID, detail)
        self.target = target
        self.address = address
        self.detail = detail


class ResolveError(MailgateError):
    """The name could not be resolved to any address; `detail` says why in English."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def _getaddrinfo(host: str, port: int) -> list[str]:
    """Resolve with the event loop's getaddrinfo (in its executor, so the loop keeps running)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class OutboundPolicy:
    """The deny/allow lists from settings, a resolver, and the TLS trust used for outgoing connections."""

    def __init__(self, settings: Settings, resolver: Resolver | None = None) -> None:
        self._deny = tuple(plain_network(net) for net in settings.outbound_deny)
        self._allow = tuple(plain_network(net) for net in settings.outbound_allow)
        self._ca_file: Path | None = settings.smtp_ca_file
        self._resolver: Resolver = resolver or _getaddrinfo
        self._tls: dict[str, ssl.SSLContext] = {}
        # Many tests may start at once: build each context once, not once per waiting test.
        self._tls_lock = asyncio.Lock()

    def allows(self, ip: IPAddress | str) -> bool:
        """True if this policy lets an outgoing connection reach `ip`."""
        return check_address(ip, self._deny, self._allow)

    async def resolve(self, host: str, port: int) -> list[str]:
        """Resolve `host` once; its addresses (canonical literals), or PolicyRefused if any is refused.

        Refusing the whole name (not just filtering) keeps a name that mixes a public and a
        metadata address from working sometimes; ResolveError when nothing resolves.
        """
        try:
            spelled = read_host(host.strip())
        except UnreadableHost as exc:
            raise PolicyRefused(host, "", f"{exc}; the outbound-address policy refuses it") from None
        if isinstance(spelled, str):
            addresses = await self._lookup(spelled, port)
            subjects = [f"{host} resolves to {address}" for address in addresses]
        else:
            addresses = [spelled]
            literal = host.strip().removeprefix("[").removesuffix("]")
            subjects = [str(spelled) if literal == str(spelled) else f"{host} is {spelled}"]
        for address, subject in zip(addresses, subjects, strict=True):
            found = refusal(address, self._deny, self._allow)
            if found is not None:
                raise PolicyRefused(host, str(address), found.describe(subject))
        return [str(address) for address in addresses]

    async def _lookup(self, name: str, port: int) -> list[IPAddress]:
        try:
            found = await self._resolver(name, port)
        except OSError as exc:  # socket.gaierror and friends
            raise ResolveError(f"could not resolve {name}: {exc.strerror or exc}") from None
        addresses: list[IPAddress] = []
        for text in found:
            address = parse_ip(text)
            if address is None:
                raise ResolveError(f"{name} resolved to {text!r}, which is not an IP address")
            if address not in addresses:  # unique, in resolver order
                addresses.append(address)
        if not addresses:
            raise ResolveError(f"{name} has no address")
        return addresses

    async def tls_context(self, purpose: str = "smtp") -> ssl.SSLContext:
        """Client TLS context: system CAs plus MAILGATE_SMTP_CA_FILE; certificate and name always checked.

        One context per `purpose` ("smtp", "http"): HTTP clients set ALPN on theirs, and an SMTP
        handshake must never offer http/1.1 (servers may refuse cross-protocol ALPN).
        """
        async with self._tls_lock:
            context = self._tls.get(purpose)
            if context is None:
                # Loading CA bundles reads files and costs CPU; once per purpose, off the event loop.
                context = self._tls[purpose] = await asyncio.to_thread(_build_tls_context, self._ca_file)
            return context


def _build_tls_context(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # create_default_context already sets these; stated so no later edit can weaken them.
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context
