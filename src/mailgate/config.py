"""Every MAILGATE_* setting, parsed and checked once at startup."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """A setting has a value we cannot use; the message names the setting."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


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
        "Comma-separated browser origins allowed to call the HTTP port.",
    )
    http_max_body: int = _setting(
        "MAILGATE_HTTP_MAX_BODY", _positive_int, 1024 * 1024, "Largest JSON request body in bytes."
    )
    okta_rate_limit: int = _setting(
        "MAILGATE_OKTA_RATE_LIMIT", _positive_int, 600, "Okta API requests per minute per token."
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


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, as the README lists them."""
    rows = []
    for item in fields(Settings):
        default = item.default
        shown = "" if default in (None, (), "") else str(default)
        rows.append((item.metadata["env"], shown, item.metadata["doc"]))
    return rows
