"""The one call pipeline: an API's stages, its parser, its handler; every outcome logged once.

Transports and APIs hand a call here and encode what comes back: a response, or one error kind
(`mailgate.errors`). Nothing here knows a wire format.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from mailgate.errors import ApiError, DeadlineExceeded
from mailgate.history.actor import Actor
from mailgate.pipeline import faults
from mailgate.pipeline.auth import Principal
from mailgate.pipeline.calllog import CallLog
from mailgate.pipeline.stages import Call, Stage, Validate

B = TypeVar("B")
T = TypeVar("T")
DEADLINE_TEXT = "the call's deadline passed before it finished"


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a handler knows about its call besides the request."""

    principal: Principal
    method: str
    transport: str
    actor: Actor  # who the history says made a change in this call


def new_request_id() -> str:
    """A call's id, in its log line and in the history events it records."""
    return secrets.token_hex(8)


def actor_of(call: Call, principal: Principal, request_id: str) -> Actor:
    return Actor(
        token_id=principal.token_id,
        token_description=principal.description,
        transport=call.transport,
        client_address=call.peer,
        request_id=request_id,
    )


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """How a call ended: its response, or the error to answer; `call` as the stages left it."""

    call: Call
    response: T | None = None
    error: ApiError | None = None


class Pipeline:
    """Runs calls: the stages in the API's order, then the handler within the caller's deadline."""

    def __init__(self, call_log: CallLog | None = None) -> None:
        self.call_log = call_log or CallLog()

    async def run(
        self,
        call: Call,
        stages: Sequence[Stage | Validate],
        parse: Callable[[], B],
        handler: Callable[[B, CallContext], Awaitable[T]],
        time_left: float | None = None,
    ) -> Result[T]:
        """One call. `parse` runs where VALIDATE stands in `stages` and gives the handler its request."""
        started = time.perf_counter()
        request_id = new_request_id()
        # No deadline, no timer: most calls carry none, and arming one costs a few microseconds each.
        deadline = asyncio.timeout(time_left) if time_left is not None else None
        result: Result[T]
        try:
            call, bodies = await _through(call, stages, parse)
            if call.refusal is not None:
                result = Result(call, error=call.refusal)
            else:
                [body] = bodies  # VALIDATE stands exactly once in every API's stages
                assert call.principal is not None, "every API's stages authenticate"
                actor = actor_of(call, call.principal, request_id)
                context = CallContext(call.principal, call.operation.name, call.transport, actor)
                result = Result(call, await _within(deadline, handler(body, context)))
        except ApiError as refused:
            result = Result(call, error=refused)
        except Exception as exc:
            result = Result(call, error=_unexpected(exc, deadline, call.operation.name))
        principal = result.call.principal
        code = int(result.error.code) if result.error is not None else 0
        instance = principal.instance_id if principal else None
        self.call_log.record(call.operation.name, call.transport, instance, code, started, request_id)
        return result


def _unexpected(exc: Exception, deadline: asyncio.Timeout | None, method: str) -> ApiError:
    # Only the call's own deadline is DEADLINE_EXCEEDED; any other TimeoutError is a fault.
    if isinstance(exc, TimeoutError) and deadline is not None and deadline.expired():
        return DeadlineExceeded(None, DEADLINE_TEXT)
    return faults.classify(exc, method)


async def _through(
    call: Call, stages: Sequence[Stage | Validate], parse: Callable[[], B]
) -> tuple[Call, list[B]]:
    """Run the stages until one refuses; the request `parse` gave where VALIDATE stands."""
    bodies: list[B] = []
    for stage in stages:
        if not isinstance(stage, Validate):
            call = await stage(call)
        else:
            try:
                bodies.append(parse())
            except ApiError as refused:  # the request itself is refused: keep what the stages learned
                call = replace(call, refusal=refused)
        if call.refusal is not None:
            break
    return call, bodies


async def _within(deadline: asyncio.Timeout | None, work: Awaitable[T]) -> T:
    if deadline is None:
        return await work
    # asyncio.timeout fires only at an await: a deadline already over is checked first, or an answer
    # that needs no await (a cached read) would beat it.
    when = deadline.when()
    if when is not None and when <= asyncio.get_running_loop().time():
        if asyncio.iscoroutine(work):
            work.close()
        raise DeadlineExceeded(None, DEADLINE_TEXT)
    async with deadline:
        return await work
