"""Requests and checks shared by the test-RPC tests."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.delivery.conftest import CLIENT_ID, CLIENT_SECRET, PASSWORD, SCOPE, USER, assert_no_secrets

from .conftest import Caller, Failure

SENDER = "noreply@example.com"
SENDER_NAME = "Mailgate Tests"
TEST_TEXT = "test email from mailgate"

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "PASSWORD", "SCOPE", "USER"]


def unique(local: str = "bob") -> str:
    """A receiver no other test uses, so each test finds exactly its own message."""
    return f"{local}+{time.monotonic_ns()}@example.com"


def inline(host: str, receiver: str | None = None, **fields: Any) -> pb.TestEmailProviderSMTPRequest:
    """A TestEmailProviderSMTPRequest to `host`; `fields` override or add (auth oneof, id, tls...)."""
    values: dict[str, Any] = {
        "sender_address": SENDER,
        "sender_name": SENDER_NAME,
        "host": host,
        "receiver_address": receiver or unique(),
    }
    values.update(fields)
    return pb.TestEmailProviderSMTPRequest(**values)


def legacy(host: str, receiver: str | None = None, **fields: Any) -> pb.TestSMTPConfigRequest:
    """A deprecated TestSMTPConfigRequest (no Auth oneof)."""
    values: dict[str, Any] = {
        "sender_address": SENDER,
        "sender_name": SENDER_NAME,
        "host": host,
        "receiver_address": receiver or unique(),
    }
    values.update(fields)
    return pb.TestSMTPConfigRequest(**values)


def plain(password: str = PASSWORD) -> pb.SMTPPlainAuth:
    return pb.SMTPPlainAuth(password=password)


def xoauth2(token_endpoint: str, client_id: str = CLIENT_ID, client_secret: str = "") -> pb.SMTPXOAuth2Auth:
    return pb.SMTPXOAuth2Auth(
        token_endpoint=token_endpoint,
        scopes=[SCOPE],
        client_credentials=pb.SMTPXOAuth2Auth.ClientCredentials(
            client_id=client_id, client_secret=client_secret
        ),
    )


async def add_smtp(admin: Caller, host: str, **fields: Any) -> str:
    """Store an SMTP provider (inactive) and return its id."""
    values: dict[str, Any] = {"sender_address": SENDER, "sender_name": SENDER_NAME, "host": host}
    values.update(fields)
    response = await admin("AddEmailProviderSMTP", pb.AddEmailProviderSMTPRequest(**values))
    return str(response.id)


def by_id(rpc: str, provider_id: str, receiver: str) -> Any:
    """The request of TestEmailProviderSMTPById or TestSMTPConfigById."""
    if rpc == "TestEmailProviderSMTPById":
        return pb.TestEmailProviderSMTPByIdRequest(id=provider_id, receiver_address=receiver)
    return pb.TestSMTPConfigByIdRequest(id=provider_id, receiver_address=receiver)


def assert_no_leak(
    caplog: pytest.LogCaptureFixture, failure: Failure, extra: list[str] | None = None
) -> None:
    """No password, client secret, token or key in the message, the status details or the logs."""
    assert_no_secrets(caplog, failure.message, failure.status, *failure.details_all(), extra=extra or [])
