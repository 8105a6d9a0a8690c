"""Which request header becomes which call metadata on each HTTP transport, and the shared header parsers."""

from __future__ import annotations

import pytest

from mailgate.transports.metadata import (
    CONNECT,
    GATEWAY,
    GRPC_WEB,
    OKTA,
    BadTimeout,
    HeaderRules,
    parse_connect_timeout,
    parse_grpc_timeout,
)

# One request's headers as an ASGI server hands them over: lowercase names, raw bytes.
HEADERS = [
    (b"host", b"mailgate.example"),
    (b"authorization", b"Bearer t0ken"),
    (b"content-type", b"application/json"),
    (b"content-length", b"17"),
    (b"user-agent", b"curl/8"),
    (b"grpc-metadata-x-request-id", b"r-1"),
    (b"grpc-metadata-trace-bin", b"AAEC"),
    (b"x-zitadel-orgid", b"org-1"),
    (b"x-custom", b"c"),
    (b"trace-bin", b"AAEC"),
    (b"sec-fetch-mode", b"cors"),
    (b"x-grpc-web", b"1"),
    (b"connect-protocol-version", b"1"),
    (b"grpc-timeout", b"5S"),
    (b"connect-timeout-ms", b"2500"),
]


@pytest.mark.parametrize(
    ("rules", "metadata", "time_left"),
    [
        (
            GATEWAY,  # grpc-gateway's DefaultHeaderMatcher and ZITADEL's x-zitadel-*: an allow-list
            {
                "authorization": "Bearer t0ken",
                "grpcgateway-authorization": "Bearer t0ken",
                "grpcgateway-host": "mailgate.example",
                "grpcgateway-content-type": "application/json",
                "grpcgateway-user-agent": "curl/8",
                "x-request-id": "r-1",
                "x-zitadel-orgid": "org-1",
            },
            5.0,
        ),
        (
            GRPC_WEB,  # every header but the exchange's: a deny-list
            {
                "authorization": "Bearer t0ken",
                "grpc-metadata-x-request-id": "r-1",
                "x-zitadel-orgid": "org-1",
                "x-custom": "c",
                "connect-protocol-version": "1",
                "connect-timeout-ms": "2500",
            },
            5.0,
        ),
        (
            CONNECT,  # grpc-web's, and Connect's own headers are not metadata
            {
                "authorization": "Bearer t0ken",
                "grpc-metadata-x-request-id": "r-1",
                "x-zitadel-orgid": "org-1",
                "x-custom": "c",
            },
            2.5,
        ),
        (OKTA, {"authorization": "Bearer t0ken"}, None),
    ],
)
def test_each_transport_forwards_its_own_headers(
    rules: HeaderRules, metadata: dict[str, str], time_left: float | None
) -> None:
    incoming = rules.read(HEADERS)
    assert incoming.metadata == metadata
    assert incoming.content_length == 17
    assert rules.time_left(incoming) == time_left


def test_timeouts_and_lengths_that_do_not_parse() -> None:
    assert parse_grpc_timeout("500m") == 0.5
    assert parse_grpc_timeout("2H") == 7200
    assert parse_connect_timeout("0") == 0
    assert parse_grpc_timeout(" 3S ") == 3  # surrounding blanks are no part of the value
    for bad in ("forever", "123456789S", "5s", "5", "-1S"):
        with pytest.raises(BadTimeout, match="invalid grpc-timeout"):
            parse_grpc_timeout(bad)
    for bad in ("1.5", "12345678901", "-1", ""):
        with pytest.raises(BadTimeout, match="invalid connect timeout value"):
            parse_connect_timeout(bad)
    assert GATEWAY.read([(b"content-length", b"12x")]).content_length is None
    with pytest.raises(BadTimeout):
        GRPC_WEB.time_left(GRPC_WEB.read([(b"grpc-timeout", b"soon")]))
