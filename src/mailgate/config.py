"""Every MAILGATE_* setting, parsed and checked once at startup."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import idna
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from mailgate.errors import MailgateError

T = TypeVar("T")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(MailgateError):
    """A setting has a value we cannot use; the message names the setting."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


_CERT, _KEY = "MAILGATE_TLS_CERT_FILE", "MAILGATE_TLS_KEY_FILE"
MAX_DELIVERY_WORKERS = 1000
MAX_ATTEMPTS = 50  # as SendEmail's own max_attempts rule


@dataclass(frozen=True)
class ServerTls:
    """The certificate chain and private key both listeners serve TLS with."""

    cert_file: Path
    key_file: Path

    def load(self) -> tuple[bytes, bytes]:
        """(chain PEM, key PEM), checked to be a usable pair; ConfigError naming the setting if not."""
        cert_pem, key_pem = _read_file(_CERT, self.cert_file), _read_file(_KEY, self.key_file)
        try:
            leaf = x509.load_pem_x509_certificates(cert_pem)[0]
        except ValueError:
            raise ConfigError(_CERT, f"{self.cert_file} holds no PEM certificate") from None
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except TypeError:
            raise ConfigError(_KEY, f"{self.key_file} is encrypted: give the key unencrypted") from None
        except (ValueError, UnsupportedAlgorithm):
            raise ConfigError(_KEY, f"{self.key_file} holds no PEM private key") from None
        if _public_der(key.public_key()) != _public_der(leaf.public_key()):
            raise ConfigError(_KEY, f"{self.key_file} is not the key of the certificate in {self.cert_file}")
        # OpenSSL has the last word: what it refuses here, no listener could serve.
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(self.cert_file, self.key_file)
        except ssl.SSLError as exc:
            raise ConfigError(_CERT, f"{self.cert_file} cannot be served: {exc}") from None
        return cert_pem, key_pem


