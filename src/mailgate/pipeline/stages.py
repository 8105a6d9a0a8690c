"""The stages a call goes through before its handler, which each API lists in its own order.

A stage takes the call as the stages before it left it and returns the next one; nothing is changed
in place. A stage that refuses the call says so in `refusal` (the runner stops there and answers
it), so what the stages learned on the way (a rate-limit decision) stays with the call the API sees.
Where in the list the API's request parser runs is marked by VALIDATE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from mailgate.errors import ApiError, RateLimited, Unauthenticated
from mailgate.pipeline.auth import Authenticator, Principal, denied
from mailgate.pipeline.limits import Decision, TokenBucket


@dataclass(frozen=True, slots=True)
class Operation:
    """What the stages need to know of any call, whatever API it belongs to."""

    name: str  # "GetEmailProviderById", "okta.getEmailServer"
    permission: str


@dataclass(frozen=True, slots=True)
class Call:
    """One call as its stages see it."""

    operation: Operation
    metadata: Mapping[str, str]
    transport: str  # "grpc", "grpc-web", "connect", "http", "okta"
    peer: str = ""  # the client's address, for limits on calls without a valid token
    principal: Principal | None = None
    # An authentication failure held back so that a limit decides first (see Authenticate.hold).
    unauthenticated: Unauthenticated | None = None
    decision: Decision | None = None  # the last rate-limit decision taken for this call
    refusal: ApiError | None = None  # set by the stage that refuses the call


class Stage(Protocol):
    """One step before the handler."""

    async def __call__(self, call: Call) -> Call: ...


class Validate:
    """Marks where the API's request parser runs among its stages (exactly once)."""

    def __repr__(self) -> str:
        return "VALIDATE"


VALIDATE = Validate()
Stages = tuple[Stage | Validate, ...]


@dataclass(frozen=True)
class Authenticate:
    """The principal of the call's `authorization` metadata, in one of `schemes`.

    With `hold`, a refused token does not end the call at once: a later limit takes its toll first
    (so guessing tokens is limited too, and the log records the 429 the client gets), and
    Authorize answers the refusal.
    """

    authenticator: Authenticator
    schemes: tuple[str, ...] = ("Bearer",)
    hold: bool = False

    async def __call__(self, call: Call) -> Call:
        try:
            principal = await self.authenticator.authenticate(call.metadata, self.schemes)
        except Unauthenticated as refused:
            if self.hold:
                return replace(call, unauthenticated=refused)
            return replace(call, refusal=refused)
        return replace(call, principal=principal)


@dataclass(frozen=True)
class Authorize:
    """The operation's permission, held by the principal; a held-back refusal is answered here."""

    async def __call__(self, call: Call) -> Call:
        if call.principal is None:
            refused = call.unauthenticated or Unauthenticated("MG-AUTH-MISSING", "no authenticated caller")
            return replace(call, refusal=refused)
        refusal = denied(call.principal, call.operation.permission)
        return call if refusal is None else replace(call, refusal=refusal)


@dataclass(frozen=True)
class Limit:
    """A token bucket per `key(call)` (None: the limit does not apply to this call)."""

    bucket: TokenBucket
    key: Callable[[Call], str | None]
    error_id: str | None
    text: str

    async def __call__(self, call: Call) -> Call:
        key = self.key(call)
        if key is None:
            return call
        decision = self.bucket.take(key)
        if decision.allowed:
            return replace(call, decision=decision)
        return replace(
            call, decision=decision, refusal=RateLimited(self.error_id, self.text, decision.retry_after)
        )


def per_instance(call: Call) -> str | None:
    """The key of a per-instance limit."""
    return call.principal.instance_id if call.principal is not None else None


def per_token_or_peer(call: Call) -> str:
    """The key of a per-token limit; a call without a valid token counts against its address."""
    if call.principal is not None:
        return call.principal.token_id
    return f"anonymous:{call.peer}"


TEST_EMAILS_LIMITED_ID = "MG-RATE-LIMITED"


def sending_limit(bucket: TokenBucket) -> Limit:
    """The per-instance limit on calls that send real mail (test emails), whichever API they come by."""
    return Limit(
        bucket, per_instance, TEST_EMAILS_LIMITED_ID, "too many test emails for this instance; retry later"
    )
