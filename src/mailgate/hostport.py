"""`host:port` as ZITADEL stores SMTP hosts: split and joined the way Go's net package does."""

from __future__ import annotations


def split_host_port(value: str) -> tuple[str, int]:
    """("host", port) for "host:port" or "[v6]:port"; ValueError saying what is wrong otherwise."""
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or value[end + 1 : end + 2] != ":":
            raise ValueError("missing port in address")
        host, port = value[1:end], value[end + 2 :]
    else:
        host, sep, port = value.rpartition(":")
        if not sep:
            raise ValueError("missing port in address")
        if ":" in host:
            raise ValueError("too many colons in address (put an IPv6 address in brackets)")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError("missing or invalid host or port")
    return host, int(port)


def parse_host_port(value: str) -> tuple[str, int] | None:
    """Like split_host_port, but None where the value is no valid "host:port"."""
    try:
        return split_host_port(value)
    except ValueError:
        return None


def join_host_port(host: str, port: int) -> str:
    """ "host:port", with an IPv6 address in brackets ("[::1]:25"), as Go's net.JoinHostPort writes it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
