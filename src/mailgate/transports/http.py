"""The HTTP port: one ASGI app under uvicorn, in the gRPC server's event loop.

Paths under a mounted app's prefix go to that app (Okta's API), `/console/` serves the admin
console's built assets (transports/console.py), `/healthz` and `/openapi.json` are answered here,
POSTs with a grpc-web content type go to grpc-web, any other request to a gRPC method path
(`/<package.Service>/<Method>`) to Connect, everything else is JSON transcoding. Every HTTP
transport calls the same pipeline as native gRPC, in-process.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from google.rpc import code_pb2
from grpc_health.v1 import health_pb2
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mailgate.config import ServerTls, Settings
from mailgate.errors import MailgateError
from mailgate.pipeline import faults
from mailgate.pipeline.methods import MethodTable, encode_plain
from mailgate.pipeline.runner import Pipeline
from mailgate.transports import connect, grpcweb
from mailgate.transports.console import ConsoleApp
from mailgate.transports.gateway import openapi, sse
from mailgate.transports.gateway.httpstatus import http_status, stale_etag
from mailgate.transports.gateway.marshal import TranscodeError, encode_response, error_json, status_json
from mailgate.transports.gateway.request import decode_request
from mailgate.transports.gateway.routes import RouteTable
from mailgate.transports.grpc import BindError, HealthService
from mailgate.transports.http_connections import ConnectionLimits, protocol_for
from mailgate.transports.metadata import GATEWAY, BadTimeout, parse_content_length, reply_headers

JSON = b"application/json"
GRPC_WEB = b"application/grpc-web"
EXPOSED = [
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "etag",
    "x-rate-limit-limit",
    "x-rate-limit-remaining",
    "x-rate-limit-reset",
]
# After this many bytes of a refused body we stop reading and close the connection instead.
DRAIN_LIMIT = 64 * 1024 * 1024
_NOT_FOUND = error_json(code_pb2.NOT_FOUND, "Not Found")
_METHOD_NOT_ALLOWED = error_json(code_pb2.UNIMPLEMENTED, "Method Not Allowed")
_OWN_PATHS = frozenset({"/healthz", "/openapi.json"})


class BodyTooLarge(MailgateError):
    """The request body is over the limit; `drained` says whether the connection can be reused."""

    def __init__(self, drained: bool) -> None:
        super().__init__("request body too large")
        self.drained = drained


class ClientGone(MailgateError):
    """The client disconnected before sending its whole request."""


async def read_body(receive: Receive, declared: int | None, limit: int) -> bytes:
    """The whole body, refusing (without keeping it) any body over `limit` bytes."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(await _drain(receive, 0))
    message = await receive()
    body: bytes = message.get("body", b"")
    if message["type"] == "http.disconnect":
        raise ClientGone
    if not message.get("more_body"):
        if len(body) > limit:
            raise BodyTooLarge(True)
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(await _drain(receive, size))
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(receive: Receive, seen: int) -> bool:
    """Read and drop the rest of a refused body so the client gets to read our answer."""
    while seen <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            return True
    return False


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = JSON,
    extra: list[tuple[bytes, bytes]] | None = None,
    length: int | None = None,
) -> None:
    """One complete response with a Content-Length (`length`, for HEAD: that of the body left out)."""
    size = len(body) if length is None else length
    headers = [(b"content-type", content_type), (b"content-length", b"%d" % size)]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header_safe(text: str) -> bytes:
    # Header values are printable ASCII; anything else would make the HTTP layer fail the response.
    return "".join(char if " " <= char <= "~" else "?" for char in text).encode("ascii")


