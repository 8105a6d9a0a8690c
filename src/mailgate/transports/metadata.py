"""Request headers -> call metadata, one named rule per HTTP transport, and the header parsers they share.

grpc-gateway's model: a header matcher per transport says which header becomes which metadata key
(`DefaultHeaderMatcher`, replaced through `WithIncomingHeaderMatcher`), and `authorization` is
always forwarded under its own name, whatever the matcher says. The policies differ on purpose:

- JSON (grpc-gateway with ZITADEL's matcher) forwards an allow-list: the IANA permanent headers as
  `grpcgateway-<name>`, `Grpc-Metadata-<key>` as `<key>`, and ZITADEL's `x-zitadel-*` as they are.
- grpc-web and Connect are gRPC calls carried over HTTP, where every header is metadata, as on native
  gRPC (and as Envoy's grpc_web filter passes them on): they forward all but a deny-list of the
  headers that describe the HTTP exchange, and Connect also keeps its own `connect-*` headers back.
- Okta's API takes nothing but `authorization` and `if-match` (a write's precondition).

What a handler adds to the reply's metadata (a read's `etag`) goes out as response headers of the
same names, on every HTTP transport (`reply_headers`).

Binary (`-bin`) metadata is never forwarded: the pipeline reads text metadata only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from mailgate.errors import MailgateError

HeaderMatcher = Callable[[str], str | None]  # lowercase header name -> metadata key, None: not metadata


class BadTimeout(MailgateError, ValueError):
    """A timeout header that does not parse: the call is refused as INVALID_ARGUMENT with this text."""


_GRPC_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_GRPC_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_CONNECT_TIMEOUT = re.compile(r"[0-9]{1,10}")


def parse_grpc_timeout(value: str) -> float:
    """Grpc-Timeout ("500m", "3S": 1 to 8 digits and a unit) in seconds."""
    found = _GRPC_TIMEOUT.fullmatch(value.strip())
    if found is None:
        raise BadTimeout(f"invalid grpc-timeout: {value!r}")
    return int(found[1]) * _GRPC_TIMEOUT_UNITS[found[2]]


def parse_connect_timeout(value: str) -> float:
    """Connect-Timeout-Ms (1 to 10 digits) in seconds."""
    if not _CONNECT_TIMEOUT.fullmatch(value):
        raise BadTimeout(f"protocol error: invalid connect timeout value: {value!r}")
    return int(value) / 1000


def parse_content_length(value: bytes) -> int | None:
    """A Content-Length value; None when it is not a plain decimal number."""
    return int(value) if value.isdigit() else None


# --- the matchers ---

# IANA permanent headers, which grpc-gateway forwards as `grpcgateway-<name>`.
_PERMANENT = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-language",
        "accept-ranges",
        "authorization",
        "cache-control",
        "content-type",
        "cookie",
        "date",
        "expect",
        "from",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-schedule-tag-match",
        "if-unmodified-since",
        "max-forwards",
        "origin",
        "pragma",
        "referer",
        "user-agent",
        "via",
        "warning",
    }
)
_METADATA_PREFIX = "grpc-metadata-"

# Headers of the HTTP exchange, not of the call: never metadata on grpc-web or Connect.
_EXCHANGE = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "accept",
        "accept-encoding",
        "accept-language",
        "connection",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "origin",
        "referer",
        "user-agent",
        "x-grpc-web",
        "x-user-agent",
        "cookie",
        "grpc-timeout",
        "grpc-encoding",
        "grpc-accept-encoding",
        "cache-control",
        "pragma",
        "content-encoding",
    }
)
_EXCHANGE_PREFIXES = ("sec-", ":")


def gateway_header(name: str) -> str | None:
    """grpc-gateway's DefaultHeaderMatcher with ZITADEL's `x-zitadel-*` added, as ZITADEL's gateway has it."""
    if name in _PERMANENT:
        return "grpcgateway-" + name
    if name.startswith(_METADATA_PREFIX):
        return None if name.endswith("-bin") else name[len(_METADATA_PREFIX) :]
    if name.startswith("x-zitadel-"):
        return name
    return None


