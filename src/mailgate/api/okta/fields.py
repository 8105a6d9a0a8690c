"""Okta's request properties, declared once: each spec checks a JSON value and describes it in OpenAPI.

A problem becomes one FieldViolation (one errorCause). The numbers in a spec (200 characters, 20
scopes) are both what the check enforces and what the schema says, so the two cannot drift apart.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

from mailgate.delivery.message import AddressError, parse_mailbox
from mailgate.delivery.oauth import TokenError, load_rsa_private_key
from mailgate.errors import FieldViolation, MailgateError
from mailgate.providers.inputs import http_url, storable

T = TypeVar("T", covariant=True)
V = TypeVar("V")
Schema = dict[str, object]

# Characters a host name never has: whitespace, the port separator, URL and address punctuation.
_HOST = re.compile(r"[^\s:/\\\[\]@?#%]+")
MAX_PRIVATE_KEY = 16_384  # PEM text; a 4096-bit RSA key is about 3,300 characters


class Problems:
    """The violations found in one property (a list's items add their own paths)."""

    def __init__(self) -> None:
        self.found: list[FieldViolation] = []

    def add(self, name: str, reason: str) -> None:
        """Record that `name` is invalid, and why."""
        self.found.append(FieldViolation(field=name, description=reason))


class Spec(Protocol[T]):
    """What one JSON value must be: `check` gives it as T (None after adding why not), `schema` says so."""

    def check(self, value: object, name: str, problems: Problems) -> T | None: ...

    def schema(self) -> Schema: ...


@dataclass(frozen=True)
class Text:
    """A string of `low`..`high` characters the store can hold."""

    high: int
    low: int = 1

    def check(self, value: object, name: str, problems: Problems) -> str | None:
        if not isinstance(value, str):
            problems.add(name, "must be a string")
            return None
        if not storable(value):
            problems.add(name, "must not contain NUL characters or unpaired surrogates")
            return None
        if not self.low <= len(value) <= self.high:
            problems.add(name, f"length must be between {self.low} and {self.high} characters")
            return None
        return value

    def schema(self) -> Schema:
        return {"type": "string", "minLength": self.low, "maxLength": self.high}


@dataclass(frozen=True)
class Port:
    """A JSON integer from 1 to 65535."""

    def check(self, value: object, name: str, problems: Problems) -> int | None:
        # bool is an int in Python, but `true` is no port.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 65535:
            problems.add(name, "must be an integer from 1 to 65535")
            return None
        return value

    def schema(self) -> Schema:
        return {"type": "integer", "minimum": 1, "maximum": 65535}


@dataclass(frozen=True)
class Flag:
    """A JSON boolean."""

    def check(self, value: object, name: str, problems: Problems) -> bool | None:
        if isinstance(value, bool):
            return value
        problems.add(name, "must be true or false")
        return None

    def schema(self) -> Schema:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(Generic[V]):
    """One of the names in `options`, given as what it stands for."""

    options: Mapping[str, V]

    def check(self, value: object, name: str, problems: Problems) -> V | None:
        if isinstance(value, str) and value in self.options:
            return self.options[value]
        problems.add(name, f"must be one of {', '.join(self.options)}")
        return None

    def schema(self) -> Schema:
        return {"type": "string", "enum": list(self.options)}


@dataclass(frozen=True)
class Scopes:
    """1 to `most` strings, each an `item`; a problem of an item names it (`scopes[1]`)."""

    item: Text = Text(100)
    most: int = 20

    def check(self, value: object, name: str, problems: Problems) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not 1 <= len(value) <= self.most:
            problems.add(name, f"must be a list of 1 to {self.most} scopes")
            return None
        # null is no scope (only a missing property counts as not given): Text refuses it.
        items = [self.item.check(item, f"{name}[{index}]", problems) for index, item in enumerate(value)]
        scopes = tuple(item for item in items if item is not None)
        return scopes if len(scopes) == len(items) else None

    def schema(self) -> Schema:
        return {"type": "array", "minItems": 1, "maxItems": self.most, "items": self.item.schema()}


class Refused(MailgateError, ValueError):
    """A text that is no value of its kind; the message says why (and never quotes a secret)."""


@dataclass(frozen=True)
class Refined:
    """A Text that must also be a value of some kind: `refine` gives it as such, or raises Refused."""

    text: Text
    SCHEMA: ClassVar[Mapping[str, str]] = {}  # what the schema says besides the length

    def refine(self, text: str) -> str:
        raise NotImplementedError

    def check(self, value: object, name: str, problems: Problems) -> str | None:
        given = self.text.check(value, name, problems)
        if given is None:
            return None
        try:
            return self.refine(given)
        except Refused as refused:
            problems.add(name, str(refused))
            return None

    def schema(self) -> Schema:
        return {**self.text.schema(), **self.SCHEMA}


@dataclass(frozen=True)
class Host(Refined):
    """A host name or IP address without port (an IPv6 address with or without brackets)."""

    text: Text = Text(253)
    SCHEMA = {"description": "Host name or IP address, without the port"}

    def refine(self, text: str) -> str:
        bare = text.strip()
        if bare.startswith("[") and bare.endswith("]"):
            bare = bare[1:-1]
        if ":" in bare:
            try:
                return str(ipaddress.IPv6Address(bare))
            except ValueError:
                pass
        elif _HOST.fullmatch(bare):
            return bare
        raise Refused("must be a host name or IP address, without the port (send it as port)")


@dataclass(frozen=True)
class Url(Refined):
    """An http or https URL with a host (a token endpoint), without surrounding blanks."""

    text: Text = Text(200)
    SCHEMA = {"format": "uri"}

    def refine(self, text: str) -> str:
        url = text.strip()
        if not http_url(url):
            raise Refused("must be an http or https URL")
        return url


@dataclass(frozen=True)
class PrivateKey(Refined):
    """Unencrypted PEM of an RSA key RS256 can use; the reason never quotes the key."""

    text: Text = Text(MAX_PRIVATE_KEY)
    SCHEMA = {"description": "PEM of an RSA key"}

    def refine(self, text: str) -> str:
        try:
            load_rsa_private_key(text)
        except TokenError as exc:
            raise Refused(str(exc)) from None
        return text


@dataclass(frozen=True)
class EmailAddress(Refined):
    """An email address a test email can use (delivery.message decides), without surrounding blanks."""

    text: Text = Text(200)
    SCHEMA = {"format": "email"}

    def refine(self, text: str) -> str:
        try:
            parse_mailbox(text)
        except AddressError:
            raise Refused("must be a valid email address") from None
        return text.strip()


@dataclass(frozen=True)
class Field(Generic[T]):
    """One property of a request body: Okta's name for it and its spec.

    `carries` names the auth union's field it sets (providers.auth), `secret` makes it write-only,
    and `default` is what a body that leaves it out (or sends null) means.
    """

    name: str
    spec: Spec[T]
    carries: str = ""
    secret: bool = False
    default: T | None = None

    def schema(self) -> Schema:
        """The property's schema, as a request body declares it."""
        schema = self.spec.schema()
        if self.secret:
            schema["writeOnly"] = True
        if self.default is not None:
            schema["default"] = self.default
        return schema
