"""Which switches of an instance's delivery route the history records: a failover away from a
provider whose breaker is open, a failback to one whose breaker closed, and nothing for a route
set afresh or left by a change of configuration, nor for a router that read stale breakers."""

from __future__ import annotations

from mailgate.history.events import FAILED_BACK, FAILED_OVER
from mailgate.outbox.breaker import CLOSED, BreakerState, Health
from mailgate.outbox.switches import Keep, Move, switch

ORDER = ("active", "first", "second")
OPEN = Health(BreakerState.OPEN, 5, 1)
PROBING = Health(BreakerState.HALF_OPEN, 6, 2)


def test_the_first_route_and_one_left_by_configuration_record_nothing() -> None:
    assert switch(None, "active", ORDER, {}) == Move(None)
    assert switch("removed", "first", ORDER, {"active": OPEN}) == Move(None)


def test_down_the_candidates_is_a_failover_from_the_provider_left() -> None:
    moved = switch("active", "first", ORDER, {"active": OPEN})
    assert isinstance(moved, Move) and moved.event is not None
    assert (moved.event.type, moved.event.provider_id) == (FAILED_OVER, "active")
    assert moved.event.payload == {
        "fromProviderId": "active",
        "toProviderId": "first",
        "reason": "breaker_open",
        "breaker": "open",
        "consecutiveFaults": 5,
    }
    assert [(c.field, c.old, c.new) for c in moved.event.changes] == [("deliveryRoute", "active", "first")]
    # Fallback to the next one, and a route not set yet counting as the first candidate's.
    onwards = switch("first", "second", ORDER, {"active": OPEN, "first": PROBING})
    assert isinstance(onwards, Move) and onwards.event is not None
    assert onwards.event.payload["breaker"] == "half_open" and onwards.event.provider_id == "first"
    fresh = switch(None, "first", ORDER, {"active": OPEN})
    assert isinstance(fresh, Move) and fresh.event is not None
    assert (fresh.event.type, fresh.event.payload["fromProviderId"]) == (FAILED_OVER, "active")


def test_up_the_candidates_is_a_failback_to_the_provider_that_recovered() -> None:
    back = switch("second", "active", ORDER, {"first": OPEN})
    assert isinstance(back, Move) and back.event is not None
    assert (back.event.type, back.event.provider_id) == (FAILED_BACK, "active")
    assert back.event.payload == {
        "fromProviderId": "second",
        "toProviderId": "active",
        "reason": "breaker_closed",
    }


def test_a_router_that_read_stale_breakers_moves_nothing() -> None:
    assert switch("active", "first", ORDER, {"active": CLOSED}) == Keep()  # the active one recovered
    assert switch("first", "active", ORDER, {"active": OPEN}) == Keep()  # its breaker opened again
    assert switch("active", "second", ORDER, {"active": OPEN}) == Keep()  # "first" is healthy
    assert switch("active", "gone", ORDER, {"active": OPEN}) == Keep()
