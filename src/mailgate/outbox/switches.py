"""Whether a switch of an instance's delivery route is a failover, a failback, or neither.

The route is the provider the instance's messages are being sent through (probes aside). A switch
is recorded only when breakers made it: down the candidates (the active provider, then the
fallbacks in order) away from a provider whose breaker is not closed is a failover; up to a
provider whose breaker closed again is a failback. A route not set yet (after a start, an
activation or a new list of fallbacks) counts as the first candidate's. A switch away from a
provider that is no candidate any more moves the route without an event: the change of
configuration that made it has an event of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mailgate.history.events import FAILED_BACK, FAILED_OVER, Draft, FieldChange, Json
from mailgate.outbox.breaker import CLOSED, BreakerState, Health


@dataclass(frozen=True)
class Keep:
    """Leave the route: the breakers the router chose by have changed since (another replica)."""


@dataclass(frozen=True)
class Move:
    """Set the route; `event` is the failover or failback to record with it (None: no event)."""

    event: Draft | None


def switch(current: str | None, to: str, order: Sequence[str], breakers: Mapping[str, Health]) -> Keep | Move:
    """What moving the route from `current` to `to` is, by the candidates' breakers as stored now."""
    if to not in order:
        return Keep()
    ahead = order[: order.index(to)]
    # What a router reading these breakers would choose (probes aside): `to`, and none before it.
    state = {provider_id: breakers.get(provider_id, CLOSED).state for provider_id in order}
    if state[to] is not BreakerState.CLOSED or any(state[p] is BreakerState.CLOSED for p in ahead):
        return Keep()
    leaving = current if current is not None else order[0]
    if leaving == to or leaving not in order:
        return Move(None)
    change = (FieldChange("deliveryRoute", current, to),)
    payload: dict[str, Json] = {"fromProviderId": leaving, "toProviderId": to}
    if leaving in ahead:
        left = breakers.get(leaving, CLOSED)
        payload |= {
            "reason": "breaker_open",
            "breaker": left.state.value,
            "consecutiveFaults": left.consecutive_faults,
        }
        return Move(Draft(FAILED_OVER, leaving, payload, change))
    return Move(Draft(FAILED_BACK, to, payload | {"reason": "breaker_closed"}, change))
