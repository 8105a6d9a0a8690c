"""The six operations of Okta's Email Servers API, on the same domain services as ZITADEL's API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mailgate.api.okta import wire
from mailgate.pipeline.auth import READ, WRITE
from mailgate.pipeline.runner import CallContext
from mailgate.pipeline.stages import Operation
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.queries import ProviderQueries
from mailgate.providers.testmail import TestMailService


@dataclass(frozen=True)
class Reply:
    """A successful answer: HTTP status and JSON body (None for 204)."""

    status: int
    body: Any = None


@dataclass(frozen=True)
class Request:
    """What an operation gets: the path's provider id and the parsed body (see `Route.parse`)."""

    provider_id: str
    body: Any


Parser = Callable[[dict[str, Any]], Any]
Handler = Callable[["EmailServers", Request, CallContext], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    """One operation: its pipeline identity (name and Okta's scope as a permission), how to parse
    its body, what it does, and whether it sends real mail (the per-instance test-email limit)."""

    operation: Operation
    parse: Parser | None
    handler: Handler
    sends_mail: bool = False


class EmailServers:
    """Handlers: each maps its request to a domain call and the result to Okta's JSON."""

    def __init__(self, commands: ProviderCommands, queries: ProviderQueries, tests: TestMailService) -> None:
        self._commands = commands
        self._queries = queries
        self._tests = tests

    async def list(self, request: Request, ctx: CallContext) -> Reply:
        """GET: every SMTP provider of the token's instance."""
        providers = await self._queries.smtp_providers(ctx.principal.instance_id)
        return Reply(200, {wire.LIST_PROPERTY: [wire.render(p) for p in providers]})

    async def create(self, request: Request, ctx: CallContext) -> Reply:
        """POST: a new provider, enabled at once when the body says so; 201."""
        data, enabled = request.body
        provider = await self._commands.create_smtp(ctx.principal.instance_id, data, activate=enabled)
        return Reply(201, wire.render(provider))

    async def get(self, request: Request, ctx: CallContext) -> Reply:
        """GET by id: one SMTP provider (an HTTP provider is not found)."""
        provider = await self._queries.smtp_by_id(ctx.principal.instance_id, request.provider_id)
        return Reply(200, wire.render_item(provider))

    async def patch(self, request: Request, ctx: CallContext) -> Reply:
        """PATCH: change what the body names; answers the whole provider."""
        provider = await self._commands.patch_smtp(
            ctx.principal.instance_id, request.provider_id, request.body
        )
        return Reply(200, wire.render(provider))

    async def delete(self, request: Request, ctx: CallContext) -> Reply:
        """DELETE: remove an SMTP provider, active or not; 204."""
        await self._commands.remove(ctx.principal.instance_id, request.provider_id, smtp_only=True)
        return Reply(204)

    async def test(self, request: Request, ctx: CallContext) -> Reply:
        """POST .../test: a real email from `fromAddress` to `toAddress` through the stored settings; 204."""
        sender, receiver = request.body
        await self._tests.test_stored(
            ctx.principal.instance_id, request.provider_id, receiver, sender_address=sender
        )
        return Reply(204)


def _route(
    name: str, permission: str, parse: Parser | None, handler: Handler, sends_mail: bool = False
) -> Route:
    return Route(Operation(name, permission), parse, handler, sends_mail)


# (method, shape) -> route; shape is "collection", "item" or "test".
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "collection"): _route("listEmailServers", READ, None, EmailServers.list),
    ("POST", "collection"): _route("createEmailServer", WRITE, wire.parse_create, EmailServers.create),
    ("GET", "item"): _route("getEmailServer", READ, None, EmailServers.get),
    ("PATCH", "item"): _route("updateEmailServer", WRITE, wire.parse_patch, EmailServers.patch),
    ("DELETE", "item"): _route("deleteEmailServer", WRITE, None, EmailServers.delete),
    # Sends real mail: the per-instance test-email limit applies as to ZITADEL's test RPCs.
    ("POST", "test"): _route("testEmailServer", WRITE, wire.parse_test, EmailServers.test, sends_mail=True),
}
