"""The one call pipeline: every transport hands a decoded request here and encodes what comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import grpc
from google.protobuf import duration_pb2
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import error_details_pb2, status_pb2

from mailgate.errors import ApiError
from mailgate.gen.zitadel import option_pb2
from mailgate.pipeline import errors
from mailgate.pipeline.auth import Authenticator, Principal, authorize
from mailgate.pipeline.calllog import CallLog
from mailgate.pipeline.limits import TokenBucket
from mailgate.pipeline.validation import ValidationFailed, validate

T = TypeVar("T")
Handler = Callable[[Message, "CallContext"], Awaitable[Message]]
Check = Callable[[Principal], None]
RATE_LIMITED_ID = "MG-RATE-LIMITED"
_AUTH_OPTION = cast(Any, option_pb2.auth_option)


@dataclass(frozen=True)
class CallContext:
    """What a handler knows about its call besides the request."""

    principal: Principal
    method: str
    transport: str


@dataclass(frozen=True, kw_only=True)
class Operation:
    """What the pipeline needs to know of any call, whatever API it belongs to."""

    name: str
    permission: str
    rate_limited: bool = False  # sends real mail: the per-instance test-email limit applies


@dataclass(frozen=True, kw_only=True)
class MethodSpec(Operation):
    """One RPC as the descriptors declare it, bound to its handler."""

    path: str  # "/zitadel.admin.v1.AdminService/GetEmailProviderById"
    request_type: type[Message]
    response_type: type[Message]
    handler: Handler


@dataclass(slots=True)
class CallResult(Generic[T]):
    """A response (when status.code is 0) or the status to send instead."""

    status: status_pb2.Status
    response: T | None = None


def methods_of(
    service: ServiceDescriptor, servicer: object, rate_limited: frozenset[str]
) -> dict[str, MethodSpec]:
    """Bind every RPC of `service` to the servicer's method of the same name; permissions from the protos."""
    specs = {}
    for method in service.methods:
        options = method.GetOptions()
        permission: str = options.Extensions[_AUTH_OPTION].permission
        if not permission:
            raise RuntimeError(f"{method.full_name} declares no (zitadel.v1.auth_option) permission")
        path = f"/{service.full_name}/{method.name}"
        specs[path] = MethodSpec(
            path=path,
            name=method.name,
            request_type=GetMessageClass(method.input_type),
            response_type=GetMessageClass(method.output_type),
            permission=permission,
            handler=getattr(servicer, method.name),
            rate_limited=method.name in rate_limited,
        )
    return specs


@dataclass
class Pipeline:
    """Auth, then validation, then limits, then the handler; every failure becomes a Status."""

    authenticator: Authenticator
    test_limiter: TokenBucket
    methods: dict[str, MethodSpec] = field(default_factory=dict)
    call_log: CallLog = field(default_factory=CallLog)

    async def call(
        self,
        method: MethodSpec,
        request: Message,
        metadata: Mapping[str, str],
        transport: str,
        time_left: float | None = None,
    ) -> CallResult[Message]:
        """Run one RPC: its request is validated against the rules its proto declares."""

        def check(_principal: Principal) -> None:
            validate(request)

        return await self.run(
            method,
            metadata,
            transport,
            lambda context: method.handler(request, context),
            time_left=time_left,
            checks=(check,),
        )

    async def run(
        self,
        operation: Operation,
        metadata: Mapping[str, str],
        transport: str,
        body: Callable[[CallContext], Awaitable[T]],
        *,
        time_left: float | None = None,
        checks: Sequence[Check] = (),
        schemes: tuple[str, ...] = ("Bearer",),
    ) -> CallResult[T]:
        """Auth, permission, `checks` (validation, a transport's own limits), the test-email limit, `body`.

        Transports without protos (Okta's REST API) call this directly; every failure becomes a Status.
        """
        started = time.perf_counter()
        principal: Principal | None = None
        result: CallResult[T]
        deadline = asyncio.timeout(time_left)  # None: the caller set no deadline, it never expires
        try:
            principal = await self.authenticator.authenticate(metadata, schemes)
            authorize(principal, operation.permission)
            for check in checks:
                check(principal)
            if operation.rate_limited:
                self._check_rate(principal)
            context = CallContext(principal=principal, method=operation.name, transport=transport)
            when = deadline.when()
            if when is not None and when <= asyncio.get_running_loop().time():
                # asyncio.timeout fires only at an await: a deadline already over is checked here,
                # or an answer that needs no await (a cached read) would beat it.
                result = CallResult(errors.deadline_exceeded())
            else:
                async with deadline:
                    response = await body(context)
                result = CallResult(errors.OK, response)
        except ApiError as exc:
            result = CallResult(errors.from_api_error(exc))
        except ValidationFailed as exc:
            result = CallResult(errors.from_validation(exc))
        except Exception as exc:
            # Only the call's own deadline is DEADLINE_EXCEEDED; any other TimeoutError is a fault.
            expired = isinstance(exc, TimeoutError) and deadline.expired()
            result = CallResult(
                errors.deadline_exceeded() if expired else errors.from_unexpected(exc, operation.name)
            )
        instance = principal.instance_id if principal else None
        self.call_log.record(operation.name, transport, instance, result.status.code, started)
        return result

    async def call_encoded(
        self,
        method: MethodSpec,
        payload: bytes,
        metadata: Mapping[str, str],
        transport: str,
        time_left: float | None = None,
    ) -> CallResult[Message]:
        """`call` on a request still in wire form; bytes that are no such message are INVALID_ARGUMENT."""
        started = time.perf_counter()
        try:
            request = method.request_type.FromString(payload)
        except DecodeError:
            status = errors.undecodable()
            self.call_log.record(method.name, transport, None, status.code, started)
            return CallResult(status)
        return await self.call(method, request, metadata, transport, time_left)

    def _check_rate(self, principal: Principal) -> None:
        decision = self.test_limiter.take(principal.instance_id)
        if not decision.allowed:
            retry = error_details_pb2.RetryInfo(
                retry_delay=duration_pb2.Duration(seconds=max(1, round(decision.retry_after)))
            )
            raise ApiError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                RATE_LIMITED_ID,
                "too many test emails for this instance; retry later",
                [retry],
            )
