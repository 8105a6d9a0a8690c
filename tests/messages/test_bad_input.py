"""Every limit of SendEmail, from the proto's rules and the domain's checks: a clear INVALID_ARGUMENT
naming the field, nothing queued, and the idempotency key still unused."""

from __future__ import annotations

import re
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.outbox.checks import ALLOWED_HEADERS, allowed_header
from tests.fixtures.headers import INJECTIONS
from tests.messages.helpers import Mailer, send_request

pytestmark = pytest.mark.asyncio(loop_scope="session")


def header(name: str = "X-Campaign", value: str = "spring") -> pb.EmailHeader:
    return pb.EmailHeader(name=name, value=value)


# (fields of the request, the field the error names). Refused by the proto's rules: no error id.
PROTO_LIMITS: dict[str, tuple[dict[str, Any], str]] = {
    "no recipient": ({"to": []}, "to"),
    "51 recipients": ({"to": [f"u{i}@example.com" for i in range(51)]}, "to"),
    "a recipient twice": ({"to": ["a@example.com", "a@example.com"]}, "to"),
    "address over 254": ({"to": ["a" * 243 + "@example.com"]}, "to[0]"),
    "no subject": ({"subject": ""}, "subject"),
    "subject over 998": ({"subject": "s" * 999}, "subject"),
    "text body over 256 KiB": ({"text_body": "t" * 262_145}, "text_body"),
    "html body over 256 KiB": ({"html_body": "é" * 131_073}, "html_body"),  # 2 bytes each
    "reply-to over 254": ({"reply_to": "r" * 243 + "@example.com"}, "reply_to"),
    "Bcc header": ({"headers": [header("Bcc", "e@evil.test")]}, "headers[0].name"),
    "From header": ({"headers": [header("From", "e@evil.test")]}, "headers[0].name"),
    "Subject header": ({"headers": [header("Subject", "x")]}, "headers[0].name"),
    "Content-Type header": ({"headers": [header("Content-Type", "text/html")]}, "headers[0].name"),
    "header name with a colon": ({"headers": [header("X-A: b\r\nBcc")]}, "headers[0].name"),
    "header name X- alone": ({"headers": [header("X-")]}, "headers[0].name"),
    "empty header value": ({"headers": [header(value="")]}, "headers[0].value"),
    "header value over 900": ({"headers": [header(value="v" * 901)]}, "headers[0].value"),
    "11 headers": ({"headers": [header(f"X-H{i}") for i in range(11)]}, "headers"),
    "category with a space": ({"category": "password reset"}, "category"),
    "category over 100": ({"category": "c" * 101}, "category"),
    "key over 200": ({"idempotency_key": "k" * 201}, "idempotency_key"),
    "key with a space": ({"idempotency_key": "a b"}, "idempotency_key"),
    "key with a line break": ({"idempotency_key": "a\r\nb"}, "idempotency_key"),
    "key not ASCII": ({"idempotency_key": "clé"}, "idempotency_key"),
    "expiry under a minute": ({"expires_after": duration_pb2.Duration(seconds=59)}, "expires_after"),
    "expiry over five days": ({"expires_after": duration_pb2.Duration(seconds=432_001)}, "expires_after"),
    "51 attempts": ({"max_attempts": 51}, "max_attempts"),
}

