"""Checks of single JSON values of an Okta request; each problem becomes one FieldViolation (errorCause)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from mailgate.delivery.message import AddressError, parse_mailbox
from mailgate.delivery.oauth import TokenError, load_rsa_private_key
from mailgate.errors import FieldViolation
from mailgate.providers.inputs import storable

# Characters a host name never has: whitespace, the port separator, URL and address punctuation.
_HOST = re.compile(r"[^\s:/\\\[\]@?#%]+")
MAX_PRIVATE_KEY = 16_384  # PEM text; a 4096-bit RSA key is about 3,300 characters


class Problems:
    """Collects the violations of one request body, so every invalid field is reported at once."""

    def __init__(self) -> None:
        self.found: list[FieldViolation] = []

    def add(self, name: str, reason: str) -> None:
        """Record that `name` is invalid, and why."""
        self.found.append(FieldViolation(field=name, description=reason))

    def text(self, body: dict[str, Any], name: str, high: int, low: int = 1) -> str | None:
        """A string of `low`..`high` characters the store can hold; None when absent or invalid."""
        value = body.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(name, "must be a string")
            return None
        if not storable(value):
            self.add(name, "must not contain NUL characters or unpaired surrogates")
            return None
        if not low <= len(value) <= high:
            self.add(name, f"length must be between {low} and {high} characters")
            return None
        return value

    def choice(self, body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
        """One of `allowed`; None when absent or invalid."""
        value = body.get(name)
        if value is None:
            return None
        if value not in allowed:
            self.add(name, f"must be one of {', '.join(allowed)}")
            return None
        return str(value)

    def flag(self, body: dict[str, Any], name: str) -> bool | None:
        """A JSON boolean; None when absent or invalid."""
        value = body.get(name)
        if value is None or isinstance(value, bool):
            return value
        self.add(name, "must be true or false")
        return None

    def port(self, body: dict[str, Any], name: str = "port") -> int | None:
        """A JSON integer from 1 to 65535; None when absent or invalid."""
        value = body.get(name)
        if value is None:
            return None
        # bool is an int in Python, but `true` is no port.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 65535:
            self.add(name, "must be an integer from 1 to 65535")
            return None
        return value

    def host(self, body: dict[str, Any], name: str = "host") -> str | None:
        """A host name or IP address without port (an IPv6 address with or without brackets)."""
        value = self.text(body, name, 253)
        if value is None:
            return None
        bare = value.strip()
        if bare.startswith("[") and bare.endswith("]"):
            bare = bare[1:-1]
        if ":" in bare:
            try:
                return str(ipaddress.IPv6Address(bare))
            except ValueError:
                pass
        elif _HOST.fullmatch(bare):
            return bare
        self.add(name, "must be a host name or IP address, without the port (send it as port)")
        return None

    def url(self, body: dict[str, Any], name: str) -> str | None:
        """An http or https URL with a host (a token endpoint); None when absent or invalid."""
        value = self.text(body, name, 200)
        if value is None:
            return None
        try:
            parts = urlsplit(value.strip())
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid:
            self.add(name, "must be an http or https URL")
            return None
        return value.strip()

    def scopes(self, body: dict[str, Any], name: str = "scopes") -> tuple[str, ...] | None:
        """1 to 20 strings of 1 to 100 characters; None when absent or invalid."""
        value = body.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not 1 <= len(value) <= 20:
            self.add(name, "must be a list of 1 to 20 scopes")
            return None
        items = []
        for index, item in enumerate(value):
            path = f"{name}[{index}]"
            if item is None:  # null is no scope; only a missing property counts as not given
                self.add(path, "must be a string")
                continue
            items.append(self.text({path: item}, path, 100))
        if len(items) < len(value) or any(item is None for item in items):
            return None
        return tuple(item for item in items if item is not None)

    def private_key(self, body: dict[str, Any], name: str = "privateKey") -> str | None:
        """Unencrypted PEM of an RSA key RS256 can use; the reason never quotes the key."""
        value = self.text(body, name, MAX_PRIVATE_KEY)
        if value is None:
            return None
        try:
            load_rsa_private_key(value)
        except TokenError as exc:
            self.add(name, str(exc))
            return None
        return value

    def address(self, body: dict[str, Any], name: str) -> str | None:
        """An email address the test email can use; None when absent or invalid."""
        value = self.text(body, name, 200)
        if value is None:
            return None
        try:
            parse_mailbox(value, name)
        except AddressError:
            self.add(name, "must be a valid email address")
            return None
        return value.strip()

    def require(self, body: dict[str, Any], names: tuple[str, ...]) -> None:
        """One violation for each of `names` the body leaves out (null counts as left out)."""
        for name in names:
            if body.get(name) is None:
                self.add(name, "is required")
