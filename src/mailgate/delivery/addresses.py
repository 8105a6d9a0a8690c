"""How a host string spells its destination, and which IPv4 addresses an IPv6 address carries.

A host is read the way the system would read it when connecting: every IPv4 spelling inet_aton
accepts (127.1, 0x7f.1, 017700000001, 2130706433), IPv6 literals with or without brackets and
zone, names after the IDNA encoding Python's socket module applies. Spellings the system and
other readers (URL parsers) disagree on, such as a numeric host with a trailing dot, are refused
rather than guessed at.
"""

from __future__ import annotations

import ipaddress
import re
import string

from mailgate.errors import MailgateError

from .special_ranges import IPAddress

IPv4 = ipaddress.IPv4Address
IPv6 = ipaddress.IPv6Address

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_HEX = frozenset(string.hexdigits)
_OCTAL = frozenset(string.octdigits)


class UnreadableHost(MailgateError, ValueError):
    """A host string that is neither an address nor a name mailgate can read one way only."""


def canonical(ip: IPAddress) -> IPAddress:
    """An IPv4-mapped address as the IPv4 address the system connects to; anything else unchanged."""
    if isinstance(ip, IPv6) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def without_zone(ip: IPAddress) -> IPAddress:
    """`ip` without an IPv6 zone id (%eth0): ranges never carry one."""
    return IPv6(int(ip)) if isinstance(ip, IPv6) and ip.scope_id else ip


def read_host(host: str) -> IPAddress | str:
    """The canonical address `host` spells, or the lowercase ASCII name to resolve.

    Raises UnreadableHost for spellings that do not mean one thing.
    """
    if host.startswith("[") and host.endswith("]"):
        return canonical(_literal(host[1:-1], "an IP address in brackets"))
    if ":" in host:
        return canonical(_literal(host, "an IPv6 address"))
    name = _ascii(host).lower()
    labels = name.split(".")
    trailing_dot = len(labels) > 1 and labels[-1] == ""
    if _is_number(labels[-2] if trailing_dot else labels[-1]):
        # A numeric last label makes it an IPv4 address to URL parsers (WHATWG); the system
        # agrees only for what inet_aton reads, and never with a trailing dot.
        address = None if trailing_dot else inet_aton(name)
        if address is None:
            raise UnreadableHost(
                f"{host!r} looks like an IPv4 address but is not one that every reader takes the same "
                "way (write it as four decimal numbers, such as 192.0.2.1)"
            )
        return address
    if not _is_name(labels[:-1] if trailing_dot else labels):
        raise UnreadableHost(f"{host!r} is not a valid host name")
    return name


def parse_literal(text: str) -> IPAddress | None:
    """The canonical address of an IP literal in any spelling `read_host` accepts, else None."""
    try:
        found = read_host(text)
    except UnreadableHost:
        return None
    return found if isinstance(found, IPv4 | IPv6) else None


def inet_aton(text: str) -> IPv4 | None:
    """The IPv4 address inet_aton(3) reads from `text` (1 to 4 numbers, decimal, 0octal or 0xhex)."""
    parts = text.split(".")
    if len(parts) > 4:
        return None
    numbers = [_aton_number(part) for part in parts]
    *head, last = numbers
    if last is None or any(number is None or number > 0xFF for number in head):
        return None
    if last >= 1 << (8 * (5 - len(parts))):  # the last number fills the bytes the others left
        return None
    value = last
    for index, number in enumerate(head):
        value |= (number or 0) << (8 * (3 - index))
    return IPv4(value)


def _aton_number(part: str) -> int | None:
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        return int(digits, 16) if digits and set(digits) <= _HEX else None
    if part.startswith("0"):
        return int(part, 8) if set(part) <= _OCTAL else None
    return int(part) if part.isascii() and part.isdigit() else None


def _literal(text: str, what: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise UnreadableHost(f"{text!r} is not {what}") from None


def _ascii(host: str) -> str:
    if host.isascii():
        return host
    try:
        # What socket.getaddrinfo does with a str host; it also maps full-width digits and dots.
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnreadableHost(f"{host!r} is not a valid host name") from None


def _is_number(label: str) -> bool:
    if label[:2] in ("0x", "0X"):
        return set(label[2:]) <= _HEX
    return label.isascii() and label.isdigit()


def _is_name(labels: list[str]) -> bool:
    return len(".".join(labels)) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


# --- IPv4 addresses inside IPv6 addresses ------------------------------------------------------

_COMPATIBLE = ipaddress.IPv6Network("::/96")
_SIIT = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_ISATAP_ID = 0x00005EFE  # RFC 5214 6.1: interface id 00-00-5E-FE (u/g bits may be set) + IPv4
NAT64_LENGTHS = (32, 40, 48, 56, 64, 96)  # RFC 6052 2.2


def carried_ipv4(ip: IPv6) -> list[tuple[IPv4, str]]:
    """The IPv4 addresses (with how) an IPv6 address reaches through translation or tunnelling.

    Local-use NAT64 is left to the caller: where it carries the address depends on the prefix length.
    """
    found: list[tuple[IPv4, str]] = []
    low = IPv4(int(ip) & 0xFFFFFFFF)
    if ip in _COMPATIBLE and int(ip) > 1:  # :: and ::1 are not IPv4 forms
        found.append((low, "IPv4-compatible"))
    if ip in _SIIT:
        found.append((low, "IPv4-translated (SIIT)"))
    if ip in _NAT64:
        found.append((low, "NAT64"))
    if ip.sixtofour is not None:
        found.append((ip.sixtofour, "6to4"))
    if ip.teredo is not None:
        server, client = ip.teredo
        found += [(server, "Teredo server"), (client, "Teredo client")]
    if (int(ip) >> 32) & 0xFCFFFFFF == _ISATAP_ID:
        found.append((low, "ISATAP"))
    return found


def nat64_ipv4(ip: IPv6, prefix_length: int) -> IPv4 | None:
    """The IPv4 address behind a NAT64 prefix of `prefix_length` bits (RFC 6052 2.2), or None.

    Bits 64 to 71 are the reserved "u" octet, which must be zero and is skipped.
    """
    if prefix_length not in NAT64_LENGTHS:
        return None
    raw = ip.packed
    if prefix_length == 96:
        return IPv4(raw[12:16])
    if raw[8] != 0:
        return None
    payload = raw[:8] + raw[9:]  # the address without the u octet
    start = prefix_length // 8
    return IPv4(payload[start : start + 4])
