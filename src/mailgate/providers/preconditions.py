"""Safe concurrent edits (decision 6): a provider's etag, and a write's precondition on it.

The etag is an RFC 7232 strong entity tag made of the provider's id and version, so it changes with
every change and names one provider only. A precondition arrives here as a neutral value (how a
header or metadata spells it is the API's business): any version, or a set of etags one of which
must be the provider's current one. No precondition means last writer wins, as in ZITADEL.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailgate.errors import StaleEtag
from mailgate.providers.model import Provider


@dataclass(frozen=True)
class AnyVersion:
    """`If-Match: *`: the provider must exist, in whatever version."""


@dataclass(frozen=True)
class OneOf:
    """The provider's current etag must be one of these (strong comparison: a weak one never is)."""

    etags: frozenset[str]


Precondition = AnyVersion | OneOf


def etag(provider: Provider) -> str:
    """The provider's current etag, quoted as RFC 7232 writes an entity tag."""
    return f'"{provider.id}.{provider.version}"'


def guarded_version(precondition: Precondition | None, current: Provider) -> int | None:
    """The version a write must still find when it saves (None: no guard); StaleEtag when the
    precondition already fails on `current`, so a stale write is refused before anything else."""
    match precondition:
        case None | AnyVersion():
            return None
        case OneOf(etags=etags):
            if etag(current) not in etags:
                raise StaleEtag(etag(current))
            return current.version
