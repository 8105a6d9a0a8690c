"""The ASGI app behind /api/v1/email-servers: a small hand-written router.

Okta's API has no proto, so its routes are listed here rather than derived from annotations.
Every request, unknown paths and refused tokens included, runs through the call pipeline (auth,
the per-token limit, permission, body checks, errors, logging) and gets rate-limit headers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.rpc import code_pb2, status_pb2

from mailgate.config import Settings
from mailgate.errors import ApiError
from mailgate.pipeline.auth import READ, Principal, authorize
from mailgate.pipeline.calls import CallContext, Operation, Pipeline
from mailgate.pipeline.limits import Decision, TokenBucket
from mailgate.transports.http import (
    BodyTooLarge,
    ClientGone,
    Receive,
    Scope,
    Send,
    read_body,
    respond,
)
from mailgate.transports.metadata import OKTA
from mailgate.transports.okta import errors, wire
from mailgate.transports.okta.operations import ROUTES, EmailServers, Reply, Request, Route
from mailgate.transports.okta.wire import PREFIX

SCHEMES = ("SSWS", "Bearer")
_UNKNOWN = Operation(name="okta.unknownRoute", permission=READ)


def _shape(path: str) -> tuple[str, str] | None:
    """("collection" | "item" | "test", provider id) for a path under PREFIX; None when it is none."""
    rest = path[len(PREFIX) :]
    if rest in ("", "/"):
        return "collection", ""
    parts = rest[1:].split("/")
    if len(parts) == 1 and parts[0]:
        return "item", parts[0]
    if len(parts) == 2 and parts[0] and parts[1] == "test":
        return "test", parts[0]
    return None


@dataclass
class _Call:
    """One request as the pipeline's checks and body see it."""

    route: Route | None
    provider_id: str
    raw: bytes
    too_large: str = ""  # why the body was refused, if it was
    body: Any = None  # the parsed body, once the checks passed
    allowed_methods: tuple[str, ...] = ()
    decisions: list[Decision] = field(default_factory=list)


class OktaApp:
    """Routes, limits and answers Okta requests; `__call__` is the ASGI entry."""

    def __init__(self, pipeline: Pipeline, servers: EmailServers, settings: Settings) -> None:
        self._pipeline = pipeline
        self._servers = servers
        self._max_body = settings.http_max_body
        self._limiter = TokenBucket(settings.okta_rate_limit, settings.okta_rate_limit)
        # Requests without a valid token are limited per client address, so guessing tokens is too.
        self._anonymous = TokenBucket(settings.okta_rate_limit, settings.okta_rate_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request under PREFIX, always with the X-Rate-Limit-* headers."""
        call = self._route(scope["method"], scope["path"])
        incoming = OKTA.read(scope["headers"])
        metadata, declared = incoming.metadata, incoming.content_length
        extra: list[tuple[bytes, bytes]] = []
        try:
            call.raw = await read_body(receive, declared, self._max_body)
        except ClientGone:
            return
        except BodyTooLarge as exc:
            # Refused after auth, like any bad body; the pipeline's check says so.
            call.too_large = f"request body is larger than {self._max_body} bytes"
            if not exc.drained:
                extra.append((b"connection", b"close"))
        result = await self._pipeline.run(
            call.route.operation if call.route else _UNKNOWN,
            metadata,
            "okta",
            lambda ctx: self._answer(call, ctx),
            checks=(lambda principal: self._limit(call, principal), lambda p: self._check(call, p)),
            schemes=SCHEMES,
        )
        status = result.status
        if not call.decisions:  # refused before the token was known: the client address's bucket
            call.decisions.append(self._anonymous.take(_client(scope)))
            if not call.decisions[0].allowed:
                status = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message="too many requests")
        headers = extra + _rate_headers(call.decisions[0])
        if status.code == code_pb2.OK and result.response is not None:
            await _send(send, result.response, headers)
        else:
            await _send_error(send, status, call, scope["path"], headers)

    def _route(self, method: str, path: str) -> _Call:
        shape = _shape(path)
        if shape is None:
            return _Call(None, "", b"")
        kind, provider_id = shape
        allowed = tuple(m for (m, k) in ROUTES if k == kind)
        return _Call(ROUTES.get((method, kind)), provider_id, b"", allowed_methods=allowed)

    def _limit(self, call: _Call, principal: Principal) -> None:
        decision = self._limiter.take(principal.token_id)
        call.decisions.append(decision)
        if not decision.allowed:
            raise ApiError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                None,
                "too many requests with this token; retry after X-Rate-Limit-Reset",
            )

    def _check(self, call: _Call, principal: Principal) -> None:
        """Route, then the route's permission, then the body: each fails before anything is done."""
        if call.route is None:
            if call.allowed_methods:
                raise ApiError(grpc.StatusCode.UNIMPLEMENTED, None, "method not allowed")
            raise ApiError(grpc.StatusCode.NOT_FOUND, None, "no such resource")
        authorize(principal, call.route.permission)
        if call.too_large:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, None, call.too_large)
        parse = call.route.parse
        call.body = parse(wire.decode(call.raw)) if parse is not None else None

    async def _answer(self, call: _Call, ctx: CallContext) -> Reply:
        assert call.route is not None  # _check refused the rest
        request = Request(provider_id=call.provider_id, body=call.body)
        return await call.route.handler(self._servers, request, ctx)


async def _send_error(
    send: Send, status: status_pb2.Status, call: _Call, path: str, headers: list[tuple[bytes, bytes]]
) -> None:
    http_status, body = errors.envelope(status, call.provider_id or path)
    if http_status == 405:
        headers = [*headers, (b"allow", ", ".join(call.allowed_methods).encode())]
    await respond(send, http_status, _json(body), extra=headers)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"anonymous:{client[0]}" if client else "anonymous"


def _rate_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-rate-limit-limit", b"%d" % decision.limit),
        (b"x-rate-limit-remaining", b"%d" % decision.remaining),
        (b"x-rate-limit-reset", b"%d" % math.ceil(decision.reset_at)),
    ]
    if not decision.allowed:
        headers.append((b"retry-after", b"%d" % max(1, math.ceil(decision.retry_after))))
    return headers


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def _send(send: Send, reply: Reply, headers: list[tuple[bytes, bytes]]) -> None:
    if reply.body is None:
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await respond(send, reply.status, _json(reply.body), extra=headers)
