"""The ASGI app behind /api/v1/email-servers: Starlette's route matching, then the call pipeline.

Okta's API has no proto, so its routes are the table in `operations`. Starlette only matches them
(a path that matches under another method gives Allow); every request, unknown paths and refused
tokens included, runs through the call pipeline (auth, the per-token limit, permission, body
checks, errors, logging), is answered with Okta's JSON and gets rate-limit headers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import NoReturn

from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from mailgate.api.okta import errors
from mailgate.api.okta.operations import ENDPOINTS, SERVER_ID, EmailServers, Incoming, Reply, Routed
from mailgate.api.okta.wire import PREFIX
from mailgate.config import Settings
from mailgate.errors import InvalidArgument, NotFound, StaleEtag, Unimplemented
from mailgate.pipeline.auth import READ, Authenticator
from mailgate.pipeline.limits import Decision, TokenBucket
from mailgate.pipeline.runner import CallContext, Pipeline, Result
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


def _never_called(request: object) -> NoReturn:
    raise AssertionError("Okta's routes are only matched; the pipeline answers")


def _routes(endpoints: Sequence[Routed]) -> list[tuple[Route, Routed]]:
    """A Starlette route per endpoint (the collection with and without a trailing slash)."""
    table = []
    for endpoint in endpoints:
        for path in [PREFIX + endpoint.path] if endpoint.path else [PREFIX, PREFIX + "/"]:
            route = Route(path, _never_called, methods=[endpoint.method], name=endpoint.operation.name)
            # Starlette lets a GET route match HEAD too; Okta's API answers HEAD 405, as it always has.
            route.methods = {endpoint.method}
            table.append((route, endpoint))
    return table


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
        self._routes = _routes(ENDPOINTS)
        limiter = TokenBucket(settings.okta_rate_limit, settings.okta_rate_limit)
        self._stages = okta_stages(authenticator, limiter)
        self._sending_stages = okta_stages(authenticator, limiter, sending)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request under PREFIX, always with the X-Rate-Limit-* headers."""
        endpoint, server_id, allowed = self._match(scope)
        received = OKTA.read(scope["headers"])
        metadata, declared = received.metadata, received.content_length
        extra: list[tuple[bytes, bytes]] = []
        raw, refused = b"", None
        try:
            raw = await read_body(receive, declared, self._max_body)
        except ClientGone:
            return
        except BodyTooLarge as exc:
            # Refused after auth, like any bad body; the parser says so.
            refused = InvalidArgument(None, f"request body is larger than {self._max_body} bytes")
            if not exc.drained:
                extra.append((b"connection", b"close"))
        call = Call(endpoint.operation if endpoint else _UNKNOWN, metadata, "okta", _peer(scope))
        result = await self._run(call, endpoint, Incoming(server_id, raw, refused), allowed)
        decision = result.call.decision
        headers = extra + (_rate_headers(decision) if decision is not None else [])
        if result.error is None and result.response is not None:
            await _send(send, result.response, headers)
            return
        assert result.error is not None
        http_status, body = errors.envelope(result.error, server_id or scope["path"])
        if http_status == 405:
            headers = [*headers, (b"allow", ", ".join(allowed).encode())]
        if isinstance(result.error, StaleEtag):  # 412: the ETag to read again, as a GET would send it
            headers = [*headers, (b"etag", result.error.current_etag.encode("latin-1"))]
        await respond(send, http_status, _json(body), extra=headers)

    async def _run(
        self, call: Call, endpoint: Routed | None, incoming: Incoming, allowed: list[str]
    ) -> Result[Reply]:
        """The call through Okta's stages: the endpoint's, or refused where VALIDATE stands (404, 405)."""
        if endpoint is None:
            return await self._pipeline.run(call, self._stages, lambda: _unrouted(allowed), _unreachable)
        stages = self._sending_stages if endpoint.sends_mail else self._stages
        return await endpoint.answer(self._pipeline, call, stages, incoming, self._servers)

    def _match(self, scope: Scope) -> tuple[Routed | None, str, list[str]]:
        """The endpoint for the request's method and path, and the path's server id; without one,
        the methods of the endpoints whose path matches (for Allow)."""
        allowed: list[str] = []
        for route, endpoint in self._routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return endpoint, str(child["path_params"].get(SERVER_ID, "")), []
            if match is Match.PARTIAL:
                allowed.append(endpoint.method)
        return None, "", allowed


def _unrouted(allowed: list[str]) -> NoReturn:
    """Where VALIDATE stands for a request no endpoint matches: 405 when its path has others, else 404."""
    if allowed:
        raise Unimplemented(None, "method not allowed")
    raise NotFound(None, "no such resource")


async def _unreachable(body: object, ctx: CallContext) -> Reply:
    raise AssertionError("an unrouted request is refused where VALIDATE stands")


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


def _json(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


async def _send(send: Send, reply: Reply, headers: list[tuple[bytes, bytes]]) -> None:
    if reply.etag is not None:
        headers = [*headers, (b"etag", reply.etag.encode("latin-1"))]
    if reply.body is None:
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await respond(send, reply.status, _json(reply.body), extra=headers)
