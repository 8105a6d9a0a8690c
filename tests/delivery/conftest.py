"""The SMTP engine on its own: settings with short timeouts that trust the test CA, and a resolver
that answers the test peers' names (the fleet and the token endpoint listen on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from mailgate.config import Settings
from mailgate.delivery.smtp import SmtpTester
from tests.fixtures.network import LOCAL_ALLOW
from tests.fixtures.pki import MAIL_NAME, TOKEN_NAME, Pki

# What the injected resolver answers; tests never touch real DNS.
NAMES: dict[str, list[str]] = {
    MAIL_NAME: ["127.0.0.1"],
    TOKEN_NAME: ["127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "mapped.test": ["::ffff:169.254.169.254"],
    "mixed.test": ["127.0.0.1", "169.254.169.254"],
    "uncertified.test": ["127.0.0.1"],  # no test certificate names it
}


async def fake_resolver(host: str, port: int) -> list[str]:
    """Resolve from NAMES; unknown names fail like getaddrinfo does."""
    await asyncio.sleep(0)
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return NAMES[host]


@pytest.fixture(autouse=True)
def _all_logs(capture_everything: None) -> None:
    """Leak checks here see every log line (tests.fixtures.secrets)."""


@pytest.fixture
def make_settings(pki: Pki) -> Callable[..., Settings]:
    """Settings with small timeouts, the test CA trusted and loopback allowed; keyword overrides win."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "smtp_connect_timeout": 1.0,
            "smtp_command_timeout": 1.0,
            "smtp_test_timeout": 5.0,
            "smtp_ca_file": pki.ca_file,
            "smtp_helo_name": "client.test",
            "outbound_allow": LOCAL_ALLOW,
        }
        values.update(overrides)
        return Settings.from_env({}, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def tester(settings: Settings) -> SmtpTester:
    return SmtpTester(settings, resolver=fake_resolver)
