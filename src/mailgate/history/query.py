"""What a history read asks for: filters, bounds and a keyset position; no query is unbounded."""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAGE = 500
DEFAULT_PAGE = 100
MAX_TYPES = 30  # ZITADEL's limit on event_types
MAX_AGGREGATE_TYPES = 10


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which events: all of the instance's unless narrowed. Times are microseconds, end exclusive."""

    provider_id: str = ""
    type_prefix: str = ""
    types: tuple[str, ...] = ()  # exact names, any of them (ZITADEL's event_types)
    actor_token_id: str = ""
    since_us: int | None = None
    until_us: int | None = None


@dataclass(frozen=True, slots=True)
class HistoryRange:
    """A keyset window over sequences: after `after` (ascending) or before `before` (descending)."""

    limit: int
    ascending: bool
    after: int = 0  # ascending: sequences > after
    before: int | None = None  # descending: sequences < before (None: from the newest)
