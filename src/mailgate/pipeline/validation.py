"""Proto-declared rules (protovalidate) to InvalidArgument: ZITADEL's one-line message, every field listed."""

from __future__ import annotations

from typing import Any, cast

import protovalidate
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.gen.buf.validate import validate_pb2

_validator = protovalidate.Validator()
_FIELD_RULES = cast(Any, validate_pb2.field)


def validate(message: Message) -> None:
    """Raise InvalidArgument listing every violated field of `message`."""
    found = _validator.collect_violations(message)
    if found:
        raise InvalidArgument.fields(
            [_describe(cast(Descriptor, message.DESCRIPTOR), v.proto, v.rule_value) for v in found]
        )


def _go_name(field: FieldDescriptor) -> str:
    return "".join(part[:1].upper() + part[1:] for part in field.name.split("_"))


def _describe(root: Descriptor, violation: object, rule_value: object) -> FieldViolation:
    elements = list(violation.field.elements)  # type: ignore[attr-defined]
    descriptor, path, names = root, [], []
    leaf: FieldDescriptor | None = None
    for element in elements:
        leaf = descriptor.fields_by_number[element.field_number]
        subscript = "" if element.subscript is None else f"[{element.subscript.value}]"
        path.append(leaf.name + subscript)
        names.append((descriptor.name, _go_name(leaf) + subscript))
        if leaf.message_type is not None:
            descriptor = leaf.message_type
    reason = _reason(leaf, violation.rule_id, violation.message, rule_value)  # type: ignore[attr-defined]
    # PGV reports a nested failure through each enclosing message, innermost last.
    text = f"invalid {names[-1][0]}.{names[-1][1]}: {reason}"
    for owner, name in reversed(names[:-1]):
        text = f"invalid {owner}.{name}: embedded message failed validation | caused by: {text}"
    return FieldViolation(field=".".join(path), description=reason, message=text)


def _reason(field: FieldDescriptor | None, rule_id: str, fallback: str, rule_value: object) -> str:
    if rule_id.startswith("string.") and rule_id.endswith("_len") and field is not None:
        rules: Any = field.GetOptions().Extensions[_FIELD_RULES]
        if rules.HasField("repeated"):
            rules = rules.repeated.items
        low = rules.string.min_len if rules.string.HasField("min_len") else None
        high = rules.string.max_len if rules.string.HasField("max_len") else None
        if low is not None and high is not None:
            return f"value length must be between {low} and {high} runes, inclusive"
        if low is not None:
            return f"value length must be at least {low} runes"
        return f"value length must be at most {high} runes"
    if rule_id == "string.email":
        return "value must be a valid email address"
    if rule_id == "duration.const":
        return "value must equal 0s"
    return f"value {fallback}"
