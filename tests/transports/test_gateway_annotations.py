"""What the gateway serves of a `google.api.http` annotation, and what stops startup with a TemplateError.

The annotations here belong to a small proto built in the test, one method per case; build_routes is
given the spec of one method at a time, as app.py gives it AdminService's.
"""

from __future__ import annotations

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,  # noqa: F401 - puts duration.proto in the default pool
)
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from mailgate.api import status
from mailgate.pipeline.methods import Method
from mailgate.pipeline.runner import CallContext
from mailgate.pipeline.stages import VALIDATE, Operation
from mailgate.transports.gateway.httpstatus import HTTP_STATUS_BY_CODE, http_status
from mailgate.transports.gateway.request import decode_request
from mailgate.transports.gateway.routes import RouteTable, TemplateError, build_routes
from tests.transports.conftest import HTTP_STATUS_FROM_CODE

PACKAGE = "mailgate.test.gateway"
F = descriptor_pb2.FieldDescriptorProto


def _field(name: str, number: int, kind: int, type_name: str = "", repeated: bool = False) -> F:
    label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
    field = F(name=name, number=number, type=kind, label=label)  # type: ignore[arg-type]
    if type_name:
        field.type_name = type_name
    return field


def _message(name: str, *fields: F) -> descriptor_pb2.DescriptorProto:
    return descriptor_pb2.DescriptorProto(name=name, field=list(fields))


def _test_file() -> descriptor_pb2.FileDescriptorProto:
    inner = _message(
        "Inner", _field("x", 1, F.TYPE_STRING), _field("again", 2, F.TYPE_MESSAGE, f".{PACKAGE}.Inner")
    )
    plain = _message(
        "Plain",
        _field("id", 1, F.TYPE_STRING),
        _field("count", 2, F.TYPE_INT64),
        _field("on", 3, F.TYPE_BOOL),
        _field("inner", 4, F.TYPE_MESSAGE, f".{PACKAGE}.Inner"),
        _field("tags", 5, F.TYPE_STRING, repeated=True),
        _field("limit", 6, F.TYPE_UINT32),
    )
    mapped = _message("Mapped", _field("labels", 1, F.TYPE_MESSAGE, f".{PACKAGE}.Mapped.LabelsEntry", True))
    mapped.nested_type.add(
        name="LabelsEntry",
        field=[_field("key", 1, F.TYPE_STRING), _field("value", 2, F.TYPE_STRING)],
        options=descriptor_pb2.MessageOptions(map_entry=True),
    )
    messages = [
        inner,
        plain,
        mapped,
        _message("Floaty", _field("id", 1, F.TYPE_STRING), _field("ratio", 2, F.TYPE_DOUBLE)),
        _message("Bytesy", _field("raw", 1, F.TYPE_BYTES)),
        _message("Timed", _field("wait", 1, F.TYPE_MESSAGE, ".google.protobuf.Duration")),
        _message("Listy", _field("items", 1, F.TYPE_MESSAGE, f".{PACKAGE}.Inner", repeated=True)),
        _message("Deep", _field("plain", 1, F.TYPE_MESSAGE, f".{PACKAGE}.Plain")),
        _message("DeepBad", _field("inner", 1, F.TYPE_MESSAGE, f".{PACKAGE}.Floaty")),
    ]
    file = descriptor_pb2.FileDescriptorProto(
        name="mailgate_test_gateway.proto",
        package=PACKAGE,
        syntax="proto3",
        dependency=["google/api/annotations.proto", "google/protobuf/duration.proto"],
        message_type=messages,
    )
    service = file.service.add(name="Routes")
    for name, input_type, rule in CASES:
        method = service.method.add(
            name=name, input_type=f".{PACKAGE}.{input_type}", output_type=f".{PACKAGE}.Plain"
        )
        method.options.Extensions[annotations_pb2.http].CopyFrom(rule)
    return file


CASES: list[tuple[str, str, http_pb2.HttpRule]] = [
    ("GetPlain", "Plain", http_pb2.HttpRule(get="/plain/{id}")),
    ("GetNested", "Deep", http_pb2.HttpRule(get="/deep/{plain.id}")),
    ("PostFloaty", "Floaty", http_pb2.HttpRule(post="/floaty", body="*")),
    ("ResponseBody", "Plain", http_pb2.HttpRule(get="/plain", response_body="tags")),
    ("BodyField", "Plain", http_pb2.HttpRule(post="/plain", body="inner")),
    ("GetWithBody", "Plain", http_pb2.HttpRule(get="/plain", body="*")),
    ("DeleteWithBody", "Plain", http_pb2.HttpRule(delete="/plain/{id}", body="*")),
    ("QueryDouble", "Floaty", http_pb2.HttpRule(get="/floaty")),
    ("QueryBytes", "Bytesy", http_pb2.HttpRule(get="/bytesy")),
    ("QueryMap", "Mapped", http_pb2.HttpRule(delete="/mapped")),
    ("QueryDuration", "Timed", http_pb2.HttpRule(get="/timed")),
    ("QueryRepeatedMessage", "Listy", http_pb2.HttpRule(get="/listy")),
    ("QueryNestedDouble", "DeepBad", http_pb2.HttpRule(get="/deep-bad")),
    ("PathDouble", "Floaty", http_pb2.HttpRule(post="/floaty/{ratio}", body="*")),
    ("PathDuration", "Timed", http_pb2.HttpRule(post="/timed/{wait}", body="*")),
    ("PathRepeated", "Plain", http_pb2.HttpRule(post="/plain/{tags}", body="*")),
]


