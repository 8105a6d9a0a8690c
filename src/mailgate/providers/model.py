"""What an email provider is, independent of any API or table."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class State(enum.IntEnum):
    """Numbers as in EmailProviderState / SMTPConfigState."""

    ACTIVE = 1
    INACTIVE = 2


class AuthKind(enum.StrEnum):
    NONE = "none"
    PLAIN = "plain"
    XOAUTH2 = "xoauth2"


@dataclass(frozen=True)
class SmtpAuth:
    """How the provider authenticates; secrets stay sealed (see mailgate.secrets)."""

    kind: AuthKind = AuthKind.NONE
    password_sealed: str | None = None
    token_endpoint: str = ""
    scopes: tuple[str, ...] = ()
    client_id: str = ""
    client_secret_sealed: str | None = None

    @property
    def has_secret(self) -> bool:
        return bool(self.password_sealed or self.client_secret_sealed)


@dataclass(frozen=True)
class SmtpSettings:
    sender_address: str
    sender_name: str
    host: str
    tls: bool = False
    user: str = ""
    reply_to_address: str = ""
    auth: SmtpAuth = field(default_factory=SmtpAuth)


@dataclass(frozen=True)
class HttpSettings:
    endpoint: str
    signing_key_sealed: str | None = None


@dataclass(frozen=True)
class Provider:
    """One email provider of an instance: exactly one of `smtp` and `http` is set."""

    instance_id: str
    id: str
    state: State
    description: str
    creation_sequence: int
    sequence: int
    created_at: datetime
    changed_at: datetime
    smtp: SmtpSettings | None = None
    http: HttpSettings | None = None

    @property
    def is_active(self) -> bool:
        return self.state is State.ACTIVE


@dataclass(frozen=True)
class Change:
    """What a write did: the instance sequence it took and when."""

    sequence: int
    at: datetime
    resource_owner: str


@dataclass(frozen=True)
class Page:
    """One page of an instance's providers, with the totals a list response reports."""

    providers: list[Provider]
    total: int
    instance_sequence: int
