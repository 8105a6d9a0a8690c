"""Text that email headers carry (sender name and address, reply-to) is refused at Add and Update
when it, or an RFC 2047 encoded word in it, holds a control character: INVALID_ARGUMENT naming
the field, and nothing stored. Deprecated and current RPCs alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from tests.fixtures.rpc import Admin, legacy_add, legacy_update, smtp_add, smtp_update

pytestmark = pytest.mark.asyncio(loop_scope="session")

B_WORD = "=?utf-8?b?eA0KQmNjOiBldmlsQGV2aWwudGVzdA==?="  # "x", CRLF, "Bcc: evil@evil.test"
Q_WORD = "=?utf-8?q?x=0D=0AContent-Type:_text/html=0D=0A=0D=0A<b>Click</b>?="
# (field, value) pairs, each refused on its own.
REFUSED = [
    ("sender_name", B_WORD),
    ("sender_name", Q_WORD),
    ("sender_name", "Ops\r\nBcc: evil@evil.test"),
    ("sender_name", "Ops\u2028Team"),
    ("sender_address", "noreply@example.com\r\nBcc: evil@evil.test"),
    ("sender_address", "noreply\t@example.com"),
    ("reply_to_address", "help@example.com\nBcc: evil@evil.test"),
    ("reply_to_address", B_WORD + "@example.com"),
]
ADDS: dict[str, Callable[..., Message]] = {"AddEmailProviderSMTP": smtp_add, "AddSMTPConfig": legacy_add}
UPDATES: dict[str, Callable[..., Message]] = {
    "UpdateEmailProviderSMTP": smtp_update,
    "UpdateSMTPConfig": legacy_update,
}


def assert_refused(failed: Any, field: str) -> None:
    assert failed.code == grpc.StatusCode.INVALID_ARGUMENT, failed.message
    assert failed.error_id == "MG-TEXT-CONTROL"
    assert failed.message.startswith(f"Invalid argument: {field} must not contain control characters")
    assert failed.bad_request is not None
    assert [v.field for v in failed.bad_request.field_violations] == [field]


@pytest.mark.parametrize("rpc", ADDS)
@pytest.mark.parametrize(("field", "value"), REFUSED)
async def test_add_refuses_control_characters(admin: Admin, rpc: str, field: str, value: str) -> None:
    failed = await admin.fail(rpc, ADDS[rpc](**{field: value}))

    assert_refused(failed, field)
    assert (await admin.listing()).details.total_result == 0


@pytest.mark.parametrize("rpc", UPDATES)
@pytest.mark.parametrize(("field", "value"), REFUSED)
async def test_update_refuses_control_characters(admin: Admin, rpc: str, field: str, value: str) -> None:
    provider_id = await admin.add_smtp(sender_name="Ops", reply_to_address="help@example.com")

    failed = await admin.fail(rpc, UPDATES[rpc](provider_id, **{field: value}))

    assert_refused(failed, field)
    stored = (await admin.get(provider_id)).smtp
    assert (stored.sender_name, stored.reply_to_address) == ("Ops", "help@example.com")


async def test_legitimate_encoded_words_and_punctuation_are_kept(admin: Admin) -> None:
    name = '=?utf-8?q?Caf=C3=A9?= "Ops", <Team>'
    provider_id = await admin.add_smtp(sender_name=name)

    assert (await admin.get(provider_id)).smtp.sender_name == name  # stored as given; encoded when sent
