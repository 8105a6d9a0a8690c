"""Messages <-> JSON as grpc-gateway v2 with ZITADEL's marshaler, and google.rpc.Status as JSON.

Output is protojson with lowerCamelCase names, unpopulated fields omitted, 64-bit integers as strings
and enums by name; input accepts proto and JSON names and ignores unknown fields.
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2  # noqa: F401 - error_details_pb2: see below

from mailgate.errors import MailgateError

# Imported for their side effect: every type that can appear in a status detail (ErrorDetail,
# BadRequest, RetryInfo, RequestInfo, SmtpTestReport) is then in the default descriptor pool, so
# `@type` always resolves when an error is written as JSON.
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2  # noqa: F401
from mailgate.gen.zitadel import message_pb2  # noqa: F401

if TYPE_CHECKING:
    from mailgate.transports.gateway.routes import Route

MARSHAL_FAILED = b'{"code":13,"message":"failed to marshal error message"}'


class TranscodeError(MailgateError, ValueError):
    """The request cannot become a message: answered 400 with code 3 and this text."""


def dumps(data: Any) -> bytes:
    """Compact JSON, UTF-8, non-ASCII left as is (as Go's encoder writes it)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


# --- errors ---


def status_json(status: status_pb2.Status) -> bytes:
    """google.rpc.Status as JSON: numeric code, message, details with `@type` (omitted when empty)."""
    try:
        return dumps(json_format.MessageToDict(status))
    except Exception:  # a detail whose type we cannot resolve: grpc-gateway's fixed answer
        return MARSHAL_FAILED


def error_json(code: int, message: str) -> bytes:
    """A detail-less Status JSON, for errors found before the pipeline."""
    return status_json(status_pb2.Status(code=code, message=message))


# --- requests ---


def merge_json(message: Message, body: bytes) -> None:
    """Parse the JSON object `body` into `message`.

    Proto and JSON names are both accepted and unknown fields ignored, as grpc-gateway and
    connect-go read JSON; anything unreadable raises TranscodeError with the parser's reason.
    """
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise TranscodeError("request body must be a JSON object")
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except TranscodeError:
        raise
    except (ValueError, TypeError, AttributeError, RecursionError, json_format.ParseError) as exc:
        raise TranscodeError(str(exc) or "invalid JSON body") from None


# --- responses ---


def encode_response(route: Route, response: Message) -> bytes:
    """The response of `route` as JSON: always the whole message, since routes.py refuses
    `response_body` at start (the route stays a parameter so that callers need not change)."""
    return message_json(response)


def message_json(message: Message) -> bytes:
    """`message` as compact protojson, from the encoding cache when these exact bytes were seen."""
    return ENCODINGS.json(message)


class EncodingCache:
    """JSON encodings keyed by what they encode: the message type and its deterministic wire bytes.

    Reads send the same provider again and again, and protojson costs far more than serializing
    (which upb does in C). Equal bytes of one type are an equal message, so an entry can never be
    stale: a provider that changed has other bytes and gets its own entry. Least recently used
    entries go once the cached bytes pass `max_bytes`; larger messages are encoded every time.
    """

    def __init__(self, max_bytes: int = 4 * 1024 * 1024, max_message: int = 16 * 1024) -> None:
        self.max_bytes = max_bytes
        self.max_message = max_message
        self.size = 0  # wire bytes plus JSON bytes of every entry
        self._entries: OrderedDict[tuple[object, bytes], bytes] = OrderedDict()  # (DESCRIPTOR, wire)

    def __len__(self) -> int:
        return len(self._entries)

    def json(self, message: Message) -> bytes:
        """The protojson bytes of `message` (see message_to_dict)."""
        wire = message.SerializeToString(deterministic=True)
        key = (message.DESCRIPTOR, wire)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        encoded = dumps(message_to_dict(message))
        if len(wire) <= self.max_message:
            self._entries[key] = encoded
            self.size += len(wire) + len(encoded)
            while self.size > self.max_bytes:
                (_, old_wire), old = self._entries.popitem(last=False)
                self.size -= len(old_wire) + len(old)
        return encoded


ENCODINGS = EncodingCache()


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
_INT64 = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
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
        return None  # none of our messages has them; json_format has the exact rules
    if kind in _PLAIN:
        return _identity
    if kind in _INT64:
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


def _is_map(field: FieldDescriptor) -> bool:
    message = field.message_type
    return field.is_repeated and message is not None and message.GetOptions().map_entry
