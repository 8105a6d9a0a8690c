"""A provider's circuit breaker, as pure state: what an attempt's outcome does to it, and whether
it lets a message through now.

CLOSED counts consecutive provider faults and opens at the threshold. OPEN refuses messages until
its cool-down ends; then one message may probe (HALF_OPEN, whose `until` bounds how long the probe
may take before another may try). A probe that reaches the server (delivered, or refused for the
recipient's sake) closes the breaker; anything else opens it for another cool-down. Recipient
faults never count against a provider; transient errors neither count nor clear the count.
The store keeps one breaker per provider in `provider_health`, shared by every replica.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mailgate.config import Settings
from mailgate.outbox.model import ReplyClass

_US = 1_000_000
_HEALTHY = frozenset({ReplyClass.DELIVERED, ReplyClass.PERMANENT})  # the provider answered as it should


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Health:
    """One provider's breaker: its state, consecutive provider faults, and when `state` ends."""

    state: BreakerState = BreakerState.CLOSED
    consecutive_faults: int = 0
    until_us: int | None = None  # OPEN: a probe may go after it; HALF_OPEN: the probe is lost after it


CLOSED = Health()


@dataclass(frozen=True)
class BreakerPolicy:
    """`faults` consecutive provider faults open it for `cooldown_us`; a probe may take `probe_us`."""

    faults: int
    cooldown_us: int
    probe_us: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BreakerPolicy:
        # A probe is one attempt: it holds its message's lease, so it may take as long as a lease.
        return cls(
            settings.breaker_faults,
            round(settings.breaker_cooldown * _US),
            round(settings.delivery_lease * _US),
        )


class Admission(enum.Enum):
    ALLOW = "allow"  # closed: send
    PROBE = "probe"  # its cool-down is over: one message may try (whoever turns it half-open first)
    REFUSE = "refuse"  # open or probing: not now


def admission(health: Health, now_us: int) -> Admission:
    """Whether a message may go to the provider now."""
    if health.state is BreakerState.CLOSED:
        return Admission.ALLOW
    if health.until_us is None or health.until_us <= now_us:
        return Admission.PROBE
    return Admission.REFUSE


def probing(health: Health, policy: BreakerPolicy, now_us: int) -> Health:
    """The breaker while one message probes, from `now_us`."""
    return Health(BreakerState.HALF_OPEN, health.consecutive_faults, now_us + policy.probe_us)


def after(health: Health, reply_class: ReplyClass, policy: BreakerPolicy, now_us: int) -> Health:
    """The breaker once an attempt of `reply_class` was recorded."""
    if reply_class in _HEALTHY:
        return CLOSED
    if health.state is BreakerState.HALF_OPEN:  # the probe did not show the provider works
        return _opened(health.consecutive_faults + 1, policy, now_us)
    if reply_class is not ReplyClass.PROVIDER_FAULT:
        return health
    faults = health.consecutive_faults + 1
    if health.state is BreakerState.OPEN:  # an attempt begun before it opened: the cool-down stands
        return Health(BreakerState.OPEN, faults, health.until_us)
    if faults >= policy.faults:
        return _opened(faults, policy, now_us)
    return Health(BreakerState.CLOSED, faults)


def _opened(faults: int, policy: BreakerPolicy, now_us: int) -> Health:
    return Health(BreakerState.OPEN, faults, now_us + policy.cooldown_us)
