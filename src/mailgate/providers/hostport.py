"""Split "host:port" the way ZITADEL (Go's net.SplitHostPort) does, with a numeric port."""

from __future__ import annotations


def split_host_port(value: str) -> tuple[str, int] | None:
    """("host", port) for "host:port" or "[v6]:port"; None when the port is missing or invalid."""
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or value[end + 1 : end + 2] != ":":
            return None
        host, port = value[1:end], value[end + 2 :]
    else:
        host, sep, port = value.rpartition(":")
        if not sep or ":" in host:
            return None
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        return None
    return host, int(port)


def join_host_port(host: str, port: int) -> str:
    """ "host:port", with an IPv6 address in brackets ("[::1]:25"), as Go's net.JoinHostPort writes it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
