"""The six operations of Okta's Email Servers API, on the same domain services as ZITADEL's API.

`ENDPOINTS` is the route table: each operation's method and path, its pipeline identity (name and
Okta's scope as a permission), the body it reads and the handler that gets that body, typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from mailgate.api.okta import wire
from mailgate.api.okta.bodies import CREATE, PATCH, TEST, Addresses, NewServer
from mailgate.api.okta.reader import NO_BODY, Parser
from mailgate.errors import InvalidArgument
from mailgate.pipeline.auth import READ, WRITE
from mailgate.pipeline.runner import CallContext, Pipeline, Result
from mailgate.pipeline.stages import Call, Operation, Stages
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.inputs import SmtpPatch
from mailgate.providers.queries import ProviderQueries
from mailgate.providers.testmail import TestMailService

P = TypeVar("P")
SERVER_ID = "emailServerId"  # the path parameter of the by-id operations


@dataclass(frozen=True)
class Reply:
    """A successful answer: HTTP status and JSON body (None for 204)."""

    status: int
    body: object = None


@dataclass(frozen=True)
class Request(Generic[P]):
    """What an operation gets: the path's server id ("" on the collection) and its parsed body."""

    server_id: str
    body: P


@dataclass(frozen=True)
class Incoming:
    """A routed request as it arrived: the path's server id, the raw body, and why the body was
    refused unread (too large), if it was."""

    server_id: str
    raw: bytes
    refused: InvalidArgument | None = None


class EmailServers:
    """Handlers: each maps its request to a domain call and the result to Okta's JSON."""

    def __init__(self, commands: ProviderCommands, queries: ProviderQueries, tests: TestMailService) -> None:
        self._commands = commands
        self._queries = queries
        self._tests = tests

    async def list(self, request: Request[None], ctx: CallContext) -> Reply:
        """GET: every SMTP provider of the token's instance."""
        providers = await self._queries.smtp_providers(ctx.principal.instance_id)
        return Reply(200, {wire.LIST_PROPERTY: [wire.render(p) for p in providers]})

    async def create(self, request: Request[NewServer], ctx: CallContext) -> Reply:
        """POST: a new provider, enabled at once when the body says so; 201."""
        new = request.body
        provider = await self._commands.create_smtp(
            ctx.principal.instance_id, new.settings, activate=new.enabled, actor=ctx.actor
        )
        return Reply(201, wire.render(provider))

    async def get(self, request: Request[None], ctx: CallContext) -> Reply:
        """GET by id: one SMTP provider (an HTTP provider is not found)."""
        provider = await self._queries.smtp_by_id(ctx.principal.instance_id, request.server_id)
        return Reply(200, wire.render_item(provider))

    async def patch(self, request: Request[SmtpPatch], ctx: CallContext) -> Reply:
        """PATCH: change what the body names; answers the whole provider."""
        provider = await self._commands.patch_smtp(
            ctx.principal.instance_id, request.server_id, request.body, actor=ctx.actor
        )
        return Reply(200, wire.render(provider))

    async def delete(self, request: Request[None], ctx: CallContext) -> Reply:
        """DELETE: remove an SMTP provider, active or not; 204."""
        await self._commands.remove(
            ctx.principal.instance_id, request.server_id, smtp_only=True, actor=ctx.actor
        )
        return Reply(204)

    async def test(self, request: Request[Addresses], ctx: CallContext) -> Reply:
        """POST .../test: a real email from `fromAddress` to `toAddress` through the stored settings; 204."""
        addresses = request.body
        await self._tests.test_stored(
            ctx.principal.instance_id,
            request.server_id,
            addresses.receiver,
            sender_address=addresses.sender,
            actor=ctx.actor,
        )
        return Reply(204)


class Routed(Protocol):
    """An endpoint as the router and the OpenAPI document see it, whatever body it reads."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def operation(self) -> Operation: ...
    @property
    def body(self) -> Parser[object]: ...
    @property
    def status(self) -> int: ...
    @property
    def answers(self) -> str | None: ...
    @property
    def sends_mail(self) -> bool: ...

    async def answer(
        self, pipeline: Pipeline, call: Call, stages: Stages, incoming: Incoming, servers: EmailServers
    ) -> Result[Reply]: ...


@dataclass(frozen=True)
class Endpoint(Generic[P]):
    """One operation: where it is, the body it reads, the handler that gets it, what it
    answers (the success status and the schema of its body), and whether it sends real mail (then
    the per-instance test-email limit applies)."""

    method: str
    path: str  # below wire.PREFIX, in Starlette's syntax: "/{emailServerId}"
    operation: Operation
    body: Parser[P]
    handler: Callable[[EmailServers, Request[P], CallContext], Awaitable[Reply]]
    status: int
    answers: str | None = None
    sends_mail: bool = False

    async def answer(
        self, pipeline: Pipeline, call: Call, stages: Stages, incoming: Incoming, servers: EmailServers
    ) -> Result[Reply]:
        """The call through `stages`; the body is parsed where VALIDATE stands, then handled."""
        return await pipeline.run(
            call,
            stages,
            lambda: self._request(incoming),
            lambda request, ctx: self.handler(servers, request, ctx),
        )

    def _request(self, incoming: Incoming) -> Request[P]:
        if incoming.refused is not None:
            raise incoming.refused
        return Request(incoming.server_id, self.body.parse(incoming.raw))


def _endpoint(
    method: str,
    path: str,
    name: str,
    permission: str,
    body: Parser[P],
    handler: Callable[[EmailServers, Request[P], CallContext], Awaitable[Reply]],
    status: int,
    answers: str | None = None,
    sends_mail: bool = False,
) -> Routed:
    return Endpoint(method, path, Operation(name, permission), body, handler, status, answers, sends_mail)


BY_ID = f"/{{{SERVER_ID}}}"
# In the order Allow lists the methods of a path.
ENDPOINTS: tuple[Routed, ...] = (
    _endpoint("GET", "", "listEmailServers", READ, NO_BODY, EmailServers.list, 200, "okta.EmailServerList"),
    _endpoint("POST", "", "createEmailServer", WRITE, CREATE, EmailServers.create, 201, "okta.EmailServer"),
    _endpoint("GET", BY_ID, "getEmailServer", READ, NO_BODY, EmailServers.get, 200, "okta.EmailServerItem"),
    _endpoint("PATCH", BY_ID, "updateEmailServer", WRITE, PATCH, EmailServers.patch, 200, "okta.EmailServer"),
    _endpoint("DELETE", BY_ID, "deleteEmailServer", WRITE, NO_BODY, EmailServers.delete, 204),
    # Sends real mail: the per-instance test-email limit applies as to ZITADEL's test RPCs.
    _endpoint(
        "POST", f"{BY_ID}/test", "testEmailServer", WRITE, TEST, EmailServers.test, 204, sends_mail=True
    ),
)
