"""What happens to a message after an attempt: sent, failed, expired, or retried when.

Retries back off exponentially with full jitter (each wait drawn uniformly from zero to the
doubling cap), so replicas retrying after one outage spread out instead of arriving together. A
provider's hint (Retry-After, an SMTP "try again in N seconds") is a lower bound. No retry is ever
scheduled past the message's expiry: such a message is EXPIRED instead, never sent late.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from mailgate.config import Settings
from mailgate.outbox.model import MessageState, ReplyClass

_US = 1_000_000
_RETRIED = frozenset({ReplyClass.TRANSIENT, ReplyClass.PROVIDER_FAULT})


@dataclass(frozen=True)
class RetryPolicy:
    """The back-off: `base` seconds before the first retry, doubling per attempt, at most `longest`."""

    base: float
    longest: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.retry_base, settings.retry_max)

    def cap(self, attempts_made: int) -> float:
        """The longest wait after the `attempts_made`-th attempt (1 for the first)."""
        exponent = min(max(attempts_made - 1, 0), 64)  # 2**64 * base is past any longest
        return min(self.longest, self.base * 2.0**exponent)


@dataclass(frozen=True)
class Next:
    """The message's state after an attempt and, when it is DEFERRED, when it is due again."""

    state: MessageState
    due_us: int | None = None
    reason: str = ""  # why a retryable attempt ended the message: "attempts", "expiry"


class Schedule:
    """Decides the next state of a message from an attempt's class; `draw` is the jitter source."""

    def __init__(self, policy: RetryPolicy, draw: Callable[[], float] = random.random) -> None:
        self._policy = policy
        self._draw = draw

    def delay(self, attempts_made: int, hint: float | None = None) -> float:
        """Seconds until the next attempt: full jitter under the cap, never less than `hint`."""
        wait = self._draw() * self._policy.cap(attempts_made)
        return max(wait, hint) if hint is not None and hint > 0 else wait

    def after(
        self,
        reply_class: ReplyClass,
        *,
        attempts_made: int,  # counting the attempt just made
        max_attempts: int,
        now_us: int,
        expires_us: int,
        hint: float | None = None,
    ) -> Next:
        """The state an attempt of `reply_class` leaves the message in."""
        if reply_class is ReplyClass.DELIVERED:
            return Next(MessageState.SENT)
        if reply_class not in _RETRIED:  # recipient-permanent: retrying cannot help
            return Next(MessageState.FAILED)
        if attempts_made >= max_attempts:
            return Next(MessageState.FAILED, reason="attempts")
        due_us = now_us + round(self.delay(attempts_made, hint) * _US)
        if due_us >= expires_us:
            return Next(MessageState.EXPIRED, reason="expiry")
        return Next(MessageState.DEFERRED, due_us)
