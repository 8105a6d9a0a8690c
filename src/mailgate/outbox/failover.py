"""Which provider a message goes to: the active one, else the first healthy fallback.

Candidates are tried in order (the instance's active provider, then its fallbacks as listed), and
a provider whose breaker is open is skipped; one whose cool-down is over is probed by exactly one
message. When every candidate is open the message waits for the earliest probe; when the instance
has no provider at all it waits too, and expires if none appears in time. When the provider an
instance's messages go to (probes aside) is not the instance's stored route, the route is moved
(store/routes.py): a switch made by breakers is recorded once as a failover or failback event, and
logged by the replica that recorded it (not per message).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mailgate.history.events import FAILED_OVER, Draft
from mailgate.outbox import breaker
from mailgate.outbox.breaker import Admission, BreakerPolicy
from mailgate.store.cache import TtlCache
from mailgate.store.health import Candidate, HealthStore, Routing
from mailgate.store.routes import RouteStore

log = logging.getLogger("mailgate.delivery")
# A burst of one instance's messages reads its providers and breakers once, not once per message;
# a breaker another replica changed is seen this much later at most (probes stay exclusive anyway).
CANDIDATES_TTL = 0.5


@dataclass(frozen=True)
class Route:
    """Send through `provider_id`; `probe` when this attempt decides whether its breaker closes."""

    provider_id: str
    probe: bool = False


@dataclass(frozen=True)
class Wait:
    """No provider can take the message now: try again at `until_us` (None: the instance has none)."""

    until_us: int | None


class Router:
    """Routes messages over the candidates `HealthStore` lists for their instance."""

    def __init__(
        self,
        health: HealthStore,
        routes: RouteStore,
        policy: BreakerPolicy,
        cache_seconds: float = CANDIDATES_TTL,
    ) -> None:
        self._health = health
        self._routes = routes
        self._policy = policy
        self._cache: TtlCache[Routing] = TtlCache(cache_seconds)

    async def routing(self, instance_id: str) -> Routing:
        """The instance's candidates with their breakers, and its route, read at most
        `cache_seconds` ago."""
        found = await self._cache.get_or_load(instance_id, lambda: self._health.routing(instance_id))
        return found or Routing((), None)

    def forget(self) -> None:
        """Read candidates afresh (a breaker changed here, or a provider or fallback list changed)."""
        self._cache.clear()

    async def route(self, instance_id: str, routing: Routing, now_us: int) -> Route | Wait:
        """The provider for one message of `instance_id` now, or how long it must wait."""
        earliest: int | None = None
        for candidate in routing.candidates:
            health = candidate.health
            match breaker.admission(health, now_us):
                case Admission.ALLOW:
                    await self._follow(instance_id, routing, candidate)
                    return Route(candidate.provider_id)
                case Admission.PROBE:
                    probe = breaker.probing(health, self._policy, now_us)
                    if await self._health.take_probe(
                        instance_id, candidate.provider_id, health, probe, now_us
                    ):
                        log.warning(
                            "provider breaker half-open: one message probes the provider",
                            extra={"instance": instance_id, "provider": candidate.provider_id},
                        )
                        # A probe does not move the route: the messages after it show where mail goes.
                        return Route(candidate.provider_id, probe=True)
                    until = now_us + self._policy.probe_us  # another worker probes it
                case Admission.REFUSE:
                    until = health.until_us or now_us
            earliest = until if earliest is None else min(earliest, until)
        return Wait(earliest)

    async def _follow(self, instance_id: str, routing: Routing, candidate: Candidate) -> None:
        """Move the instance's stored route to `candidate` when it is elsewhere (once per switch:
        the route is read afresh after the move, by the next message)."""
        if routing.route == candidate.provider_id:
            return
        order = tuple(c.provider_id for c in routing.candidates)
        event = await self._routes.move(instance_id, candidate.provider_id, order)
        self.forget()
        if event is not None:
            _log_switch(instance_id, event, candidate)


def _log_switch(instance_id: str, event: Draft, candidate: Candidate) -> None:
    extra = {
        "instance": instance_id,
        "provider": candidate.provider_id,
        "previous": event.payload["fromProviderId"],
        "reason": event.payload["reason"],
    }
    if event.type == FAILED_OVER:
        log.warning("delivery failed over to a fallback provider", extra=extra)
    elif candidate.active:
        log.warning("delivery back on the active provider", extra=extra)
    else:
        log.warning("delivery back on an earlier fallback provider", extra=extra)
