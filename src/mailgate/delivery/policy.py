"""Outbound-address policy (decision 9.9): which addresses mailgate may connect to, and whom it trusts.

Every outgoing connection (SMTP tests, XOAUTH2 token endpoints, later HTTP providers) resolves the
name once, checks every address, and connects to a checked address: no second lookup, so DNS
rebinding cannot swap in a refused address between check and connect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path

import grpc

from mailgate.config import Settings
from mailgate.errors import ApiError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# An async name lookup: (host, port) -> IP address strings. Tests inject one to map a name to any
# address; the default asks the event loop's getaddrinfo (run in a thread, never blocking the loop).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

POLICY_REFUSED_ID = "MG-OUTBOUND-REFUSED"
POLICY_REFUSED_TEXT = "the outbound-address policy does not allow connecting to this address"

# Refused unless MAILGATE_OUTBOUND_ALLOW names them: places an outgoing connection must never reach
# by default, because they expose the host itself or its cloud platform (SSRF targets).
DEFAULT_REFUSED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # IPv4 link-local, includes the 169.254.169.254 metadata service
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "0.0.0.0/8",  # "this network": 0.0.0.0 reaches the local host on Linux
        "::/128",  # unspecified
        "224.0.0.0/4",  # IPv4 multicast
        "ff00::/8",  # IPv6 multicast
        "255.255.255.255/32",  # limited broadcast
    )
)

# IPv6 forms that carry an IPv4 address in their low 32 bits and may reach it: IPv4-mapped
# (::ffff:0:0/96), the NAT64 well-known prefix (64:ff9b::/96, RFC 6052) and the deprecated
# IPv4-compatible form (::/96, still routed by some stacks through a sit tunnel).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


class PolicyRefused(ApiError):
    """An address the outbound-address policy refuses; nothing was sent to it."""

    def __init__(self, target: str, address: str) -> None:
        super().__init__(grpc.StatusCode.FAILED_PRECONDITION, POLICY_REFUSED_ID, POLICY_REFUSED_TEXT)
        self.target = target
        self.address = address

    @property
    def detail(self) -> str:
        """English explanation naming the refused address (for reports, never for secrets)."""
        return (
            f"{self.target} resolves to {self.address}, which the outbound-address policy refuses "
            "(MAILGATE_OUTBOUND_ALLOW can allow it)"
        )


class ResolveError(Exception):
    """The name could not be resolved to any address; `detail` says why in English."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def parse_ip(text: str) -> IPAddress | None:
    """The IP address `text` spells (brackets and an IPv6 zone allowed), or None for a name."""
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _forms(ip: IPAddress) -> list[IPAddress]:
    """The address itself plus the IPv4 address it reaches through a mapped or NAT64 form."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    ip = ipaddress.IPv6Address(int(ip))  # drop a zone id such as %eth0: ranges never carry one
    forms: list[IPAddress] = [ip]
    if ip.ipv4_mapped is not None:
        forms.append(ip.ipv4_mapped)
    elif ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):  # :: and ::1 are not IPv4 forms
        forms.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return forms


def _within(ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def check_address(
    ip: IPAddress | str,
    deny: Iterable[IPNetwork] = (),
    allow: Iterable[IPNetwork] = (),
) -> bool:
    """True if a connection may reach `ip`: not refused (default or `deny`), or covered by `allow`."""
    address = parse_ip(ip) if isinstance(ip, str) else ip
    if address is None:
        return False
    refused = (*DEFAULT_REFUSED, *deny)
    allowed = tuple(allow)
    # Allow wins, but per form: allowing 169.254.0.0/16 also allows ::ffff:169.254.x.y.
    return not any(_within(form, refused) and not _within(form, allowed) for form in _forms(address))


async def _getaddrinfo(host: str, port: int) -> list[str]:
    """Resolve with the event loop's getaddrinfo (in its executor, so the loop keeps running)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class OutboundPolicy:
    """The deny/allow lists from settings, a resolver, and the TLS trust used for outgoing connections."""

    def __init__(self, settings: Settings, resolver: Resolver | None = None) -> None:
        self._deny = settings.outbound_deny
        self._allow = settings.outbound_allow
        self._ca_file: Path | None = settings.smtp_ca_file
        self._resolver: Resolver = resolver or _getaddrinfo
        self._tls: dict[str, ssl.SSLContext] = {}
        # Many tests may start at once: build each context once, not once per waiting test.
        self._tls_lock = asyncio.Lock()

    def allows(self, ip: IPAddress | str) -> bool:
        """True if this policy lets an outgoing connection reach `ip`."""
        return check_address(ip, self._deny, self._allow)

    async def resolve(self, host: str, port: int) -> list[str]:
        """Resolve `host` once and return its addresses; raise PolicyRefused if any one is refused.

        Refusing the whole name (not just filtering) keeps a name that mixes a public and a
        metadata address from working sometimes; ResolveError when nothing resolves.
        """
        literal = parse_ip(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                found = await self._resolver(host, port)
            except OSError as exc:  # socket.gaierror and friends
                raise ResolveError(f"could not resolve {host}: {exc.strerror or exc}") from None
            addresses = list(dict.fromkeys(found))  # unique, in resolver order
            if not addresses:
                raise ResolveError(f"{host} has no address")
        for address in addresses:
            if not self.allows(address):
                raise PolicyRefused(host, address)
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
