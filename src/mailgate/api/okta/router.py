"""The ASGI app behind /api/v1/email-servers: a small hand-written router.

Okta's API has no proto, so its routes are listed here rather than derived from annotations.
Every request, unknown paths and refused tokens included, runs through the call pipeline (auth,
the per-token limit, permission, body checks, errors, logging) and gets rate-limit headers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from mailgate.api.okta import errors, wire
from mailgate.api.okta.operations import ROUTES, EmailServers, Reply, Request, Route
from mailgate.api.okta.wire import PREFIX
from mailgate.config import Settings
from mailgate.errors import InvalidArgument, NotFound, Unimplemented
from mailgate.pipeline.auth import READ, Authenticator
from mailgate.pipeline.limits import Decision, TokenBucket
from mailgate.pipeline.runner import CallContext, Pipeline
from mailgate.pipeline.stages import (
    VALIDATE,
    Authenticate,
    Authorize,
    Call,
    Limit,
    Operation,
    Stages,
    per_token_or_peer,
)
from mailgate.transports.http import BodyTooLarge, ClientGone, read_body, respond
from mailgate.transports.metadata import OKTA

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


@dataclass(frozen=True)
class _Request:
    """One request as routed: its route (None when no route matches) and what it carries."""

    route: Route | None
    provider_id: str
    raw: bytes
    too_large: str = ""  # why the body was refused, if it was
    allowed_methods: tuple[str, ...] = ()


def okta_stages(authenticator: Authenticator, limiter: TokenBucket, sending: Limit | None = None) -> Stages:
    """Okta's order: the token, then the per-token limit (per address without a valid token, so a
    refused token still counts and its 429 is what the log records), then the scope, then the body;
    for a route that sends mail, then the per-instance test-email limit."""
    stages: Stages = (
        Authenticate(authenticator, SCHEMES, hold=True),
        Limit(limiter, per_token_or_peer, None, "too many requests; retry after X-Rate-Limit-Reset"),
        Authorize(),
        VALIDATE,
    )
    return stages if sending is None else (*stages, sending)


class OktaApp:
    """Routes, limits and answers Okta requests; `__call__` is the ASGI entry."""

    def __init__(
        self,
        pipeline: Pipeline,
        servers: EmailServers,
        settings: Settings,
        authenticator: Authenticator,
        sending: Limit,
    ) -> None:
        self._pipeline = pipeline
        self._servers = servers
        self._max_body = settings.http_max_body
        limiter = TokenBucket(settings.okta_rate_limit, settings.okta_rate_limit)
        self._stages = okta_stages(authenticator, limiter)
        self._sending_stages = okta_stages(authenticator, limiter, sending)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request under PREFIX, always with the X-Rate-Limit-* headers."""
        routed = self._route(scope["method"], scope["path"])
        incoming = OKTA.read(scope["headers"])
        metadata, declared = incoming.metadata, incoming.content_length
        extra: list[tuple[bytes, bytes]] = []
        raw, too_large = b"", ""
        try:
            raw = await read_body(receive, declared, self._max_body)
        except ClientGone:
            return
        except BodyTooLarge as exc:
            # Refused after auth, like any bad body; the parser says so.
            too_large = f"request body is larger than {self._max_body} bytes"
            if not exc.drained:
                extra.append((b"connection", b"close"))
        request = _Request(routed.route, routed.provider_id, raw, too_large, routed.allowed_methods)
        call = Call(request.route.operation if request.route else _UNKNOWN, metadata, "okta", _peer(scope))
        stages = self._sending_stages if request.route and request.route.sends_mail else self._stages
        result = await self._pipeline.run(
            call, stages, lambda: _parse(request), lambda body, ctx: self._answer(request, body, ctx)
        )
        decision = result.call.decision
        headers = extra + (_rate_headers(decision) if decision is not None else [])
        if result.error is None and result.response is not None:
            await _send(send, result.response, headers)
            return
        assert result.error is not None
        http_status, body = errors.envelope(result.error, request.provider_id or scope["path"])
        if http_status == 405:
            headers = [*headers, (b"allow", ", ".join(request.allowed_methods).encode())]
        await respond(send, http_status, _json(body), extra=headers)

    def _route(self, method: str, path: str) -> _Request:
        shape = _shape(path)
        if shape is None:
            return _Request(None, "", b"")
        kind, provider_id = shape
        allowed = tuple(m for (m, k) in ROUTES if k == kind)
        return _Request(ROUTES.get((method, kind)), provider_id, b"", allowed_methods=allowed)

    async def _answer(self, request: _Request, body: Any, ctx: CallContext) -> Reply:
        assert request.route is not None  # _parse refused the rest
        return await request.route.handler(self._servers, Request(request.provider_id, body), ctx)


def _parse(request: _Request) -> Any:
    """Route, then the body: each refused before anything is done."""
    if request.route is None:
        if request.allowed_methods:
            raise Unimplemented(None, "method not allowed")
        raise NotFound(None, "no such resource")
    if request.too_large:
        raise InvalidArgument(None, request.too_large)
    parse = request.route.parse
    return parse(wire.decode(request.raw)) if parse is not None else None


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


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
