"""JSON <-> messages as grpc-gateway v2 with ZITADEL's marshaler: body, then path values, then query.

Output is protojson with lowerCamelCase names, unpopulated fields omitted, 64-bit integers as strings
and enums by name; input accepts proto and JSON names and ignores unknown fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from google.protobuf import duration_pb2, json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2  # noqa: F401 - error_details_pb2: see below

# Imported for their side effect: every type that can appear in a status detail (ErrorDetail,
# BadRequest, RetryInfo, RequestInfo, SmtpTestReport) is then in the default descriptor pool, so
# `@type` always resolves when an error is written as JSON.
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2  # noqa: F401
from mailgate.gen.zitadel import message_pb2  # noqa: F401
from mailgate.transports.gateway.routes import Match, Route

# grpc-gateway's runtime.HTTPStatusFromCode, indexed by gRPC code.
HTTP_STATUS = (200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401)
MARSHAL_FAILED = b'{"code":13,"message":"failed to marshal error message"}'


class TranscodeError(ValueError):
    """The request cannot become a message: answered 400 with code 3 and this text."""


def http_status(code: int) -> int:
    """The HTTP status grpc-gateway sends for a gRPC code."""
    return HTTP_STATUS[code] if 0 <= code < len(HTTP_STATUS) else 500


def status_json(status: status_pb2.Status) -> bytes:
    """google.rpc.Status as JSON: numeric code, message, details with `@type` (omitted when empty)."""
    try:
        return dumps(json_format.MessageToDict(status))
    except Exception:  # a detail whose type we cannot resolve: grpc-gateway's fixed answer
        return MARSHAL_FAILED


def error_json(code: int, message: str) -> bytes:
    """A detail-less Status JSON, for errors found before the pipeline."""
    return status_json(status_pb2.Status(code=code, message=message))


def encode_response(route: Route, response: Message) -> bytes:
    """The response (or its `response_body` field) as JSON."""
    if route.response_field is None:
        return message_json(response)
    data = message_to_dict(response)
    field = route.response_field
    if field.json_name in data:
        return dumps(data[field.json_name])
    return dumps(_empty_value(field))


def _empty_value(field: FieldDescriptor) -> Any:
    if field.is_repeated:
        return {} if _is_map(field) else []
    if field.message_type is not None:
        return {}
    if field.enum_type is not None:
        return field.enum_type.values[0].name
    if field.type in _INT64_TYPES:
        return "0"
    return field.default_value if field.type != FieldDescriptor.TYPE_BYTES else ""


# --- fast protojson ---
#
# json_format walks the descriptors on every call; for the hot read path we compile, once per message
# type, a table from field number to (JSON name, converter) and encode from ListFields(), which yields
# exactly the populated fields. The result equals json_format.MessageToDict(message) (a test compares
# them); any type with a field kind not handled here is left to json_format entirely.

_Convert = Callable[[Any], Any]
_Table = dict[int, tuple[str, _Convert]]
_TABLES: dict[str, _Table | None] = {}
_PLAIN = frozenset(
    {
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_BOOL,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_FIXED32,
    }
)


def message_to_dict(message: Message) -> dict[str, Any]:
    """protojson of `message` as a dict: lowerCamelCase, unpopulated fields omitted, int64 as strings."""
    name = message.DESCRIPTOR.full_name
    if name not in _TABLES:
        _TABLES[name] = _compile(message.DESCRIPTOR)
    table = _TABLES[name]
    if table is None:
        return dict(json_format.MessageToDict(message))
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        entry = table.get(field.number)
        if entry is None:  # an extension: let json_format decide
            return dict(json_format.MessageToDict(message))
        out[entry[0]] = entry[1](value)
    return out


def _compile(descriptor: Any) -> _Table | None:
    if descriptor.full_name.startswith("google.protobuf."):
        return None  # well-known types have their own JSON forms
    table: dict[int, tuple[str, _Convert]] = {}
    for field in descriptor.fields:
        convert = _converter(field)
        if convert is None:
            return None
        if field.is_repeated:
            convert = _each(convert)
        table[field.number] = (field.json_name, convert)
    return table


def _each(convert: _Convert) -> _Convert:
    return lambda values: [convert(value) for value in values]


def _identity(value: Any) -> Any:
    return value


def _converter(field: Any) -> _Convert | None:
    kind = field.type
    if _is_map(field) or kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return None  # rare here; json_format has the exact rules
    if kind in _PLAIN:
        return _identity
    if kind in _INT64_TYPES:
        return str
    if kind == FieldDescriptor.TYPE_BYTES:
        return lambda value: base64.b64encode(value).decode()
    if kind == FieldDescriptor.TYPE_ENUM:
        names = {value.number: value.name for value in field.enum_type.values}
        return lambda value: names.get(value, value)
    if kind == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            return lambda value: value.ToJsonString()
        if field.message_type.full_name.startswith("google.protobuf."):
            return json_format.MessageToDict
        return message_to_dict
    return None


def message_json(message: Message) -> bytes:
    """`message` as compact protojson (see message_to_dict)."""
    return dumps(message_to_dict(message))


def dumps(data: Any) -> bytes:
    """Compact JSON, UTF-8, non-ASCII left as is (as Go's encoder writes it)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def decode_request(match: Match, query: bytes, body: bytes) -> Message:
    """Body first, then path values overwrite, then the query string fills what neither bound."""
    route = match.route
    message = route.spec.request_type()
    if route.body:
        _parse_body(message, route, body)
    for path, value in match.params.items():
        try:
            set_field(message, path.split("."), [value], path_value=True)
        except TranscodeError as exc:
            raise TranscodeError(f"type mismatch, parameter: {path}, error: {exc}") from None
    if route.body != "*" and query:
        apply_query(message, query, route.reserved)
    return message


def _parse_body(message: Message, route: Route, body: bytes) -> None:
    if not body.strip():
        return  # an empty body is an empty message, as io.EOF is for grpc-gateway
    merge_json(message, body, route.body_field)


def merge_json(message: Message, body: bytes, field: FieldDescriptor | None = None) -> None:
    """Parse the JSON `body` into `message` (or into its top-level `field`).

    Proto and JSON names are both accepted and unknown fields ignored, as grpc-gateway and
    connect-go read JSON; anything unreadable raises TranscodeError with the parser's reason.
    """
    try:
        data = json.loads(body)
        if field is not None:
            data = {field.json_name: data}
        elif not isinstance(data, dict):
            raise TranscodeError("request body must be a JSON object")
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except TranscodeError:
        raise
    except (ValueError, TypeError, AttributeError, RecursionError, json_format.ParseError) as exc:
        raise TranscodeError(str(exc) or "invalid JSON body") from None


# --- query parameters (grpc-gateway runtime/query.go) ---

_MAP_KEY = re.compile(r"^(.*)\[(.*)\]$")


def apply_query(message: Message, query: bytes, reserved: Iterable[str] = ()) -> None:
    """Set fields from `a.b=1&tag=x&tag=y&labels[k]=v`; unknown parameters are ignored."""
    blocked = frozenset(reserved)
    grouped: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(query.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise TranscodeError("query string is not UTF-8") from None
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        found = _MAP_KEY.match(key)
        if found:
            key, values = found[1], [found[2], *values]
        names = key.split(".")
        if _is_reserved(message.DESCRIPTOR, names, blocked):
            continue
        set_field(message, names, values)


def _is_reserved(descriptor: Any, names: list[str], blocked: frozenset[str]) -> bool:
    # Compare by proto names, whichever spelling the query used.
    resolved: list[str] = []
    current: Descriptor | None = descriptor
    for name in names:
        field = _lookup(current, name) if current is not None else None
        if field is None:
            return False
        resolved.append(field.name)
        if ".".join(resolved) in blocked:
            return True
        current = field.message_type
    return False


def _lookup(descriptor: Any, name: str) -> Any:
    field = descriptor.fields_by_name.get(name)
    if field is not None:
        return field
    for candidate in descriptor.fields:
        if candidate.json_name == name:
            return candidate
    return None


def set_field(message: Message, names: list[str], values: list[str], path_value: bool = False) -> None:
    """Walk `names` (proto or JSON names) through singular messages and set the leaf from `values`."""
    for depth, name in enumerate(names):
        field = _lookup(message.DESCRIPTOR, name)
        if field is None:
            if path_value:
                raise TranscodeError(f"no field {name!r}")
            return  # unknown query parameters are ignored
        _check_oneof(message, field)
        if depth == len(names) - 1:
            _set_leaf(message, field, values, path_value)
            return
        if field.message_type is None or field.is_repeated:
            raise TranscodeError(f'invalid path: "{field.name}" is not a message')
        message = getattr(message, field.name)


def _check_oneof(message: Message, field: FieldDescriptor) -> None:
    oneof = field.containing_oneof
    if oneof is None or _is_synthetic(field):
        return
    current = message.WhichOneof(oneof.name)
    if current is not None and current != field.name:
        raise TranscodeError(f'field already set for oneof "{oneof.name}"')


def _is_synthetic(field: FieldDescriptor) -> bool:
    oneof = field.containing_oneof
    return oneof is not None and len(oneof.fields) == 1 and oneof.name == "_" + field.name


def _set_leaf(message: Message, field: Any, values: list[str], path_value: bool) -> None:
    if _is_map(field):
        if len(values) != 2:
            raise TranscodeError(f'more than one value provided for key "{values[0]}" in map "{field.name}"')
        key_field, value_field = (
            field.message_type.fields_by_name["key"],
            field.message_type.fields_by_name["value"],
        )
        target = getattr(message, field.name)
        key = _scalar(key_field, values[0])
        if value_field.message_type is not None:
            _message_value(target[key], values[1])
        else:
            target[key] = _scalar(value_field, values[1])
        return
    if field.is_repeated:
        if path_value:  # grpc-gateway's default repeated_path_param_separator is csv
            values = values[0].split(",")
        container = getattr(message, field.name)
        for value in values:
            if field.message_type is not None:
                _message_value(container.add(), value)
            else:
                container.append(_scalar(field, value))
        return
    if len(values) != 1:
        raise TranscodeError(f'too many values for field "{field.name}": {", ".join(values)}')
    if field.message_type is not None:
        _message_value(getattr(message, field.name), values[0])
        return
    try:
        setattr(message, field.name, _scalar(field, values[0]))
    except (ValueError, TypeError) as exc:
        raise TranscodeError(str(exc)) from None


_INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    }
)
_SIGNED = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_UNSIGNED = frozenset(
    {
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    }
)
_BITS = {
    FieldDescriptor.TYPE_INT32: 32,
    FieldDescriptor.TYPE_SINT32: 32,
    FieldDescriptor.TYPE_SFIXED32: 32,
    FieldDescriptor.TYPE_UINT32: 32,
    FieldDescriptor.TYPE_FIXED32: 32,
}
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")
_UNSIGNED_INT = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"[+-]?(inf|infinity|nan|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)", re.IGNORECASE)


