"""Route templates, query parameters and JSON encoding: grpc-gateway's rules on our own messages."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import error_details_pb2, status_pb2

from mailgate.gen.mailgate.v1 import smtp_test_report_pb2
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import message_pb2, object_pb2, settings_pb2
from mailgate.transports.gateway.marshal import TranscodeError, message_to_dict, status_json
from mailgate.transports.gateway.query import apply_query
from mailgate.transports.gateway.routes import TemplateError, compile_template


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("/admin/v1/email/{id}", "/admin/v1/email/abc", {"id": "abc"}),
        ("/admin/v1/email/{id}", "/admin/v1/email/a:b", {"id": "a:b"}),  # no verb: ':' is data
        ("/admin/v1/email/{id}", "/admin/v1/email/", None),  # a variable is never empty
        ("/admin/v1/email/{id}", "/admin/v1/email/a/b", None),
        ("/v1/{name=**}", "/v1", {"name": ""}),
        ("/v1/{name=**}", "/v1/a/b/c", {"name": "a/b/c"}),
        ("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books/b2", {"name": "shelves/s1/books/b2"}),
        ("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books", None),
        ("/v1/books/{id}:publish", "/v1/books/7:publish", {"id": "7"}),
        ("/v1/books/{id}:publish", "/v1/books/7", None),
        ("/v1/books/{id}:publish", "/v1/books/:publish", None),
        ("/v1/*/x", "/v1/anything/x", {}),
    ],
)
def test_templates_match_like_grpc_gateway(template: str, path: str, expected: dict[str, str] | None) -> None:
    regex, variables, _ = compile_template(template)
    found = re.fullmatch(regex, path)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert {name: found[group] or "" for group, name in variables} == expected


@pytest.mark.parametrize("template", ["v1/x", "/v1/{a}/{a}", "/v1/**/x", "/v1/{a", "/v1//x", "/v1/{a={b}}"])
def test_invalid_templates_are_refused_at_start(template: str) -> None:
    with pytest.raises(TemplateError):
        compile_template(template)


def test_query_parameters_nested_repeated_bool_and_oneof() -> None:
    request = pb.AddEmailProviderSMTPRequest()
    query = (
        b"host=smtp.example.com%3A587&tls=t&sender_name=A"
        b"&xoauth2.scopes=a&xoauth2.scopes=b&xoauth2.tokenEndpoint=https%3A%2F%2Fx"
    )
    apply_query(request, query)
    assert request.host == "smtp.example.com:587"
    assert request.tls is True
    assert request.sender_name == "A"
    assert list(request.xoauth2.scopes) == ["a", "b"]
    assert request.xoauth2.token_endpoint == "https://x"
    # a second member of the same oneof is an error, as in grpc-gateway
    with pytest.raises(TranscodeError, match='field already set for oneof "Auth"'):
        apply_query(request, b"plain.password=x")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (b"tls=yes", "invalid syntax"),
        (b"host=a&host=b", 'too many values for field "host": a, b'),
        (b"host.x=1", 'invalid path: "host" is not a message'),
        (b"xoauth2.scopes.x=1", 'invalid path: "scopes" is not a message'),
    ],
)
def test_query_parameter_errors(query: bytes, message: str) -> None:
    with pytest.raises(TranscodeError, match=message):
        apply_query(pb.AddEmailProviderSMTPRequest(), query)


def test_query_ignores_unknown_and_reserved_parameters() -> None:
    request = pb.TestEmailProviderSMTPByIdRequest(id="from-path")
    apply_query(request, b"id=other&receiverAddress=to%40example.com&nope=1", reserved=["id"])
    assert request.id == "from-path"
    assert request.receiver_address == "to@example.com"


def test_query_numbers_and_enums() -> None:
    listing = pb.ListEmailProvidersRequest()
    apply_query(listing, b"query.offset=18446744073709551615&query.limit=10&query.asc=1")
    assert (listing.query.offset, listing.query.limit, listing.query.asc) == (2**64 - 1, 10, True)
    with pytest.raises(TranscodeError):
        apply_query(object_pb2.ListQuery(), b"limit=-1")
    provider = settings_pb2.EmailProvider()
    apply_query(provider, b"state=EMAIL_PROVIDER_ACTIVE")
    assert provider.state == settings_pb2.EMAIL_PROVIDER_ACTIVE
    apply_query(provider, b"state=2")
    assert provider.state == settings_pb2.EMAIL_PROVIDER_INACTIVE
    with pytest.raises(TranscodeError):
        apply_query(settings_pb2.EmailProvider(), b"state=7")


def _fill(message: Message, rng: random.Random, depth: int = 0) -> Message:
    """Set a random subset of fields, nested messages included, with edge values."""
    descriptor: Descriptor = message.DESCRIPTOR
    for field in descriptor.fields:
        if rng.random() < 0.3:
            continue
        if field.message_type is not None:
            if depth > 3:
                continue
            if field.message_type.full_name == "google.protobuf.Timestamp":
                getattr(message, field.name).FromNanoseconds(rng.randrange(0, 2**62))
            elif field.message_type.full_name == "google.protobuf.Duration":
                getattr(message, field.name).FromNanoseconds(rng.randrange(-(10**12), 10**12))
            elif field.message_type.full_name == "google.protobuf.Struct":  # an event's payload
                getattr(message, field.name).update({"id": "1", "tls": True, "n": 2.5, "s": [None, "x"]})
            elif field.is_repeated:
                for _ in range(rng.randrange(3)):
                    _fill(getattr(message, field.name).add(), rng, depth + 1)
            else:
                _fill(getattr(message, field.name), rng, depth + 1)
                getattr(message, field.name).SetInParent()
            continue
        value = _scalar(field, rng)
        if field.is_repeated:
            getattr(message, field.name).extend([value, _scalar(field, rng)])
        else:
            setattr(message, field.name, value)
    return message


def _scalar(field: FieldDescriptor, rng: random.Random) -> Any:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return rng.choice(["", "x", "é ü", "a\nb", '"q"'])
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.choice([True, False])
    if kind == FieldDescriptor.TYPE_ENUM:
        return rng.choice([v.number for v in field.enum_type.values])
    if kind == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randrange(5))
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rng.choice([0, 1, 2**64 - 1])
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rng.choice([0, 1, 2**32 - 1])
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64):
        return rng.choice([0, -1, 2**63 - 1])
    return rng.choice([0, -1, 2**31 - 1])


def test_fast_json_equals_json_format_for_every_message() -> None:
    rng = random.Random(7)
    files = (pb.DESCRIPTOR, smtp_test_report_pb2.DESCRIPTOR, message_pb2.DESCRIPTOR)
    types = [GetMessageClass(d) for f in files for d in f.message_types_by_name.values()]
    for cls in types:
        for _ in range(20):
            message = _fill(cls(), rng)
            assert message_to_dict(message) == json_format.MessageToDict(message), cls.DESCRIPTOR.full_name


def test_status_json_resolves_every_detail_type() -> None:
    status = status_pb2.Status(code=8, message="slow down")
    for detail in (
        message_pb2.ErrorDetail(id="X-1", message="m"),
        error_details_pb2.BadRequest(field_violations=[{"field": "host", "description": "d"}]),
        error_details_pb2.RetryInfo(retry_delay={"seconds": 3}),
        error_details_pb2.RequestInfo(request_id="abc"),
        smtp_test_report_pb2.SmtpTestReport(stage=smtp_test_report_pb2.SMTP_TEST_STAGE_AUTH, reply_code=535),
    ):
        status.details.add().Pack(detail)
    body = json.loads(status_json(status))
    assert [d["@type"].rsplit("/", 1)[1] for d in body["details"]] == [
        "zitadel.v1.ErrorDetail",
        "google.rpc.BadRequest",
        "google.rpc.RetryInfo",
        "google.rpc.RequestInfo",
        "mailgate.v1.SmtpTestReport",
    ]
    assert body["details"][2]["retryDelay"] == "3s"
    assert body["details"][4] == {
        "@type": "type.googleapis.com/mailgate.v1.SmtpTestReport",
        "stage": "SMTP_TEST_STAGE_AUTH",
        "replyCode": 535,
    }
    unknown = status_pb2.Status(code=2)
    unknown.details.add(type_url="type.googleapis.com/no.such.Type", value=b"")
    assert json.loads(status_json(unknown)) == {"code": 13, "message": "failed to marshal error message"}
