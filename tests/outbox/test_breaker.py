"""The circuit breaker's rules, on their own: what opens it, what a probe decides, what never counts."""

from __future__ import annotations

from mailgate.config import Settings
from mailgate.outbox.breaker import (
    CLOSED,
    Admission,
    BreakerPolicy,
    BreakerState,
    Health,
    admission,
    after,
    probing,
)
from mailgate.outbox.model import ReplyClass

S = 1_000_000
NOW = 1_700_000_000 * S
POLICY = BreakerPolicy(faults=3, cooldown_us=30 * S, probe_us=60 * S)
FAULT, TRANSIENT = ReplyClass.PROVIDER_FAULT, ReplyClass.TRANSIENT
DELIVERED, PERMANENT = ReplyClass.DELIVERED, ReplyClass.PERMANENT


def run(health: Health, *outcomes: ReplyClass) -> Health:
    for outcome in outcomes:
        health = after(health, outcome, POLICY, NOW)
    return health


def test_it_opens_after_the_threshold_of_consecutive_provider_faults() -> None:
    assert run(CLOSED, FAULT, FAULT) == Health(BreakerState.CLOSED, 2)
    opened = run(CLOSED, FAULT, FAULT, FAULT)
    assert opened == Health(BreakerState.OPEN, 3, NOW + 30 * S)
    assert admission(opened, NOW) is Admission.REFUSE
    assert admission(opened, NOW + 30 * S - 1) is Admission.REFUSE


def test_a_delivery_or_a_recipient_refusal_clears_the_count_and_transient_errors_do_neither() -> None:
    assert run(CLOSED, FAULT, FAULT, DELIVERED, FAULT, FAULT) == Health(BreakerState.CLOSED, 2)
    # A 550 for a bad mailbox is the recipient's problem: the provider answered as it should.
    assert run(CLOSED, FAULT, FAULT, PERMANENT, FAULT, FAULT) == Health(BreakerState.CLOSED, 2)
    # A 4xx neither proves the provider broken nor healthy.
    assert run(CLOSED, FAULT, TRANSIENT, FAULT, TRANSIENT, FAULT).state is BreakerState.OPEN
    assert run(CLOSED, *[PERMANENT] * 50) == CLOSED


def test_after_the_cooldown_one_probe_decides() -> None:
    opened = run(CLOSED, FAULT, FAULT, FAULT)
    later = NOW + 30 * S
    assert admission(opened, later) is Admission.PROBE
    probe = probing(opened, POLICY, later)
    assert probe == Health(BreakerState.HALF_OPEN, 3, later + 60 * S)
    assert admission(probe, later) is Admission.REFUSE  # everyone else waits for the probe
    assert after(probe, DELIVERED, POLICY, later) == CLOSED
    assert after(probe, PERMANENT, POLICY, later) == CLOSED
    for failed in (FAULT, TRANSIENT):
        reopened = after(probe, failed, POLICY, later)
        assert reopened == Health(BreakerState.OPEN, 4, later + 30 * S)


def test_a_probe_that_never_reports_is_replaced_once_its_time_is_up() -> None:
    probe = probing(run(CLOSED, FAULT, FAULT, FAULT), POLICY, NOW)
    assert admission(probe, NOW + 60 * S - 1) is Admission.REFUSE
    assert admission(probe, NOW + 60 * S) is Admission.PROBE


def test_late_results_of_attempts_begun_before_it_opened() -> None:
    opened = run(CLOSED, FAULT, FAULT, FAULT)
    # More faults keep the cool-down where it was (no opening for ever under a backlog of faults).
    assert run(opened, FAULT, FAULT) == Health(BreakerState.OPEN, 5, NOW + 30 * S)
    assert run(opened, TRANSIENT) == opened
    # A delivery shows the provider works again.
    assert run(opened, DELIVERED) == CLOSED


def test_the_policy_comes_from_the_settings() -> None:
    policy = BreakerPolicy.from_settings(
        Settings.from_env({"MAILGATE_BREAKER_FAULTS": "7", "MAILGATE_BREAKER_COOLDOWN": "2m"})
    )
    assert policy == BreakerPolicy(faults=7, cooldown_us=120 * S, probe_us=30 * S)