def _read_file(name: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(name, f"{path} cannot be read: {exc.strerror or exc}") from None


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _text(value: str) -> str:
    return value


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("must be a number of seconds greater than 0")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a whole number greater than 0")
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be a whole number, 0 or more")
    return number


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


DELIVERY_PROCESSES = ("child", "inline")


def _delivery_process(value: str) -> str:
    mode = value.strip().lower()
    if mode not in DELIVERY_PROCESSES:
        raise ValueError("must be child or inline")
    return mode


def _nice(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 19:
        raise ValueError("must be a whole number from 0 to 19")
    return number


def _duration(value: str) -> float:
    """Seconds, written as a number of seconds or with a unit: 90, 90s, 15m, 12h, 7d."""
    text = value.strip().lower()
    unit = _UNITS.get(text[-1:], 0)
    problem = "must be a duration greater than 0: seconds, or a number with s, m, h or d (7d)"
    try:
        number = float(text[:-1] if unit else text) * (unit or 1)
    except ValueError:
        raise ValueError(problem) from None
    if not 0 < number < float("inf"):
        raise ValueError(problem)
    return number


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _address(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("must be host:port, for example 0.0.0.0:50051")
    return value


def _networks(value: str) -> tuple[IPNetwork, ...]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _origins(value: str) -> tuple[str, ...]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if "*" in items:
        if len(items) > 1:
            raise ValueError("'*' already allows every origin; give it alone or list origins without it")
        return ("*",)
    return tuple(_origin(item) for item in items)


_DEFAULT_PORTS = {"http": 80, "https": 443}
_PORT = re.compile(r"[0-9]{1,5}")


def _origin(text: str) -> str:
    """`text` as the browser serializes an Origin header: lowercase, default port left out, IDN in ASCII."""
    try:
        return _serialized_origin(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an origin of the form scheme://host[:port]: {exc}") from None


def _serialized_origin(text: str) -> str:
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        raise ValueError("it must start with http:// or https://")
    if "@" in rest:
        raise ValueError("it must not hold a user name or password")
    if any(char in rest for char in "/?#"):
        raise ValueError("nothing may follow the host and port, not even a trailing /")
    host, port = _split_origin_host(rest)
    literal = f"[{_ipv6(host[1:-1])}]" if host.startswith("[") else _hostname(host)
    if port is not None:
        if not _PORT.fullmatch(port) or not 0 < int(port) <= 65535:
            raise ValueError("the port must be a number from 1 to 65535")
        if int(port) == _DEFAULT_PORTS[scheme]:
            port = None
    return f"{scheme}://{literal}" + ("" if port is None else f":{port}")


def _split_origin_host(rest: str) -> tuple[str, str | None]:
    """(host, port or None) of "host[:port]" or "[v6][:port]"; the host keeps its brackets."""
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise ValueError("the IPv6 address has no closing ]")
        host, after = rest[: end + 1], rest[end + 1 :]
        if after and not after.startswith(":"):
            raise ValueError("only a :port may follow the IPv6 address")
        return host, after[1:] if after else None
    host, sep, port = rest.partition(":")
    return host, port if sep else None


def _ipv6(host: str) -> str:
    try:
        if "%" in host:  # a zone id names an interface of this host; no browser sends one
            raise ValueError
        return ipaddress.IPv6Address(host).compressed
    except ValueError:
        raise ValueError(f"[{host}] is not an IPv6 address") from None


def _hostname(host: str) -> str:
    if not host:
        raise ValueError("it has no host")
    try:
        name = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ValueError(f"{host!r} is not a host name or IPv4 address") from None
    if name.rsplit(".", 1)[-1].isdigit():  # browsers read a name ending in a number as IPv4
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv4 address") from None
    return name


def _master_key(value: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 of 32 bytes") from None
    if len(key) != 32:
        raise ValueError(f"must be base64 of 32 bytes, got {len(key)} bytes")
    return key


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be one of debug, info, warning, error")
    return level


def _setting(env: str, parse: Callable[[str], Any], default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "parse": parse, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """The process configuration; build it with `Settings.from_env`."""

    data_dir: Path = _setting(
        "MAILGATE_DATA_DIR",
        Path,
        Path("mailgate-data"),
        "Directory of the embedded SQLite database and key file.",
    )
    database_url: str = _setting(
        "MAILGATE_DATABASE_URL",
        _text,
        "",
        "postgresql://user@host/db to use PostgreSQL instead of the embedded SQLite file.",
    )
    master_key: bytes | None = _setting(
        "MAILGATE_MASTER_KEY",
        _master_key,
        None,
        "Base64 of 32 bytes: the AES-256-GCM key for secrets at rest. Required with PostgreSQL.",
    )
    grpc_addr: str = _setting("MAILGATE_GRPC_ADDR", _address, "0.0.0.0:50051", "Native gRPC listen address.")
    http_addr: str = _setting(
        "MAILGATE_HTTP_ADDR", _address, "0.0.0.0:8080", "HTTP listen address (JSON, grpc-web, Okta API)."
    )
    log_level: str = _setting("MAILGATE_LOG_LEVEL", _log_level, "INFO", "debug, info, warning or error.")
    shutdown_grace: float = _setting(
        "MAILGATE_SHUTDOWN_GRACE",
        _positive_float,
        10.0,
        "Seconds in-flight calls get to finish on SIGTERM/SIGINT.",
    )
    allow_secret_reuse_any_host: bool = _setting(
        "MAILGATE_ALLOW_SECRET_REUSE_ANY_HOST",
        _flag,
        False,
        "Let tests and updates reuse a stored secret for a changed host or user (ZITADEL's looser rule).",
    )
    smtp_connect_timeout: float = _setting(
        "MAILGATE_SMTP_CONNECT_TIMEOUT",
        _positive_float,
        10.0,
        "Seconds to connect (and finish TLS) to an SMTP server.",
    )
    smtp_command_timeout: float = _setting(
        "MAILGATE_SMTP_COMMAND_TIMEOUT", _positive_float, 10.0, "Seconds for each SMTP command's reply."
    )
    smtp_test_timeout: float = _setting(
        "MAILGATE_SMTP_TEST_TIMEOUT", _positive_float, 30.0, "Seconds a whole test email may take."
    )
    smtp_ca_file: Path | None = _setting(
        "MAILGATE_SMTP_CA_FILE", Path, None, "Extra PEM bundle of CAs trusted for SMTP and token endpoints."
    )
    smtp_helo_name: str = _setting(
        "MAILGATE_SMTP_HELO_NAME", _text, "", "Name sent in EHLO (default: this host's fully qualified name)."
    )
    delivery_timeout: float = _setting(
        "MAILGATE_DELIVERY_TIMEOUT",
        _positive_float,
        60.0,
        "Seconds one delivery attempt of a notification may take, waiting for a pooled connection included.",
    )
    smtp_pool_size: int = _setting(
        "MAILGATE_SMTP_POOL_SIZE",
        _positive_int,
        5,
        "SMTP connections a process opens to one provider at most; further sends wait for a free one.",
    )
    smtp_pool_messages: int = _setting(
        "MAILGATE_SMTP_POOL_MESSAGES",
        _positive_int,
        100,
        "Messages one pooled SMTP connection carries before it is closed and another one opened.",
    )
    smtp_pool_idle_timeout: float = _setting(
        "MAILGATE_SMTP_POOL_IDLE_TIMEOUT",
        _positive_float,
        30.0,
        "Seconds an unused pooled SMTP connection stays open; keep it below the provider's idle limit.",
    )
    outbound_deny: tuple[IPNetwork, ...] = _setting(
        "MAILGATE_OUTBOUND_DENY",
        _networks,
        (),
        "Comma-separated CIDR ranges outgoing connections may not reach, beyond the refused ranges "
        "(a longer allow range overrides one).",
    )
    outbound_allow: tuple[IPNetwork, ...] = _setting(
        "MAILGATE_OUTBOUND_ALLOW",
        _networks,
        (),
        "Comma-separated CIDR ranges outgoing connections may reach although refused by default "
        "(for example 127.0.0.0/8 for a relay on this host); metadata addresses open only when named.",
    )
    test_rate: int = _setting(
        "MAILGATE_TEST_RATE", _positive_int, 10, "Test emails per minute per instance (per process)."
    )
    test_burst: int = _setting(
        "MAILGATE_TEST_BURST",
        _positive_int,
        5,
        "Test emails an instance may send at once before the rate applies.",
    )
    cors_origins: tuple[str, ...] = _setting(
        "MAILGATE_CORS_ORIGINS",
        _origins,
        (),
        "Comma-separated browser origins (scheme://host[:port]) allowed to call the HTTP port, or * for any.",
    )
    http_max_body: int = _setting(
        "MAILGATE_HTTP_MAX_BODY", _positive_int, 1024 * 1024, "Largest JSON request body in bytes."
    )
    http_idle_timeout: int = _setting(
        "MAILGATE_HTTP_IDLE_TIMEOUT",
        _positive_int,
        75,
        "Whole seconds an HTTP connection may wait for its next request before it is closed.",
    )
    http_header_timeout: float = _setting(
        "MAILGATE_HTTP_HEADER_TIMEOUT",
        _positive_float,
        10.0,
        "Seconds a client has to send a request's headers, from its first byte (then 408 and closed).",
    )
    http_max_connections: int = _setting(
        "MAILGATE_HTTP_MAX_CONNECTIONS",
        _positive_int,
        1000,
        "Open HTTP connections at most; one more is answered 503 and closed.",
    )
    grpc_idle_timeout: float = _setting(
        "MAILGATE_GRPC_IDLE_TIMEOUT",
        _positive_float,
        300.0,
        "Seconds a gRPC connection may go without calls before the server closes it (GOAWAY).",
    )
    grpc_max_connection_age: float = _setting(
        "MAILGATE_GRPC_MAX_CONNECTION_AGE",
        _positive_float,
        1800.0,
        "Seconds after which the server asks a gRPC client to reconnect (GOAWAY).",
    )
    grpc_max_connection_age_grace: float = _setting(
        "MAILGATE_GRPC_MAX_CONNECTION_AGE_GRACE",
        _positive_float,
        60.0,
        "Seconds calls in flight get to finish on a connection past its maximum age.",
    )
    grpc_handshake_timeout: float = _setting(
        "MAILGATE_GRPC_HANDSHAKE_TIMEOUT",
        _positive_float,
        10.0,
        "Seconds a new gRPC connection has to start speaking HTTP/2 before it is closed.",
    )
    grpc_max_streams: int = _setting(
        "MAILGATE_GRPC_MAX_STREAMS",
        _positive_int,
        100,
        "Concurrent calls per gRPC connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).",
    )
    grpc_max_connections: int = _setting(
        "MAILGATE_GRPC_MAX_CONNECTIONS",
        _positive_int,
        1000,
        "Open gRPC connections at most; more are closed as soon as they are accepted.",
    )
    okta_rate_limit: int = _setting(
        "MAILGATE_OKTA_RATE_LIMIT", _positive_int, 600, "Okta API requests per minute per token."
    )
    delivery_workers: int = _setting(
        "MAILGATE_DELIVERY_WORKERS",
        _count,
        16,
        "Notification emails this process sends at once; 0 makes an API-only replica that sends none.",
    )
    delivery_process: str = _setting(
        "MAILGATE_DELIVERY_PROCESS",
        _delivery_process,
        "child",
        "Where `mailgate serve` runs its delivery workers: child (a process of their own, at a lower CPU "
        "priority, so sending never slows the API) or inline (the serving process itself).",
    )
    delivery_nice: int = _setting(
        "MAILGATE_DELIVERY_NICE",
        _nice,
        10,
        "How much lower the delivery child's CPU priority is than the API's (nice, 0 to 19).",
    )
    delivery_poll_interval: float = _setting(
        "MAILGATE_DELIVERY_POLL_INTERVAL",
        _duration,
        1.0,
        "Seconds between looks for due messages when no enqueue or notification woke the workers.",
    )
    delivery_lease: float = _setting(
        "MAILGATE_DELIVERY_LEASE",
        _duration,
        30.0,
        "Seconds a claimed message stays with its worker without renewal; a dead replica's are taken over "
        "after it.",
    )
    delivery_max_attempts: int = _setting(
        "MAILGATE_DELIVERY_MAX_ATTEMPTS",
        _positive_int,
        10,
        "Attempts a message gets before it fails (unless it expires first), when SendEmail or RetryMessage "
        "asks for no number of its own.",
    )
    retry_base: float = _setting(
        "MAILGATE_RETRY_BASE",
        _duration,
        5.0,
        "Seconds: the back-off of the first retry; each further one doubles it, up to MAILGATE_RETRY_MAX.",
    )
    retry_max: float = _setting(
        "MAILGATE_RETRY_MAX",
        _duration,
        900.0,
        "Seconds: the longest back-off between two attempts (a provider's Retry-After may ask for more).",
    )
    breaker_faults: int = _setting(
        "MAILGATE_BREAKER_FAULTS",
        _positive_int,
        5,
        "Consecutive provider faults that open a provider's circuit breaker (its messages fail over).",
    )
    breaker_cooldown: float = _setting(
        "MAILGATE_BREAKER_COOLDOWN",
        _duration,
        30.0,
        "Seconds an open breaker waits before one probe message may try the provider again.",
    )
    message_retention: float = _setting(
        "MAILGATE_MESSAGE_RETENTION",
        _duration,
        7 * 86400.0,
        "How long a finished message keeps its subject and bodies (then they are deleted); 7d, 12h, ...",
    )
    message_metadata_retention: float = _setting(
        "MAILGATE_MESSAGE_METADATA_RETENTION",
        _duration,
        30 * 86400.0,
        "How long a finished message's row and attempts stay (at least a day and the body retention).",
    )
    history_retention: float = _setting(
        "MAILGATE_HISTORY_RETENTION",
        _duration,
        365 * 86400.0,
        "How long change-history events stay (at least a day); `history verify` checks from the oldest kept.",
    )
    tls_cert_file: Path | None = _setting(
        "MAILGATE_TLS_CERT_FILE",
        Path,
        None,
        "PEM certificate chain (server certificate first) for TLS on both listeners.",
    )
    tls_key_file: Path | None = _setting(
        "MAILGATE_TLS_KEY_FILE", Path, None, "PEM private key (unencrypted) of that certificate."
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from `env` (default: os.environ); raise ConfigError naming a bad one."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for item in fields(cls):
            name = item.metadata["env"]
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[item.name] = item.metadata["parse"](raw)
            except ValueError as exc:
                raise ConfigError(name, str(exc) or "invalid value") from None
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    @property
    def tls(self) -> ServerTls | None:
        """The listeners' certificate and key, when both are set."""
        if self.tls_cert_file is None or self.tls_key_file is None:
            return None
        return ServerTls(self.tls_cert_file, self.tls_key_file)

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres:"))

    def check(self) -> None:
        """Reject combinations no single setting can catch."""
        if self.database_url and not self.uses_postgres:
            raise ConfigError(
                "MAILGATE_DATABASE_URL", "must start with postgresql:// (leave it empty for SQLite)"
            )
        if self.uses_postgres and self.master_key is None:
            raise ConfigError("MAILGATE_MASTER_KEY", "is required with PostgreSQL (base64 of 32 bytes)")
        if self.smtp_ca_file is not None and not self.smtp_ca_file.is_file():
            raise ConfigError("MAILGATE_SMTP_CA_FILE", f"{self.smtp_ca_file} is not a readable file")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            given, missing = (_CERT, _KEY) if self.tls_key_file is None else (_KEY, _CERT)
            raise ConfigError(missing, f"must be set too when {given} is (TLS needs both, or neither)")
        if self.tls is not None:
            self.tls.load()
        self._check_delivery()

    def _check_delivery(self) -> None:
        """Bounds that keep the retry schedule, leases and retention meaningful."""
        if self.delivery_workers > MAX_DELIVERY_WORKERS:
            raise ConfigError("MAILGATE_DELIVERY_WORKERS", f"must be at most {MAX_DELIVERY_WORKERS}")
        if self.delivery_max_attempts > MAX_ATTEMPTS:
            raise ConfigError("MAILGATE_DELIVERY_MAX_ATTEMPTS", f"must be at most {MAX_ATTEMPTS}")
        if not 1 <= self.delivery_lease <= 3600:
            raise ConfigError("MAILGATE_DELIVERY_LEASE", "must be from 1 second to 1 hour")
        if self.delivery_poll_interval > 60:
            raise ConfigError("MAILGATE_DELIVERY_POLL_INTERVAL", "must be at most 60 seconds")
        if not 0.01 <= self.retry_base <= 3600:
            raise ConfigError("MAILGATE_RETRY_BASE", "must be from 0.01 seconds to 1 hour")
        if not self.retry_base <= self.retry_max <= 86400:
            raise ConfigError("MAILGATE_RETRY_MAX", "must be from MAILGATE_RETRY_BASE to 1 day")
        if self.breaker_cooldown > 86400:
            raise ConfigError("MAILGATE_BREAKER_COOLDOWN", "must be at most 1 day")
        if self.history_retention < 86400.0:
            raise ConfigError("MAILGATE_HISTORY_RETENTION", "must be at least 1 day")
        if self.message_metadata_retention < max(86400.0, self.message_retention):
            # Idempotency keys live as long as their message's row, and must for at least a day.
            raise ConfigError(
                "MAILGATE_MESSAGE_METADATA_RETENTION",
                "must be at least 1 day and at least MAILGATE_MESSAGE_RETENTION",
            )


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, as the README lists them."""
    rows = []
    for item in fields(Settings):
        default = item.default
        shown = "" if default in (None, (), "") else str(default)
        rows.append((item.metadata["env"], shown, item.metadata["doc"]))
    return rows