@pytest.fixture(scope="module")
def service() -> ServiceDescriptor:
    pool = descriptor_pool.Default()  # annotations_pb2 and duration_pb2, imported above, are in it
    try:
        file = pool.FindFileByName("mailgate_test_gateway.proto")
    except KeyError:
        pool.AddSerializedFile(_test_file().SerializeToString())
        file = pool.FindFileByName("mailgate_test_gateway.proto")
    return file.services_by_name["Routes"]


async def _handler(request: Message, context: CallContext) -> Message:
    raise AssertionError("never called: these tests only build routes")


def _spec(method: MethodDescriptor) -> Method:
    return Method(
        path=f"/{method.containing_service.full_name}/{method.name}",
        operation=Operation(method.name, "iam.read"),
        descriptor=method,
        request_type=GetMessageClass(method.input_type),
        response_type=GetMessageClass(method.output_type),
        handler=_handler,
        stages=(VALIDATE,),
        encode_error=status.encode,
    )


def _build(service: ServiceDescriptor, name: str) -> RouteTable:
    spec = _spec(service.methods_by_name[name])
    return build_routes([(service, "/v1")], {spec.path: spec})


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        ("ResponseBody", "response_body 'tags' is not supported"),
        ("BodyField", "body 'inner' is not supported, only \"*\" or none"),
        ("GetWithBody", "a GET route takes no body"),
        ("DeleteWithBody", "a DELETE route takes no body"),
        ("QueryDouble", "query parameter 'ratio' is a double, not supported"),
        ("QueryBytes", "query parameter 'raw' is a bytes, not supported"),
        ("QueryMap", "query parameter 'labels' is a map, not supported"),
        ("QueryDuration", "query parameter 'wait' is a google.protobuf.Duration, not supported"),
        ("QueryRepeatedMessage", f"query parameter 'items' is a repeated {PACKAGE}.Inner, not supported"),
        ("QueryNestedDouble", "query parameter 'inner.ratio' is a double, not supported"),
        ("PathDouble", "path variable 'ratio' must be a singular string, bool, integer or enum field"),
        ("PathDuration", "path variable 'wait' must be a singular string, bool, integer or enum field"),
        ("PathRepeated", "path variable 'tags' must be a singular string, bool, integer or enum field"),
    ],
)
def test_an_annotation_we_do_not_serve_stops_startup_naming_the_method(
    service: ServiceDescriptor, method: str, reason: str
) -> None:
    with pytest.raises(TemplateError) as refused:
        _build(service, method)
    assert str(refused.value).startswith(f"{PACKAGE}.Routes.{method} ")
    assert str(refused.value).endswith(reason)


def test_what_we_serve_builds_and_reads_path_then_query(service: ServiceDescriptor) -> None:
    match = _build(service, "GetPlain").match("GET", "/v1/plain/p1")
    assert match is not None
    query = b"id=ignored&count=-5&on=t&inner.x=a&inner.again.x=b&tags=t1&tags=t2&limit=7&unknown=1"
    request = decode_request(match, query, b"")
    assert request == GetMessageClass(service.methods_by_name["GetPlain"].input_type)(
        id="p1", count=-5, on=True, inner={"x": "a", "again": {"x": "b"}}, tags=["t1", "t2"], limit=7
    )
    nested = _build(service, "GetNested").match("GET", "/v1/deep/p2")
    assert nested is not None
    assert decode_request(nested, b"plain.id=x&plain.count=3", b"").plain.count == 3  # type: ignore[attr-defined]
    # A double in a `body: "*"` route is the JSON parser's, which reads every kind.
    floaty = _build(service, "PostFloaty").match("POST", "/v1/floaty")
    assert floaty is not None
    assert decode_request(floaty, b"ratio=9", b'{"ratio": 0.5}').ratio == 0.5  # type: ignore[attr-defined]


def test_http_status_table_is_grpc_gateways() -> None:
    assert dict(HTTP_STATUS_BY_CODE) == HTTP_STATUS_FROM_CODE
    assert {code: http_status(code) for code in range(17)} == HTTP_STATUS_FROM_CODE
    assert http_status(17) == http_status(-1) == 500  # a code grpc-gateway does not know