# Refused by the domain's checks, with mailgate's error id.
DOMAIN_CHECKS: dict[str, tuple[dict[str, Any], str, str]] = {
    "no body": ({"text_body": "", "html_body": ""}, "text_body", "MG-BODY-MISSING"),
    "not an address": ({"to": ["not-an-address"]}, "to[0]", "MG-ADDRESS-INVALID"),
    "second address invalid": ({"to": ["a@example.com", "b@example..com"]}, "to[1]", "MG-ADDRESS-INVALID"),
    "address with a line break": (
        {"to": ["a@example.com\r\nBcc: e@evil.test"]},
        "to[0]",
        "MG-ADDRESS-INVALID",
    ),
    "address with an encoded word": (
        {"to": ["=?utf-8?q?a=0D=0ABcc:_e@evil.test?=@example.com"]},
        "to[0]",
        "MG-ADDRESS-INVALID",
    ),
    "reply-to not an address": ({"reply_to": "help desk"}, "reply_to", "MG-ADDRESS-INVALID"),
    "a header twice": (
        {"headers": [header("X-Campaign"), header("x-campaign")]},
        "headers[1].name",
        "MG-HEADER-NOT-ALLOWED",
    ),
    **{
        f"subject {name}": ({"subject": text}, "subject", "MG-TEXT-CONTROL")
        for name, text in INJECTIONS.items()
    },
    **{
        f"header value {name}": ({"headers": [header(value=text)]}, "headers[0].value", "MG-TEXT-CONTROL")
        for name, text in INJECTIONS.items()
    },
}


async def _nothing_queued_and_key_unused(sender: Mailer, key: str) -> None:
    assert list((await sender.listing()).messages) == []
    queued = await sender("SendEmail", send_request(idempotency_key=key))
    assert not queued.replayed and queued.message.state == pb.MESSAGE_STATE_QUEUED


@pytest.mark.parametrize(("fields", "field"), PROTO_LIMITS.values(), ids=PROTO_LIMITS.keys())
async def test_proto_limits(provider: str, sender: Mailer, fields: dict[str, Any], field: str) -> None:
    key = "refused-then-valid"
    refused = await sender.fail("SendEmail", send_request(**{"idempotency_key": key, **fields}))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.bad_request is not None
    assert field in [v.field for v in refused.bad_request.field_violations], refused
    assert refused.message.startswith("invalid SendEmailRequest.") or refused.message.startswith(
        "invalid EmailHeader."
    ), refused.message
    await _nothing_queued_and_key_unused(sender, key)


@pytest.mark.parametrize(("fields", "field", "error_id"), DOMAIN_CHECKS.values(), ids=DOMAIN_CHECKS.keys())
async def test_domain_checks(
    provider: str, sender: Mailer, fields: dict[str, Any], field: str, error_id: str
) -> None:
    refused = await sender.fail("SendEmail", send_request(idempotency_key="refused-then-valid", **fields))
    assert refused.is_zitadel(grpc.StatusCode.INVALID_ARGUMENT, error_id), refused
    assert refused.bad_request is not None
    assert [v.field for v in refused.bad_request.field_violations] == [field]
    await _nothing_queued_and_key_unused(sender, "refused-then-valid")


async def test_encoded_words_without_control_characters_are_decoded(provider: str, sender: Mailer) -> None:
    message = await sender.send(
        subject="=?utf-8?q?Caf=C3=A9?=  Ops", headers=[header(value="=?utf-8?b?WsO2ZQ==?=")]
    )
    assert message.subject == "Café Ops"
    assert [(h.name, h.value) for h in message.headers] == [("X-Campaign", "Zöe")]


async def test_international_addresses_are_accepted(provider: str, sender: Mailer) -> None:
    message = await sender.send(to=["jörg@bücher.example", "用户@例子.广告"], reply_to="zoë@example.com")
    assert list(message.to) == ["jörg@bücher.example", "用户@例子.广告"]


async def test_the_proto_allows_the_header_names_the_domain_allows() -> None:
    rules: Any = pb.EmailHeader.DESCRIPTOR.fields_by_name["name"].GetOptions()
    from mailgate.gen.buf.validate import validate_pb2

    pattern = re.compile(rules.Extensions[validate_pb2.field].string.pattern)
    names = [
        *ALLOWED_HEADERS,
        *(name.upper() for name in ALLOWED_HEADERS),
        "X-Campaign",
        "x-entity-ref-id",
        "X-",
        "X_A",
        "Bcc",
        "Received",
        "List-Post",
        "X-Ä",
        "Feedback-ID ",
    ]
    assert [bool(pattern.fullmatch(name)) for name in names] == [
        allowed_header(name) is not None for name in names
    ]
