"""The retry schedule: full-jitter exponential back-off, hints as a floor, attempts and expiry as limits.

The jitter source and the clock are injected: every number here is exact.
"""

from __future__ import annotations

import pytest

from mailgate.config import ConfigError, Settings
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.outbox.schedule import Next, RetryPolicy, Schedule

S = 1_000_000  # microseconds
NOW = 1_700_000_000 * S
DAY = 86_400 * S
POLICY = RetryPolicy(base=5.0, longest=900.0)


def schedule(draw: float) -> Schedule:
    return Schedule(POLICY, lambda: draw)


def retry_after(
    attempts_made: int, draw: float, hint: float | None = None, expires_us: int = NOW + DAY
) -> Next:
    return schedule(draw).after(
        ReplyClass.TRANSIENT,
        attempts_made=attempts_made,
        max_attempts=50,
        now_us=NOW,
        expires_us=expires_us,
        hint=hint,
    )


def test_the_cap_doubles_from_the_base_up_to_the_longest_wait() -> None:
    assert [POLICY.cap(n) for n in range(1, 11)] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert POLICY.cap(10_000) == 900  # no overflow however many attempts


@pytest.mark.parametrize("attempts_made", [1, 2, 3, 7, 12])
def test_full_jitter_draws_anywhere_from_zero_to_the_cap(attempts_made: int) -> None:
    cap = POLICY.cap(attempts_made)
    assert retry_after(attempts_made, 0.0) == Next(MessageState.DEFERRED, NOW)
    assert retry_after(attempts_made, 0.5) == Next(MessageState.DEFERRED, NOW + round(cap / 2 * S))
    assert retry_after(attempts_made, 0.999) == Next(MessageState.DEFERRED, NOW + round(cap * 0.999 * S))


def test_a_providers_hint_is_a_floor_not_a_replacement() -> None:
    # Jitter below the hint: the hint wins; above it: the jitter stands.
    assert retry_after(1, 0.1, hint=30.0).due_us == NOW + 30 * S
    assert retry_after(8, 0.5, hint=30.0).due_us == NOW + 320 * S
    # A hint longer than the longest back-off is still honoured (the provider asked for it).
    assert retry_after(12, 1.0, hint=3600.0).due_us == NOW + 3600 * S
    assert retry_after(1, 0.2, hint=None).due_us == NOW + 1 * S
    assert retry_after(1, 0.2, hint=0.0).due_us == NOW + 1 * S


def test_a_retry_that_would_land_past_expiry_expires_the_message_instead() -> None:
    assert retry_after(1, 1.0, expires_us=NOW + 5 * S) == Next(MessageState.EXPIRED, reason="expiry")
    assert retry_after(1, 1.0, expires_us=NOW + 5 * S + 1) == Next(MessageState.DEFERRED, NOW + 5 * S)
    # The hint can push a retry past expiry too.
    assert retry_after(1, 0.0, hint=60.0, expires_us=NOW + 59 * S).state is MessageState.EXPIRED


@pytest.mark.parametrize("reply_class", [ReplyClass.TRANSIENT, ReplyClass.PROVIDER_FAULT])
def test_retryable_classes_fail_after_max_attempts(reply_class: ReplyClass) -> None:
    def after(made: int) -> Next:
        return schedule(0.5).after(
            reply_class, attempts_made=made, max_attempts=3, now_us=NOW, expires_us=NOW + DAY
        )

    assert after(2).state is MessageState.DEFERRED
    assert after(3) == Next(MessageState.FAILED, reason="attempts")


def test_delivered_is_sent_and_permanent_fails_at_once_whatever_is_left() -> None:
    kwargs = {"attempts_made": 1, "max_attempts": 25, "now_us": NOW, "expires_us": NOW + DAY}
    assert schedule(0.5).after(ReplyClass.DELIVERED, **kwargs) == Next(MessageState.SENT)
    assert schedule(0.5).after(ReplyClass.PERMANENT, **kwargs) == Next(MessageState.FAILED)


def test_the_default_jitter_stays_within_the_cap() -> None:
    real = Schedule(POLICY)
    waits = [real.delay(3) for _ in range(200)]
    assert all(0 <= wait <= 20 for wait in waits)
    assert len(set(waits)) > 1  # drawn, not fixed


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"MAILGATE_RETRY_BASE": "0"}, "MAILGATE_RETRY_BASE"),
        ({"MAILGATE_RETRY_BASE": "2h"}, "MAILGATE_RETRY_BASE"),
        ({"MAILGATE_RETRY_BASE": "10m", "MAILGATE_RETRY_MAX": "5m"}, "MAILGATE_RETRY_MAX"),
        ({"MAILGATE_RETRY_MAX": "2d"}, "MAILGATE_RETRY_MAX"),
        ({"MAILGATE_RETRY_MAX": "soon"}, "MAILGATE_RETRY_MAX"),
        ({"MAILGATE_DELIVERY_MAX_ATTEMPTS": "0"}, "MAILGATE_DELIVERY_MAX_ATTEMPTS"),
        ({"MAILGATE_DELIVERY_MAX_ATTEMPTS": "51"}, "MAILGATE_DELIVERY_MAX_ATTEMPTS"),
        ({"MAILGATE_DELIVERY_WORKERS": "-1"}, "MAILGATE_DELIVERY_WORKERS"),
        ({"MAILGATE_DELIVERY_LEASE": "0.5"}, "MAILGATE_DELIVERY_LEASE"),
        ({"MAILGATE_DELIVERY_POLL_INTERVAL": "2m"}, "MAILGATE_DELIVERY_POLL_INTERVAL"),
        ({"MAILGATE_BREAKER_FAULTS": "0"}, "MAILGATE_BREAKER_FAULTS"),
        ({"MAILGATE_BREAKER_COOLDOWN": "-1"}, "MAILGATE_BREAKER_COOLDOWN"),
        ({"MAILGATE_MESSAGE_RETENTION": "nan"}, "MAILGATE_MESSAGE_RETENTION"),
        ({"MAILGATE_MESSAGE_METADATA_RETENTION": "12h"}, "MAILGATE_MESSAGE_METADATA_RETENTION"),
        ({"MAILGATE_MESSAGE_RETENTION": "40d"}, "MAILGATE_MESSAGE_METADATA_RETENTION"),
    ],
)
def test_delivery_settings_out_of_bounds_stop_startup_naming_the_setting(
    env: dict[str, str], setting: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    assert refused.value.name == setting


def test_durations_take_units() -> None:
    settings = Settings.from_env(
        {
            "MAILGATE_RETRY_BASE": "2",
            "MAILGATE_RETRY_MAX": "15m",
            "MAILGATE_MESSAGE_RETENTION": "12h",
            "MAILGATE_MESSAGE_METADATA_RETENTION": "7d",
            "MAILGATE_BREAKER_COOLDOWN": "90s",
        }
    )
    assert (settings.retry_base, settings.retry_max) == (2.0, 900.0)
    assert (settings.message_retention, settings.message_metadata_retention) == (43_200.0, 604_800.0)
    assert settings.breaker_cooldown == 90.0
