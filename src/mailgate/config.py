"""Every MAILGATE_* setting, parsed and checked once at startup."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

T = TypeVar("T")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """A setting has a value we cannot use; the message names the setting."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


_CERT, _KEY = "MAILGATE_TLS_CERT_FILE", "MAILGATE_TLS_KEY_FILE"


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
    return tuple(item.strip() for item in value.split(",") if item.strip())


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
    outbound_deny: tuple[IPNetwork, ...] = _setting(
        "MAILGATE_OUTBOUND_DENY", _networks, (), "Extra CIDR ranges outgoing connections may not reach."
    )
    outbound_allow: tuple[IPNetwork, ...] = _setting(
        "MAILGATE_OUTBOUND_ALLOW",
        _networks,
        (),
        "CIDR ranges allowed even if refused by default or by the deny list.",
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
        "Comma-separated browser origins allowed to call the HTTP port.",
    )
    http_max_body: int = _setting(
        "MAILGATE_HTTP_MAX_BODY", _positive_int, 1024 * 1024, "Largest JSON request body in bytes."
    )
    okta_rate_limit: int = _setting(
        "MAILGATE_OKTA_RATE_LIMIT", _positive_int, 600, "Okta API requests per minute per token."
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


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, as the README lists them."""
    rows = []
    for item in fields(Settings):
        default = item.default
        shown = "" if default in (None, (), "") else str(default)
        rows.append((item.metadata["env"], shown, item.metadata["doc"]))
    return rows
