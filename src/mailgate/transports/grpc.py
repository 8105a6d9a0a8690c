"""Native gRPC: a grpc.aio server whose handlers hand every call to the pipeline; reflection and health."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from mailgate.config import ServerTls, Settings
from mailgate.errors import MailgateError
from mailgate.pipeline.methods import Method, MethodTable
from mailgate.pipeline.runner import Pipeline

# grpc core reads durations as int milliseconds; INT_MAX means unlimited.
_INT_MAX = 2**31 - 1
# grpc.health.v1's List answers at most this many services (the limit the proto's comment sets).
MAX_LISTED_SERVICES = 100


class BindError(MailgateError):
    """A listener could not take its address."""


def _behavior(pipeline: Pipeline, method: Method):  # type: ignore[no-untyped-def]
    async def handle(payload: bytes, context: grpc.aio.ServicerContext) -> Message | None:
        metadata = {
            key: value for key, value in (context.invocation_metadata() or ()) if isinstance(value, str)
        }
        reply = await method.call_encoded(
            pipeline, payload, metadata, "grpc", context.time_remaining(), _peer(context.peer())
        )
        if reply.status.code:
            await context.abort_with_status(rpc_status.to_status(reply.status))
        return reply.response

    return handle


def _stream_behavior(pipeline: Pipeline, method: Method):  # type: ignore[no-untyped-def]
    """A server-streaming RPC: the pipeline answers a stream, sent until it ends or the client goes
    (grpc then cancels this generator, which closes the stream at its next await)."""

    async def handle(payload: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Message]:
        metadata = {
            key: value for key, value in (context.invocation_metadata() or ()) if isinstance(value, str)
        }
        reply = await method.call_encoded(
            pipeline, payload, metadata, "grpc", context.time_remaining(), _peer(context.peer())
        )
        if reply.status.code or reply.stream is None:
            await context.abort_with_status(rpc_status.to_status(reply.status))
            return
        async for message in reply.stream:
            yield message

    return handle


def _peer(peer: str) -> str:
    """The address in grpc's peer string ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000")."""
    _, _, address = peer.partition(":")
    host, _, _ = address.rpartition(":")
    return host.strip("[]")


def generic_handlers(pipeline: Pipeline, table: MethodTable) -> list[grpc.GenericRpcHandler]:
    """One generic handler per service, built from the method table (and so from the descriptors)."""
    by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
    for method in table.values():
        # No request deserializer: grpc would answer a request it cannot parse with UNKNOWN and
        # leave it out of the call log; the pipeline decodes it and answers INVALID_ARGUMENT.
        handlers = by_service.setdefault(method.service, {})
        if method.streaming:
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                _stream_behavior(pipeline, method),
                response_serializer=method.response_type.SerializeToString,
            )
            continue
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _behavior(pipeline, method),
            response_serializer=method.response_type.SerializeToString,
        )
    return [grpc.method_handlers_generic_handler(name, handlers) for name, handlers in by_service.items()]


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """grpc core's channel arguments for the connection limits in `settings`."""

    def millis(seconds: float) -> int:
        return min(_INT_MAX, max(1, round(seconds * 1000)))

    return [
        ("grpc.max_connection_idle_ms", millis(settings.grpc_idle_timeout)),
        ("grpc.max_connection_age_ms", millis(settings.grpc_max_connection_age)),
        ("grpc.max_connection_age_grace_ms", millis(settings.grpc_max_connection_age_grace)),
        # Also bounds a connection that never sends the HTTP/2 preface and SETTINGS.
        ("grpc.server_handshake_timeout_ms", millis(settings.grpc_handshake_timeout)),
        ("grpc.max_concurrent_streams", settings.grpc_max_streams),
        ("grpc.max_allowed_incoming_connections", settings.grpc_max_connections),
    ]


class HealthService(health.aio.HealthServicer):  # type: ignore[misc]  # grpc_health has no type hints
    """grpc_health's servicer (Check, Watch) plus List, which it lacks, over the same state."""

    # The state is the library's `_server_status` (service name -> ServingStatus), written by its
    # `set`; tests/transports/test_health.py pins that List and /healthz see what `set` wrote.

    def statuses(self) -> dict[str, int]:
        """Every service's serving status, by name ("" is the whole server)."""
        return {str(name): int(status) for name, status in self._server_status.items()}

    def status(self, service: str) -> int | None:
        """The serving status of `service`, or None when no status was ever set for it."""
        return self.statuses().get(service)

    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthListResponse:
        statuses = self.statuses()
        if len(statuses) > MAX_LISTED_SERVICES:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"more than {MAX_LISTED_SERVICES} services; use Check for one",
            )
        return health_pb2.HealthListResponse(
            statuses={name: health_pb2.HealthCheckResponse(status=value) for name, value in statuses.items()}
        )


class GrpcServer:
    """The native gRPC listener with reflection and grpc.health.v1; over TLS when `tls` is given."""

    def __init__(
        self,
        pipeline: Pipeline,
        table: MethodTable,
        address: str,
        options: list[tuple[str, int]],
        tls: ServerTls | None = None,
    ) -> None:
        self.address = address
        self._tls = tls
        self.health = HealthService()
        self.server = grpc.aio.server(options=[("grpc.so_reuseport", 0), *options])
        self.server.add_generic_rpc_handlers(generic_handlers(pipeline, table))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        services = sorted(table.services)
        reflection.enable_server_reflection(
            [*services, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self._services = services
        self.port = 0

    def bind(self) -> int:
        """Take the address now, so a port in use stops startup before anything answers."""
        try:
            if self._tls is None:
                self.port = self.server.add_insecure_port(self.address)
            else:
                chain, key = self._tls.load()
                credentials = grpc.ssl_server_credentials([(key, chain)])
                self.port = self.server.add_secure_port(self.address, credentials)
        except RuntimeError as exc:
            raise BindError(f"cannot listen for gRPC on {self.address}: {exc}") from None
        if self.port == 0:
            raise BindError(f"cannot listen for gRPC on {self.address}: address in use or unavailable")
        return self.port

    async def start(self) -> None:
        await self.server.start()
        for name in ("", *self._services):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float) -> None:
        """Refuse new calls, let in-flight ones finish within `grace` seconds."""
        for name in ("", *self._services):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)
