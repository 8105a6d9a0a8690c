"""Native gRPC: a grpc.aio server whose handlers hand every call to the pipeline; reflection and health."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from mailgate.config import ServerTls
from mailgate.pipeline.calls import MethodSpec, Pipeline


class BindError(Exception):
    """A listener could not take its address."""


def _behavior(pipeline: Pipeline, spec: MethodSpec):  # type: ignore[no-untyped-def]
    async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message | None:
        metadata = {
            key: value for key, value in (context.invocation_metadata() or ()) if isinstance(value, str)
        }
        result = await pipeline.call(spec, request, metadata, "grpc", context.time_remaining())
        if result.status.code:
            await context.abort_with_status(rpc_status.to_status(result.status))
        return result.response

    return handle


def generic_handlers(pipeline: Pipeline) -> list[grpc.GenericRpcHandler]:
    """One generic handler per service, built from the method specs (and so from the descriptors)."""
    by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
    for spec in pipeline.methods.values():
        service = spec.path.split("/")[1]
        by_service.setdefault(service, {})[spec.name] = grpc.unary_unary_rpc_method_handler(
            _behavior(pipeline, spec),
            request_deserializer=spec.request_type.FromString,
            response_serializer=spec.response_type.SerializeToString,
        )
    return [grpc.method_handlers_generic_handler(name, handlers) for name, handlers in by_service.items()]


class GrpcServer:
    """The native gRPC listener with reflection and grpc.health.v1; over TLS when `tls` is given."""

    def __init__(self, pipeline: Pipeline, address: str, tls: ServerTls | None = None) -> None:
        self.address = address
        self._tls = tls
        self.health = health.aio.HealthServicer()
        self.server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        self.server.add_generic_rpc_handlers(generic_handlers(pipeline))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        services = sorted({spec.path.split("/")[1] for spec in pipeline.methods.values()})
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
