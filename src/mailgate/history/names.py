"""Each event type's English name, as ZITADEL's ListEventTypes localizes it."""

from __future__ import annotations

from mailgate.history import events as ev

TYPE_NAMES = {
    ev.SMTP_ADDED: "SMTP configuration added",
    ev.SMTP_CHANGED: "SMTP configuration changed",
    ev.SMTP_PASSWORD_CHANGED: "SMTP configuration password changed",
    ev.HTTP_ADDED: "HTTP email provider added",
    ev.HTTP_CHANGED: "HTTP email provider changed",
    ev.ACTIVATED: "SMTP configuration activated",
    ev.DEACTIVATED: "SMTP configuration deactivated",
    ev.REMOVED: "SMTP configuration removed",
    ev.TESTED: "Email provider tested",
    ev.TOKEN_ADDED: "API token created",
    ev.TOKEN_REVOKED: "API token revoked",
    ev.FALLBACKS_SET: "Delivery fallbacks set",
    ev.BREAKER_CHANGED: "Provider circuit breaker changed",
    ev.FAILED_OVER: "Delivery failed over to another provider",
    ev.FAILED_BACK: "Delivery failed back to a preferred provider",
}
AGGREGATE_NAMES = {ev.AGGREGATE_TYPE: "Instance"}
assert set(TYPE_NAMES) == set(ev.TYPES)
