"""Path values and query parameters -> request fields, as grpc-gateway's runtime/query.go reads them.

Only the field kinds our protos bind from a URL are read: strings, booleans, integers and enums,
singular or repeated, reached through singular message fields (`?a.b=1`, `?tag=x&tag=y`). routes.py
refuses at start any route whose URL could reach another kind (maps, floats, bytes, well-known
types, repeated messages), so a request never meets one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from mailgate.transports.gateway.marshal import TranscodeError

if TYPE_CHECKING:
    # The stubs type `Message.DESCRIPTOR` as either protobuf's Python descriptor or upb's; both
    # have the attributes used here.
    from google._upb._message import Descriptor as UpbDescriptor
    from google._upb._message import FieldDescriptor as UpbFieldDescriptor

    MessageType: TypeAlias = Descriptor | UpbDescriptor
    Field: TypeAlias = FieldDescriptor | UpbFieldDescriptor

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
# Every scalar kind a path value or query parameter may set.
URL_KINDS = frozenset(
    {FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BOOL, FieldDescriptor.TYPE_ENUM} | _SIGNED | _UNSIGNED
)
_BITS_32 = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_FIXED32,
    }
)
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")
_UNSIGNED_INT = re.compile(r"[0-9]+")


def apply_query(message: Message, query: bytes, reserved: Iterable[str] = ()) -> None:
    """Set fields from `a.b=1&tag=x&tag=y`; unknown and `reserved` (path, body) fields are left alone."""
    blocked = frozenset(reserved)
    grouped: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(query.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise TranscodeError("query string is not UTF-8") from None
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        names = key.split(".")
        if not _is_reserved(message.DESCRIPTOR, names, blocked):
            _set_field(message, names, values)


def set_path_value(message: Message, path: str, value: str) -> None:
    """Set the singular scalar field at the dotted proto `path` (checked at start) from a path value."""
    *parents, leaf = path.split(".")
    for name in parents:
        _check_oneof(message, message.DESCRIPTOR.fields_by_name[name])
        message = getattr(message, name)
    field = message.DESCRIPTOR.fields_by_name[leaf]
    if field.type == FieldDescriptor.TYPE_STRING and field.containing_oneof is None:
        setattr(message, leaf, value)  # the usual `{id}`: nothing to parse, no oneof to check
        return
    _check_oneof(message, field)
    _set_scalar(message, field, value)


def _is_reserved(descriptor: MessageType, names: list[str], blocked: frozenset[str]) -> bool:
    # Compare by proto names, whichever spelling the query used.
    resolved: list[str] = []
    current: MessageType | None = descriptor
    for name in names:
        field = _lookup(current, name) if current is not None else None
        if field is None:
            return False
        resolved.append(field.name)
        if ".".join(resolved) in blocked:
            return True
        current = field.message_type
    return False


def _lookup(descriptor: MessageType, name: str) -> Field | None:
    field = descriptor.fields_by_name.get(name)
    if field is not None:
        return field
    for candidate in descriptor.fields:
        if candidate.json_name == name:
            return candidate
    return None


def _set_field(message: Message, names: list[str], values: list[str]) -> None:
    """Walk `names` (proto or JSON names) through singular messages and set the leaf from `values`."""
    for depth, name in enumerate(names):
        field = _lookup(message.DESCRIPTOR, name)
        if field is None:
            return  # unknown query parameters are ignored
        _check_oneof(message, field)
        if depth == len(names) - 1:
            _set_leaf(message, field, values)
            return
        if field.message_type is None or field.is_repeated:
            raise TranscodeError(f'invalid path: "{field.name}" is not a message')
        message = getattr(message, field.name)


def _check_oneof(message: Message, field: Field) -> None:
    oneof = field.containing_oneof
    if oneof is None or _is_synthetic(field):
        return
    current = message.WhichOneof(oneof.name)
    if current is not None and current != field.name:
        raise TranscodeError(f'field already set for oneof "{oneof.name}"')


def _is_synthetic(field: Field) -> bool:
    oneof = field.containing_oneof
    return oneof is not None and len(oneof.fields) == 1 and oneof.name == "_" + field.name


def _set_leaf(message: Message, field: Field, values: list[str]) -> None:
    if field.message_type is not None:
        raise TranscodeError(f'unsupported message type: "{field.message_type.full_name}"')
    if field.is_repeated:
        getattr(message, field.name).extend(_scalar(field, value) for value in values)
        return
    if len(values) != 1:
        raise TranscodeError(f'too many values for field "{field.name}": {", ".join(values)}')
    _set_scalar(message, field, values[0])


def _set_scalar(message: Message, field: Field, value: str) -> None:
    try:
        setattr(message, field.name, _scalar(field, value))
    except (ValueError, TypeError) as exc:
        raise TranscodeError(str(exc)) from None


def _scalar(field: Field, value: str) -> Any:
    """One query or path value as Go's strconv would read it for this field type."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return value
    if kind == FieldDescriptor.TYPE_BOOL:
        return _parse_bool(value)
    if kind in _SIGNED or kind in _UNSIGNED:
        return _parse_int(field, value)
    if kind == FieldDescriptor.TYPE_ENUM:
        return _parse_enum(field, value)
    raise TranscodeError(f"unsupported field type for {field.name}")  # routes.py refuses these at start


def _parse_bool(value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise TranscodeError(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _parse_int(field: Field, value: str) -> int:
    unsigned = field.type in _UNSIGNED
    if not (_UNSIGNED_INT if unsigned else _SIGNED_INT).fullmatch(value):
        raise TranscodeError(
            f'strconv.Parse{"Uint" if unsigned else "Int"}: parsing "{value}": invalid syntax'
        )
    number = int(value)
    bits = 32 if field.type in _BITS_32 else 64
    low, high = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not low <= number <= high:
        raise TranscodeError(f'parsing "{value}": value out of range')
    return number


def _parse_enum(field: Field, value: str) -> int:
    enum = field.enum_type
    if enum is None:
        raise TranscodeError(f"unsupported field type for {field.name}")
    named = enum.values_by_name.get(value)
    if named is not None:
        return int(named.number)
    if _SIGNED_INT.fullmatch(value) and int(value) in enum.values_by_number:
        return int(value)
    raise TranscodeError(f'"{value}" is not a valid value')
