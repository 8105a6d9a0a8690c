"""What an email provider is, independent of any API or table."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from mailgate.providers.auth import NoAuth, StoredAuth


class State(enum.IntEnum):
    """Numbers as in EmailProviderState / SMTPConfigState."""

    ACTIVE = 1
    INACTIVE = 2


@dataclass(frozen=True)
class SmtpSettings:
    sender_address: str
    sender_name: str
    host: str
    tls: bool = False
    user: str = ""
    reply_to_address: str = ""
    auth: StoredAuth = field(default_factory=NoAuth)


@dataclass(frozen=True)
class HttpSettings:
    SECRET: ClassVar[str] = "signing_key"  # the field its sealed key is bound to (providers.sealing)
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
    # Grows with every change to it, or to which of the instance's providers is active (its etag).
    version: int = 1

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
