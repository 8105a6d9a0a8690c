"""How a declared request body is read: every field checked, every problem kept, a typed value built.

`Body` is a declaration (its fields, the required ones, a builder); `Reader` reads one request
through it. The same declaration gives the body's JSON schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from mailgate.api.okta.fields import Field, Problems, Schema
from mailgate.errors import FieldViolation, InvalidArgument

B = TypeVar("B")
B_co = TypeVar("B_co", covariant=True)
V = TypeVar("V")


class Parser(Protocol[B_co]):
    """What an operation reads from its request body."""

    @property
    def name(self) -> str:
        """The body's schema in the OpenAPI document; "" when the operation reads no body."""
        ...

    def parse(self, raw: bytes) -> B_co:
        """The body as its typed value, or INVALID_ARGUMENT."""
        ...


@dataclass(frozen=True)
class Body(Generic[B]):
    """One request body: its fields (in the order problems are told), the required ones, and how
    the checked values make its typed value (None only when a check refused something)."""

    name: str  # its schema's name in the OpenAPI document
    fields: tuple[Field[object], ...]
    build: Callable[[Reader], B | None]
    required: tuple[Field[object], ...] = ()
    description: str = ""

    def parse(self, raw: bytes) -> B:
        """The body as its typed value, or INVALID_ARGUMENT naming every invalid field."""
        read = Reader(decode(raw), self.fields, self.required)
        built = self.build(read)
        read.finish()
        assert built is not None, f"{self.name}: nothing was refused, yet nothing was built"
        return built

    def schema(self) -> Schema:
        """The body's JSON schema."""
        return object_schema(self.fields, self.required, self.description)


@dataclass(frozen=True)
class NoBody:
    """What GET and DELETE read: nothing (a body they are sent is ignored)."""

    name: str = ""

    def parse(self, raw: bytes) -> None:
        return None


NO_BODY = NoBody()


class Reader:
    """Reads one request body through its declared fields, keeping every problem for one answer.

    Problems are reported in the declaration's order, whatever order the fields are read in: the
    required ones that are missing first, then each field's own, then those added with `refuse`.
    Every declared field must be read, once.
    """

    def __init__(
        self,
        body: Mapping[str, object],
        fields: Sequence[Field[object]],
        required: Sequence[Field[object]] = (),
    ) -> None:
        self._body = body
        self._missing = [FieldViolation(f.name, "is required") for f in required if body.get(f.name) is None]
        self._found = {field.name: Problems() for field in fields}
        self._unread = set(self._found)
        self._refused: list[FieldViolation] = []

    def __call__(self, field: Field[V]) -> V | None:
        """The field's checked value; its default when absent or null; None when invalid."""
        assert field.name in self._unread, f"{field.name} is read twice, or not declared"
        self._unread.remove(field.name)
        value = self._body.get(field.name)
        if value is None:
            return field.default
        return field.spec.check(value, field.name, self._found[field.name])

    def present(self, field: Field[object]) -> bool:
        """Whether the body gives the field (invalid or not); null counts as left out."""
        return self._body.get(field.name) is not None

    def refuse(self, field: Field[object], reason: str) -> None:
        """A problem with the body as a whole (a field it must or must not have), reported last."""
        self._refused.append(FieldViolation(field.name, reason))

    def refused(self) -> bool:
        """Whether anything was found wrong so far."""
        return bool(self._missing or self._refused or any(p.found for p in self._found.values()))

    def finish(self) -> None:
        """Raise InvalidArgument listing every problem, if there is one."""
        assert not self._unread, f"declared but never read: {sorted(self._unread)}"
        found = [violation for problems in self._found.values() for violation in problems.found]
        violations = [*self._missing, *found, *self._refused]
        if violations:
            raise InvalidArgument.fields(violations)


def object_schema(
    fields: Sequence[Field[object]], required: Sequence[Field[object]], description: str = ""
) -> Schema:
    """A JSON object of `fields`; the optional ones may be null, which counts as left out."""
    names = [field.name for field in required]
    properties = {
        field.name: field.schema() if field.name in names else {**field.schema(), "nullable": True}
        for field in fields
    }
    schema: Schema = {"type": "object", "properties": properties}
    if description:
        schema["description"] = description
    if names:
        schema["required"] = names
    return schema


def decode(raw: bytes) -> Mapping[str, object]:
    """The request body as a JSON object, or INVALID_ARGUMENT."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        value = None
        reason = "is not valid JSON"
    else:
        reason = "must be a JSON object"
    if not isinstance(value, dict):
        raise InvalidArgument.fields([FieldViolation("body", reason)])
    return value
