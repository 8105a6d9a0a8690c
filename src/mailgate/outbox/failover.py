"""Which provider a message goes to: the active one, else the first healthy fallback.

Candidates are tried in order (the instance's active provider, then its fallbacks as listed), and
a provider whose breaker is open is skipped; one whose cool-down is over is probed by exactly one
message. When every candidate is open the message waits for the earliest probe; when the instance
has no provider at all it waits too, and expires if none appears in time. A route that moves an
instance's mail to another provider, or back, is logged once per change (not per message).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mailgate.outbox import breaker
from mailgate.outbox.breaker import Admission, BreakerPolicy
from mailgate.store.cache import TtlCache
from mailgate.store.health import Candidate, HealthStore

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
        self, health: HealthStore, policy: BreakerPolicy, cache_seconds: float = CANDIDATES_TTL
    ) -> None:
        self._health = health
        self._policy = policy
        self._cache: TtlCache[list[Candidate]] = TtlCache(cache_seconds)
        self._failed_over: dict[str, str] = {}  # instance -> the fallback its mail goes to

    async def candidates(self, instance_id: str) -> list[Candidate]:
        """The instance's candidates with their breakers, read at most `cache_seconds` ago."""
        found = await self._cache.get_or_load(instance_id, lambda: self._health.candidates(instance_id))
        return found or []

    def forget(self) -> None:
        """Read candidates afresh (a breaker changed here, or a provider or fallback list changed)."""
        self._cache.clear()

    async def route(self, instance_id: str, candidates: Sequence[Candidate], now_us: int) -> Route | Wait:
        """The provider for one message of `instance_id` now, or how long it must wait."""
        earliest: int | None = None
        for candidate in candidates:
            health = candidate.health
            match breaker.admission(health, now_us):
                case Admission.ALLOW:
                    return self._chosen(instance_id, candidate, Route(candidate.provider_id))
                case Admission.PROBE:
                    probe = breaker.probing(health, self._policy, now_us)
                    if await self._health.take_probe(
                        instance_id, candidate.provider_id, health, probe, now_us
                    ):
                        log.warning(
                            "provider breaker half-open: one message probes the provider",
                            extra={"instance": instance_id, "provider": candidate.provider_id},
                        )
                        return self._chosen(instance_id, candidate, Route(candidate.provider_id, probe=True))
                    until = now_us + self._policy.probe_us  # another worker probes it
                case Admission.REFUSE:
                    until = health.until_us or now_us
            earliest = until if earliest is None else min(earliest, until)
        return Wait(earliest)

    def _chosen(self, instance_id: str, candidate: Candidate, route: Route) -> Route:
        previous = self._failed_over.get(instance_id)
        if candidate.active:
            if previous is not None:
                del self._failed_over[instance_id]
                log.warning(
                    "delivery back on the active provider",
                    extra={"instance": instance_id, "provider": candidate.provider_id, "fallback": previous},
                )
        elif previous != candidate.provider_id:
            self._failed_over[instance_id] = candidate.provider_id
            log.warning(
                "delivery failed over to a fallback provider",
                extra={"instance": instance_id, "provider": candidate.provider_id, "previous": previous},
            )
        return route