def grpc_web_header(name: str) -> str | None:
    """Every header under its own name, except those of the HTTP exchange and binary ones."""
    if name in _EXCHANGE or name.endswith("-bin") or name.startswith(_EXCHANGE_PREFIXES):
        return None
    return name


def connect_header(name: str) -> str | None:
    """As grpc-web, and Connect's own `connect-*` protocol headers are not metadata either."""
    return None if name.startswith("connect-") else grpc_web_header(name)


def okta_header(name: str) -> str | None:
    """Besides the `authorization` every transport forwards, only a write's If-Match."""
    return name if name == "if-match" else None


def reply_headers(metadata: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """A reply's metadata as response headers (the values are ASCII: an etag)."""
    return [(key.encode("latin-1"), value.encode("latin-1")) for key, value in metadata.items()]


# --- reading a request's headers ---


@dataclass(frozen=True, slots=True)
class Incoming:
    """What a transport takes from a request's headers."""

    metadata: dict[str, str]
    timeout: str | None  # the raw timeout header, parsed by HeaderRules.time_left
    content_length: int | None


_LENGTH, _TIMEOUT = "content-length", "timeout"  # what a header is, besides metadata
_Plan = tuple[str | None, tuple[str, ...]]  # (_LENGTH, _TIMEOUT or None; the metadata keys it fills)
_PLANS_KEPT = 512  # header names whose plan is remembered: the usual few, not every name a client makes up


@dataclass(frozen=True)
class HeaderRules:
    """One transport's edge: its matcher, and which header (parsed how) carries the call's deadline."""

    matcher: HeaderMatcher
    timeout_header: str | None = None
    parse_timeout: Callable[[str], float] = parse_grpc_timeout
    # What each header name is for, worked out once per name: requests repeat the same few.
    _plans: dict[bytes, _Plan] = field(default_factory=dict, init=False, repr=False, compare=False)

    def read(self, headers: Iterable[tuple[bytes, bytes]]) -> Incoming:
        """Metadata, the raw timeout and the declared Content-Length; for a repeated header the last wins."""
        metadata: dict[str, str] = {}
        timeout = None
        content_length = None
        for raw_name, raw_value in headers:
            role, keys = self._plans.get(raw_name) or self._plan(raw_name)
            if role is _LENGTH:
                content_length = parse_content_length(raw_value)
            elif role is _TIMEOUT:
                timeout = raw_value.decode("latin-1")
            for key in keys:
                metadata[key] = raw_value.decode("latin-1")
        return Incoming(metadata, timeout, content_length)

    def _plan(self, raw_name: bytes) -> _Plan:
        name = raw_name.decode("latin-1")
        if name == self.timeout_header:
            plan: _Plan = (_TIMEOUT, ())
        else:
            role = _LENGTH if name == "content-length" else None
            key = self.matcher(name)
            # grpc-gateway forwards `authorization` whatever the matcher says (and what it says, too).
            keys = ("authorization",) if name == "authorization" else ()
            plan = (role, (*keys, key) if key is not None and key not in keys else keys)
        if len(self._plans) < _PLANS_KEPT:
            self._plans[raw_name] = plan
        return plan

    def time_left(self, incoming: Incoming) -> float | None:
        """The call's deadline in seconds from now (None: none was given); BadTimeout when unreadable."""
        return None if incoming.timeout is None else self.parse_timeout(incoming.timeout)


GATEWAY = HeaderRules(gateway_header, "grpc-timeout")
GRPC_WEB = HeaderRules(grpc_web_header, "grpc-timeout")
CONNECT = HeaderRules(connect_header, "connect-timeout-ms", parse_connect_timeout)
OKTA = HeaderRules(okta_header)