def _scalar(field: FieldDescriptor, value: str) -> Any:
    """One query or path value as Go's strconv would read it for this field type."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return value
    if kind == FieldDescriptor.TYPE_BOOL:
        return _parse_bool(value)
    if kind in _SIGNED or kind in _UNSIGNED:
        return _parse_int(field, value)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if not _FLOAT.fullmatch(value):
            raise TranscodeError(f'strconv.ParseFloat: parsing "{value}": invalid syntax')
        return float(value)
    if kind == FieldDescriptor.TYPE_ENUM:
        return _parse_enum(field, value)
    if kind == FieldDescriptor.TYPE_BYTES:
        return _parse_bytes(value)
    raise TranscodeError(f"unsupported field type for {field.name}")


def _parse_bool(value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise TranscodeError(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _parse_int(field: FieldDescriptor, value: str) -> int:
    unsigned = field.type in _UNSIGNED
    if not (_UNSIGNED_INT if unsigned else _SIGNED_INT).fullmatch(value):
        raise TranscodeError(
            f'strconv.Parse{"Uint" if unsigned else "Int"}: parsing "{value}": invalid syntax'
        )
    number = int(value)
    bits = _BITS.get(field.type, 64)
    low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not low <= number <= high:
        raise TranscodeError(f'parsing "{value}": value out of range')
    return number


def _parse_enum(field: Any, value: str) -> int:
    enum = field.enum_type
    named = enum.values_by_name.get(value)
    if named is not None:
        return int(named.number)
    if _SIGNED_INT.fullmatch(value) and int(value) in enum.values_by_number:
        return int(value)
    raise TranscodeError(f'"{value}" is not a valid value')


def _parse_bytes(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            return decode(padded.encode())
        except (binascii.Error, ValueError):
            continue
    raise TranscodeError(f'"{value}" is not base64')


def _is_map(field: FieldDescriptor) -> bool:
    message = field.message_type
    return field.is_repeated and message is not None and message.GetOptions().map_entry


# --- well-known types in the query string ---

_WRAPPERS = frozenset(
    "google.protobuf." + name
    for name in (
        "DoubleValue",
        "FloatValue",
        "Int64Value",
        "UInt64Value",
        "Int32Value",
        "UInt32Value",
        "BoolValue",
        "StringValue",
        "BytesValue",
    )
)
_GO_DURATION = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NANOS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def _message_value(target: Message, value: str) -> None:
    name = target.DESCRIPTOR.full_name
    setter = _WKT_SETTERS.get(name)
    if setter is None and name in _WRAPPERS:
        setter = _set_wrapper
    if setter is None:
        raise TranscodeError(f'unsupported message type: "{name}"')
    try:
        setter(target, value)
    except TranscodeError:
        raise
    except (ValueError, TypeError, json_format.ParseError) as exc:
        raise TranscodeError(str(exc)) from None


def _set_wrapper(target: Message, value: str) -> None:
    field: Any = target.DESCRIPTOR.fields_by_name["value"]
    setattr(target, "value", _scalar(field, value))  # noqa: B010 - the wrapper's field, set like any other


def _set_timestamp(target: Message, value: str) -> None:
    target.FromJsonString(value)  # type: ignore[attr-defined]


def _set_duration(target: Message, value: str) -> None:
    target.CopyFrom(parse_go_duration(value))


def _set_field_mask(target: Message, value: str) -> None:
    target.paths.extend(value.split(","))  # type: ignore[attr-defined]


def _set_json(target: Message, value: str) -> None:
    json_format.Parse(value, target)


_WKT_SETTERS: dict[str, Callable[[Message, str], None]] = {
    "google.protobuf.Timestamp": _set_timestamp,
    "google.protobuf.Duration": _set_duration,
    "google.protobuf.FieldMask": _set_field_mask,
    "google.protobuf.Struct": _set_json,
    "google.protobuf.Value": _set_json,
    "google.protobuf.ListValue": _set_json,
}


def parse_go_duration(value: str) -> duration_pb2.Duration:
    """Go's time.ParseDuration ("1h30m", "1.5s", "-300ms", "0") as a Duration."""
    text = value
    negative = text.startswith("-")
    if text[:1] in "+-" and text:
        text = text[1:]
    if text == "0":
        return duration_pb2.Duration()
    if not text:
        raise TranscodeError(f'time: invalid duration "{value}"')
    total = 0
    position = 0
    for found in _GO_DURATION.finditer(text):
        number, unit = found.groups()
        if found.start() != position or number in ("", "."):
            raise TranscodeError(f'time: invalid duration "{value}"')
        whole, _, fraction = number.partition(".")
        scale = _UNIT_NANOS[unit]
        total += int(whole or "0") * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        position = found.end()
    if position != len(text):
        raise TranscodeError(f'time: invalid duration "{value}"')
    total = -total if negative else total
    result = duration_pb2.Duration()
    result.FromNanoseconds(total)
    return result