@dataclass(frozen=True)
class MountedApp:
    """An app the HTTP port serves under a path prefix (every method and content type), with its
    part of the OpenAPI document."""

    prefix: str  # "/api/v1/email-servers"
    app: ASGIApp
    openapi_paths: Mapping[str, Any] = field(default_factory=dict)
    openapi_schemas: Mapping[str, Any] = field(default_factory=dict)

    def serves(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


class HttpApp:
    """The ASGI application (without CORS, which `build_app` adds when origins are configured)."""

    def __init__(
        self,
        pipeline: Pipeline,
        table: MethodTable,
        routes: RouteTable,
        settings: Settings,
        health_servicer: HealthService,
        mounts: Sequence[MountedApp] = (),
    ) -> None:
        self.pipeline = pipeline
        self.table = table
        self.routes = routes
        self.limit = settings.http_max_body
        self.health = health_servicer
        self.mounts = tuple(mounts)
        self.connect = connect.ConnectEndpoint(pipeline, table)
        self.console = ConsoleApp()
        document = openapi.document(routes, [(m.openapi_paths, m.openapi_schemas) for m in self.mounts])
        self.openapi = json.dumps(document, separators=(",", ":")).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        for mounted in self.mounts:
            if mounted.serves(path):
                await mounted.app(scope, receive, send)
                return
        if self.console.serves(path):
            await self.console(scope, receive, send)
            return
        method: str = scope["method"]
        if path in _OWN_PATHS:
            await self._own_path(scope, send)
            return
        if method == "POST":
            for name, value in scope["headers"]:
                if name == b"content-type":
                    if value.lower().startswith(GRPC_WEB):
                        await self._grpc_web(scope, receive, send, value.lower())
                        return
                    break
        if self.connect.serves(path):  # any other request to a gRPC method path is Connect
            await self._connect(scope, receive, send)
            return
        try:
            await self._gateway(scope, receive, send)
        except ClientGone:
            return

    async def _refuse(
        self,
        send: Send,
        target: str,
        status: int,
        code: int,
        body: bytes,
        started: float,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Answer a JSON request refused before the pipeline ran, once the call log has its method or path."""
        self.pipeline.call_log.refused(target, "http", code, started)
        await respond(send, status, body, extra=extra)

    async def _gateway(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        match = self.routes.match(method, path)
        if match is None:
            allowed = self.routes.allowed_methods(path)
            if allowed:
                allow = [(b"allow", ", ".join(allowed).encode())]
                await self._refuse(
                    send, path, 405, code_pb2.UNIMPLEMENTED, _METHOD_NOT_ALLOWED, started, allow
                )
            else:
                await self._refuse(send, path, 404, code_pb2.NOT_FOUND, _NOT_FOUND, started)
            return
        name = match.route.spec.name
        incoming = GATEWAY.read(scope["headers"])
        metadata = incoming.metadata
        try:
            body = await read_body(receive, incoming.content_length, self.limit)
        except BodyTooLarge as exc:
            too_large = error_json(
                code_pb2.RESOURCE_EXHAUSTED, f"request body is larger than {self.limit} bytes"
            )
            extra = None if exc.drained else [(b"connection", b"close")]
            await self._refuse(send, name, 413, code_pb2.RESOURCE_EXHAUSTED, too_large, started, extra)
            return
        try:
            request = decode_request(match, scope["query_string"], body)
            seconds = GATEWAY.time_left(incoming)
        except (TranscodeError, BadTimeout) as exc:
            invalid = error_json(code_pb2.INVALID_ARGUMENT, str(exc))
            await self._refuse(send, name, 400, code_pb2.INVALID_ARGUMENT, invalid, started)
            return
        if match.route.spec.streaming:
            sse.resume(request, scope["headers"])
        result = await match.route.spec.call(self.pipeline, request, metadata, "http", seconds, _peer(scope))
        if result.status.code == 0 and result.stream is not None:
            await sse.stream(send, receive, result.stream)
            return
        if result.status.code == 0 and result.response is not None:
            extra = reply_headers(result.metadata)
            await respond(send, 200, encode_response(match.route, result.response), extra=extra)
            return
        http = http_status(result.status.code)
        extra = []
        if result.status.code == code_pb2.UNAUTHENTICATED:
            extra = [(b"www-authenticate", _header_safe(result.status.message))]
        current = stale_etag(result.status, metadata)
        if current is not None:  # the If-Match header no longer holds: 412, with the etag to read again
            http, extra = 412, [(b"etag", current.encode("latin-1"))]
        await respond(send, http, status_json(result.status), extra=extra)

    async def _grpc_web(self, scope: Scope, receive: Receive, send: Send, content_type: bytes) -> None:
        started = time.perf_counter()
        text = grpcweb.CONTENT_TYPES.get(content_type.split(b";", 1)[0].strip())
        answer_text = text is True
        found = self.table.get(scope["path"])
        method = found.name if found is not None else scope["path"]
        try:
            # Text mode carries 4/3 as many bytes; allow for the frame header and padding.
            raw_limit = (self.limit + 5) * 4 // 3 + 4 if answer_text else self.limit + 5
            body = await read_body(receive, _content_length(scope["headers"]), raw_limit)
            if text is None:
                message = f"unsupported content type {content_type!r}"
                reply = grpcweb.refuse(self.pipeline, method, code_pb2.UNIMPLEMENTED, message, False, started)
            else:
                reply = await grpcweb.call(
                    self.pipeline,
                    self.table,
                    scope["path"],
                    scope["headers"],
                    body,
                    text,
                    self.limit,
                    _peer(scope),
                )
        except ClientGone:
            return
        except BodyTooLarge:
            message = f"Received message larger than max (limit {self.limit} bytes)"
            code = code_pb2.RESOURCE_EXHAUSTED
            reply = grpcweb.refuse(self.pipeline, method, code, message, answer_text, started)
        except Exception as exc:  # never a 500: grpc-web clients only read the trailer
            found = self.table.get(scope["path"])
            error = faults.classify(exc, method)  # logged, with a correlation id
            status = found.encode_error(error) if found is not None else encode_plain(error)
            reply = grpcweb.reply(status, None, answer_text)
        await respond(send, 200, reply.body, reply.content_type, list(reply.headers))

    async def _connect(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        extra: list[tuple[bytes, bytes]] = []

        async def body() -> bytes:
            return await read_body(receive, _content_length(headers), self.limit)

        started = time.perf_counter()
        try:
            reply = await self.connect.call(scope["method"], scope["path"], headers, body, _peer(scope))
        except ClientGone:
            return
        except BodyTooLarge as exc:
            message = f"request body is larger than {self.limit} bytes"
            code = code_pb2.RESOURCE_EXHAUSTED
            found = self.table.get(scope["path"])
            target = found.name if found is not None else scope["path"]
            reply = self.connect.refuse(target, code, connect.failure(code, message), started)
            if not exc.drained:
                extra.append((b"connection", b"close"))
        await respond(send, reply.status, reply.body, reply.content_type, [*reply.headers, *extra])

    async def _own_path(self, scope: Scope, send: Send) -> None:
        """/healthz and /openapi.json: GET, and HEAD (the same headers, no body); other methods 405."""
        method: str = scope["method"]
        if method not in ("GET", "HEAD"):
            allow = [(b"allow", b"GET, HEAD")]
            path = scope["path"]
            await self._refuse(
                send, path, 405, code_pb2.UNIMPLEMENTED, _METHOD_NOT_ALLOWED, time.perf_counter(), allow
            )
            return
        if scope["path"] == "/openapi.json":
            status, body = 200, self.openapi
        else:
            status, body = self._health(scope["query_string"])
        await respond(send, status, b"" if method == "HEAD" else body, length=len(body))

    def _health(self, query: bytes) -> tuple[int, bytes]:
        service = parse_qs(query.decode("latin-1")).get("service", [""])[0] if query else ""
        status = self.health.status(service)
        if status is None:
            return 404, error_json(code_pb2.NOT_FOUND, f"unknown service {service!r}")
        name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
        body = json.dumps({"status": name}, separators=(",", ":")).encode()
        return (200 if status == health_pb2.HealthCheckResponse.SERVING else 503), body


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return parse_content_length(value)
    return None


def build_app(
    pipeline: Pipeline,
    table: MethodTable,
    routes: RouteTable,
    settings: Settings,
    health_servicer: HealthService,
    mounts: Sequence[MountedApp] = (),
) -> ASGIApp:
    """The HTTP app (with the `mounts` under their prefixes), behind CORS when origins are set."""
    app: ASGIApp = HttpApp(pipeline, table, routes, settings, health_servicer, mounts)
    if settings.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            # Mirrors whatever the preflight asks for: the protocols' own headers (Connect-Protocol-Version,
            # Connect-Timeout-Ms, Grpc-Timeout, X-Grpc-Web, X-User-Agent) and callers' metadata
            # (Grpc-Metadata-*, x-zitadel-*), whose names no fixed list can hold.
            allow_headers=["*"],
            expose_headers=EXPOSED,
            max_age=7200,
        )
    return app


class HttpServer:
    """The HTTP listener: bound early (so a port in use stops startup), served by uvicorn; HTTPS
    when `tls` is given.

    We drive uvicorn's Server by hand instead of `Server.serve()`: the socket is bound in `bind()`
    before either listener answers, uvicorn runs in the gRPC server's event loop, and SIGTERM is
    ours (serve() would install its own signal handlers). That uses these parts of uvicorn beyond
    `Config`: `Server.startup(sockets=...)`, the `lifespan` attribute serve() would set, the
    `main_loop()` tick (Date header, `should_exit`) and `shutdown()`. Connection limits come from
    `http_connections.LimitedHttpProtocol`, given to uvicorn as its HTTP protocol class.
    tests/transports/test_http_connections.py pins all of this.
    """

    def __init__(
        self, app: ASGIApp, address: str, grace: float, limits: ConnectionLimits, tls: ServerTls | None = None
    ) -> None:
        self.address = address
        self.port = 0
        self.limits = limits
        self._config = uvicorn.Config(
            app,
            http=protocol_for(limits),  # uvicorn's httptools protocol plus our limits
            ws="none",
            lifespan="off",
            loop="none",
            interface="asgi3",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=limits.idle_timeout,  # after a response; the protocol times the first wait
            timeout_graceful_shutdown=max(1, round(grace)),
            # uvicorn >= 0.48 leaves the ciphers to OpenSSL's defaults.
            ssl_certfile=tls.cert_file if tls else None,
            ssl_keyfile=tls.key_file if tls else None,
        )
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._ticker: asyncio.Task[None] | None = None

    def bind(self) -> int:
        """Take the address now; raise BindError with a one-line reason when we cannot."""
        host, _, port = self.address.rpartition(":")
        host = host.strip("[]")
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                host or None, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
            sock = socket.socket(family, kind, proto)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(2048)
            except OSError:
                sock.close()
                raise
        except OSError as exc:
            raise BindError(f"cannot listen for HTTP on {self.address}: {exc.strerror or exc}") from None
        sock.setblocking(False)
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        return self.port

    async def start(self) -> None:
        """Start answering on the bound socket."""
        assert self._socket is not None, "bind() first"
        self._config.load()
        server = uvicorn.Server(self._config)
        server.lifespan = self._config.lifespan_class(self._config)
        await server.startup(sockets=[self._socket])
        self._server = server
        # The tick keeps uvicorn's Date header current and notices should_exit.
        self._ticker = asyncio.create_task(server.main_loop())

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish within the graceful-shutdown timeout."""
        if self._server is None:
            if self._socket is not None:
                self._socket.close()
            return
        self._server.should_exit = True
        if self._ticker is not None:
            await self._ticker
        await self._server.shutdown()
        self._server = None
