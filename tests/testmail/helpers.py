"""Requests and checks shared by the test-RPC tests."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from google.protobuf.message import Message

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.credentials import CLIENT_ID, SCOPE
from tests.fixtures.rpc import SENDER, Admin, Failure
from tests.fixtures.rpc import xoauth2 as zitadel_xoauth2
from tests.fixtures.secrets import assert_no_secrets
from tests.fixtures.smtp import unique

SENDER_NAME = "Mailgate Tests"
TEST_TEXT = "test email from mailgate"
M = TypeVar("M", bound=Message)


def _test_request(message_type: type[M], host: str, receiver: str | None, **fields: Any) -> M:
    values: dict[str, Any] = {
        "sender_address": SENDER,
        "sender_name": SENDER_NAME,
        "host": host,
        "receiver_address": receiver or unique(),
    }
    values.update(fields)
    return message_type(**values)


def inline(host: str, receiver: str | None = None, **fields: Any) -> pb.TestEmailProviderSMTPRequest:
    """A TestEmailProviderSMTPRequest to `host`; `fields` override or add (auth oneof, id, tls...)."""
    return _test_request(pb.TestEmailProviderSMTPRequest, host, receiver, **fields)


def legacy(host: str, receiver: str | None = None, **fields: Any) -> pb.TestSMTPConfigRequest:
    """A deprecated TestSMTPConfigRequest (no Auth oneof)."""
    return _test_request(pb.TestSMTPConfigRequest, host, receiver, **fields)


def xoauth2(token_endpoint: str, client_id: str = CLIENT_ID, client_secret: str = "") -> pb.SMTPXOAuth2Auth:
    """XOAUTH2 with the client the local token endpoint knows."""
    return zitadel_xoauth2(token_endpoint, client_id, client_secret, (SCOPE,))


async def add_smtp(admin: Admin, host: str, **fields: Any) -> str:
    """Store an SMTP provider (inactive) and return its id."""
    return await admin.add_smtp(**{"sender_name": SENDER_NAME, "host": host, **fields})


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
