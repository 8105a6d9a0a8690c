"""Event types, the change a command records (Draft), and an event as stored (Event)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailgate.history.actor import Actor

# ZITADEL's eight event types for email providers (internal/repository/instance/smtp_config.go).
SMTP_ADDED = "instance.smtp.config.added"
SMTP_CHANGED = "instance.smtp.config.changed"
SMTP_PASSWORD_CHANGED = "instance.smtp.config.password.changed"
HTTP_ADDED = "instance.smtp.config.http.added"
HTTP_CHANGED = "instance.smtp.config.http.changed"
ACTIVATED = "instance.smtp.config.activated"
DEACTIVATED = "instance.smtp.config.deactivated"
REMOVED = "instance.smtp.config.removed"
ZITADEL_TYPES = (
    SMTP_ADDED,
    SMTP_CHANGED,
    SMTP_PASSWORD_CHANGED,
    HTTP_ADDED,
    HTTP_CHANGED,
    ACTIVATED,
    DEACTIVATED,
    REMOVED,
)

# mailgate's own, under "mailgate.".
TESTED = "mailgate.smtp.config.tested"
TOKEN_ADDED = "mailgate.token.added"
TOKEN_REVOKED = "mailgate.token.revoked"
FALLBACKS_SET = "mailgate.delivery.fallbacks.set"
# A breaker that opens is what makes messages fail over to the fallbacks; each message's own
# provider is in its attempts (DeliveryService), not in the history.
BREAKER_CHANGED = "mailgate.breaker.changed"
# The provider an instance's messages are being sent through switched because of breakers: down
# the candidates (the breaker of the provider left is open) or back up (it closed). Once per
# switch, however many messages follow it (outbox/switches.py, store/routes.py).
FAILED_OVER = "mailgate.delivery.failed_over"
FAILED_BACK = "mailgate.delivery.failed_back"
MAILGATE_TYPES = (
    TESTED,
    TOKEN_ADDED,
    TOKEN_REVOKED,
    FALLBACKS_SET,
    BREAKER_CHANGED,
    FAILED_OVER,
    FAILED_BACK,
)

TYPES = ZITADEL_TYPES + MAILGATE_TYPES
# Events belong to the instance, as ZITADEL's provider events do.
AGGREGATE_TYPE = "instance"

Json = Any  # a JSON value: None, bool, int, float, str, list, dict


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A non-secret field a change set: its value before and after (None: absent)."""

    field: str
    old: Json
    new: Json


@dataclass(frozen=True, slots=True)
class SecretSet:
    """A secret a change set, as a keyed fingerprint (never the secret, never sealed)."""

    field: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Draft:
    """What a command records, written in the same transaction as its change."""

    type: str
    provider_id: str = ""
    payload: dict[str, Json] = field(default_factory=dict)
    changes: tuple[FieldChange, ...] = ()
    secrets: tuple[SecretSet, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded event, numbered 1, 2, 3, ... per instance and chained by `hash`."""

    instance_id: str
    sequence: int
    type: str
    at: datetime
    provider_id: str
    actor: Actor
    payload: dict[str, Json]
    changes: tuple[FieldChange, ...]
    secrets: tuple[SecretSet, ...]
    prev_hash: str
    hash: str

    @property
    def secret_changed(self) -> bool:
        return bool(self.secrets)


def canonical(instance_id: str, sequence: int, at_us: int, actor: Actor, draft: Draft) -> bytes:
    """The bytes an event's hash covers: every stored field, in one fixed JSON form."""
    body = {
        "instance_id": instance_id,
        "sequence": sequence,
        "type": draft.type,
        "created_us": at_us,
        "provider_id": draft.provider_id,
        "actor": actor.as_json(),
        "payload": draft.payload,
        "changes": [[c.field, c.old, c.new] for c in draft.changes],
        "secrets": [[s.field, s.fingerprint] for s in draft.secrets],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def chain_hash(prev_hash: str, canonical_event: bytes) -> str:
    """SHA-256 over the previous hash and the canonical event, hex."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_event).hexdigest()
