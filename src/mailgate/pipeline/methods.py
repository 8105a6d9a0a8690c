"""The method table: every RPC the protos declare, bound once to its handler, stages and error encoder.

Built at startup and handed to every transport (native gRPC, grpc-web, Connect, JSON): a handler
missing for an RPC stops startup with a message naming it. A transport looks a method up by its
path and calls it through `Method.call`, which runs the pipeline and encodes the outcome as the
method's API encodes errors (a google.rpc.Status).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import status_pb2

from mailgate.errors import ApiError, InvalidArgument, MailgateError
from mailgate.gen.zitadel import option_pb2
from mailgate.pipeline.runner import CallContext, Pipeline
from mailgate.pipeline.stages import Call, Operation, Stages
from mailgate.pipeline.validation import validate

Handler = Callable[[Message, CallContext], Awaitable[Message]]
EncodeError = Callable[[ApiError], status_pb2.Status]
OK = status_pb2.Status(code=0)
UNDECODABLE_TEXT = "the request message cannot be parsed"
STREAM_TRANSPORTS_TEXT = "a server-streaming method is served over native gRPC and as Server-Sent Events"
_AUTH_OPTION = cast(Any, option_pb2.auth_option)


def encode_plain(error: ApiError) -> status_pb2.Status:
    """A status with only the code and message, for refusals outside any API (no such method)."""
    return status_pb2.Status(code=int(error.code), message=error.message)


class MethodTableError(MailgateError):
    """A service cannot be served as declared (no handler, no permission); raised at startup."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What a transport sends: the response (or, for a server-streaming method, the stream of
    responses) when `status.code` is 0, else the status alone."""

    status: status_pb2.Status
    response: Message | None = None
    stream: AsyncIterator[Message] | None = None


@dataclass(frozen=True, slots=True)
class Method:
    """One RPC, bound: its path, operation, message types, handler, stages and error encoder."""

    path: str  # "/zitadel.admin.v1.AdminService/GetEmailProviderById"
    operation: Operation
    descriptor: MethodDescriptor
    request_type: type[Message]
    response_type: type[Message]
    handler: Handler
    stages: Stages
    encode_error: EncodeError

    @property
    def name(self) -> str:
        return self.operation.name

    @property
    def service(self) -> str:
        return self.descriptor.containing_service.full_name

    @property
    def streaming(self) -> bool:
        """A server-streaming RPC: its handler answers an async iterator of responses."""
        return bool(self.descriptor.server_streaming)

    async def call(
        self,
        pipeline: Pipeline,
        request: Message,
        metadata: Mapping[str, str],
        transport: str,
        time_left: float | None = None,
        peer: str = "",
    ) -> Reply:
        """Run the RPC; its request is checked against the rules its proto declares."""

        def parse() -> Message:
            validate(request)
            return request

        call = Call(self.operation, metadata, transport, peer)
        result = await pipeline.run(call, self.stages, parse, self.handler, time_left)
        if result.error is not None:
            return Reply(self.encode_error(result.error))
        if self.streaming:
            return Reply(OK, stream=cast(AsyncIterator[Message], result.response))
        return Reply(OK, result.response)

    async def call_encoded(
        self,
        pipeline: Pipeline,
        payload: bytes,
        metadata: Mapping[str, str],
        transport: str,
        time_left: float | None = None,
        peer: str = "",
    ) -> Reply:
        """`call` on a request still in wire form; bytes that are no such message are INVALID_ARGUMENT."""
        started = time.perf_counter()
        try:
            request = self.request_type.FromString(payload)
        except DecodeError:
            error = InvalidArgument(None, UNDECODABLE_TEXT)
            pipeline.call_log.refused(self.name, transport, int(error.code), started)
            return Reply(self.encode_error(error))
        return await self.call(pipeline, request, metadata, transport, time_left, peer)


class MethodTable(Mapping[str, Method]):
    """Methods by path; immutable once built."""

    def __init__(self, methods: Iterable[Method]) -> None:
        by_path: dict[str, Method] = {}
        for method in methods:
            if method.path in by_path:
                raise MethodTableError(f"{method.path} is bound twice")
            by_path[method.path] = method
        self._methods = MappingProxyType(by_path)
        self.services = tuple(dict.fromkeys(method.service for method in by_path.values()))

    def __getitem__(self, path: str) -> Method:
        return self._methods[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._methods)

    def __len__(self) -> int:
        return len(self._methods)


def bind_service(
    service: ServiceDescriptor,
    servicer: object,
    stages: Callable[[MethodDescriptor], Stages],
    encode_error: EncodeError,
) -> list[Method]:
    """Every RPC of `service` bound to the servicer's method of the same name; permissions from the protos."""
    methods = []
    for descriptor in service.methods:
        handler = getattr(servicer, descriptor.name, None)
        if not callable(handler):
            raise MethodTableError(f"{type(servicer).__name__} has no handler for {descriptor.full_name}")
        permission: str = descriptor.GetOptions().Extensions[_AUTH_OPTION].permission
        if not permission:
            raise MethodTableError(f"{descriptor.full_name} declares no (zitadel.v1.auth_option) permission")
        methods.append(
            Method(
                path=f"/{service.full_name}/{descriptor.name}",
                operation=Operation(descriptor.name, permission),
                descriptor=descriptor,
                request_type=GetMessageClass(descriptor.input_type),
                response_type=GetMessageClass(descriptor.output_type),
                handler=handler,
                stages=stages(descriptor),
                encode_error=encode_error,
            )
        )
    return methods
