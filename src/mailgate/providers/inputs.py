"""What a request asks for, in domain terms; the servicer builds these from request messages."""

from __future__ import annotations

from dataclasses import dataclass

from mailgate.providers.model import AuthKind


@dataclass(frozen=True)
class AuthInput:
    """A request's auth choice. `kind=None` means the request did not set the Auth oneof (older clients)."""

    kind: AuthKind | None = None
    password: str = ""
    token_endpoint: str = ""
    scopes: tuple[str, ...] = ()
    client_id: str = ""
    client_secret: str = ""

    @property
    def secret(self) -> str:
        """The secret this request supplies for its auth kind ("" when it leaves it to the store)."""
        return self.client_secret if self.kind is AuthKind.XOAUTH2 else self.password


@dataclass(frozen=True)
class SmtpInput:
    sender_address: str
    sender_name: str
    host: str
    tls: bool
    user: str
    reply_to_address: str
    description: str
    auth: AuthInput


def storable(text: str) -> bool:
    """False for text no store can hold: PostgreSQL refuses NUL characters in text columns."""
    return "\x00" not in text
