"""AdminService: each RPC turns its request into a domain call and the result into its response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message

from mailgate.api.preconditions import from_metadata
from mailgate.api.zitadel import convert
from mailgate.api.zitadel.events import EventsApi
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import object_pb2
from mailgate.pipeline.runner import CallContext
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.inputs import AuthRequest, LegacyAuth, SmtpInput
from mailgate.providers.model import Provider
from mailgate.providers.preconditions import etag
from mailgate.providers.queries import ProviderQueries
from mailgate.providers.testmail import InlineTest, TestMailService

# The RPCs that send real mail, and so are rate limited per instance.
TEST_RPCS = frozenset(
    {"TestEmailProviderSMTP", "TestEmailProviderSMTPById", "TestSMTPConfig", "TestSMTPConfigById"}
)

# Each new request message and the deprecated one it replaces: the same fields under the same
# numbers, the deprecated one without the Auth oneof.
AddSmtp = pb.AddEmailProviderSMTPRequest | pb.AddSMTPConfigRequest
UpdateSmtp = pb.UpdateEmailProviderSMTPRequest | pb.UpdateSMTPConfigRequest
InlineTestRequest = pb.TestEmailProviderSMTPRequest | pb.TestSMTPConfigRequest
Password = pb.UpdateEmailProviderSMTPPasswordRequest | pb.UpdateSMTPConfigPasswordRequest
Activate = pb.ActivateEmailProviderRequest | pb.ActivateSMTPConfigRequest
Deactivate = pb.DeactivateEmailProviderRequest | pb.DeactivateSMTPConfigRequest
Remove = pb.RemoveEmailProviderRequest | pb.RemoveSMTPConfigRequest
StoredTest = pb.TestEmailProviderSMTPByIdRequest | pb.TestSMTPConfigByIdRequest
Q = TypeVar("Q", bound=Message)
R = TypeVar("R", bound=Message)


def _auth(request: AddSmtp | UpdateSmtp | InlineTestRequest) -> AuthRequest:
    # The deprecated messages have no Auth oneof: the legacy user/password rule applies to them
    # (for TestSMTPConfig too, decision 9.14).
    if isinstance(
        request,
        pb.AddEmailProviderSMTPRequest | pb.UpdateEmailProviderSMTPRequest | pb.TestEmailProviderSMTPRequest,
    ):
        return convert.auth_input(request)
    return LegacyAuth(password=request.password)


def _smtp_input(request: AddSmtp | UpdateSmtp) -> SmtpInput:
    auth = _auth(request)
    return SmtpInput(
        sender_address=request.sender_address,
        sender_name=request.sender_name,
        host=request.host,
        tls=request.tls,
        user=request.user,
        reply_to_address=request.reply_to_address,
        description=request.description,
        auth=auth,
    )


def inline_test(request: InlineTestRequest) -> InlineTest:
    """A TestEmailProviderSMTP(/TestSMTPConfig) request as the domain's inline test."""
    return InlineTest(
        sender_address=request.sender_address,
        sender_name=request.sender_name,
        host=request.host,
        tls=request.tls,
        user=request.user,
        receiver_address=request.receiver_address,
        auth=_auth(request),
        provider_id=request.id,
    )


def _read(provider: Provider, ctx: CallContext) -> Provider:
    """A provider a read answers: its etag goes in the response metadata (the messages are ZITADEL's
    and take no field of ours)."""
    ctx.reply_metadata["etag"] = etag(provider)
    return provider


def _paging(query: object_pb2.ListQuery) -> tuple[int, int, bool]:
    return query.offset, query.limit, query.asc


def _deprecated(
    replacement: Callable[[AdminServicer, Q, CallContext], Awaitable[Message]], response_type: type[R]
) -> Callable[[AdminServicer, Q, CallContext], Awaitable[R]]:
    """A deprecated RPC served by its replacement: the response carries the same fields under the
    same numbers, so it is re-read as the deprecated response type."""

    async def deprecated(self: AdminServicer, request: Q, ctx: CallContext) -> R:
        answer = await replacement(self, request, ctx)
        return response_type.FromString(answer.SerializeToString())

    return deprecated


class AdminServicer:
    """The 24 email-provider RPCs and the 3 event RPCs of zitadel.admin.v1.AdminService."""

    def __init__(
        self, commands: ProviderCommands, queries: ProviderQueries, tests: TestMailService, events: EventsApi
    ) -> None:
        self._commands = commands
        self._queries = queries
        self._tests = tests
        self._events = events

    # --- email providers ---

    async def ListEmailProviders(
        self, request: pb.ListEmailProvidersRequest, ctx: CallContext
    ) -> pb.ListEmailProvidersResponse:
        page = await self._queries.page(ctx.principal.instance_id, *_paging(request.query))
        return pb.ListEmailProvidersResponse(
            details=convert.list_details(page, datetime.now(UTC)),
            result=[convert.email_provider(p) for p in page.providers],
        )

    async def GetEmailProvider(
        self, request: pb.GetEmailProviderRequest, ctx: CallContext
    ) -> pb.GetEmailProviderResponse:
        provider = _read(await self._queries.active(ctx.principal.instance_id), ctx)
        return pb.GetEmailProviderResponse(config=convert.email_provider(provider))

    async def GetEmailProviderById(
        self, request: pb.GetEmailProviderByIdRequest, ctx: CallContext
    ) -> pb.GetEmailProviderByIdResponse:
        provider = _read(await self._queries.by_id(ctx.principal.instance_id, request.id), ctx)
        return pb.GetEmailProviderByIdResponse(config=convert.email_provider(provider))

    async def AddEmailProviderSMTP(
        self, request: AddSmtp, ctx: CallContext
    ) -> pb.AddEmailProviderSMTPResponse:
        change, provider_id = await self._commands.add_smtp(
            ctx.principal.instance_id, _smtp_input(request), actor=ctx.actor
        )
        return pb.AddEmailProviderSMTPResponse(details=convert.change_details(change), id=provider_id)

    async def UpdateEmailProviderSMTP(
        self, request: UpdateSmtp, ctx: CallContext
    ) -> pb.UpdateEmailProviderSMTPResponse:
        change = await self._commands.update_smtp(
            ctx.principal.instance_id,
            request.id,
            _smtp_input(request),
            from_metadata(ctx.metadata),
            actor=ctx.actor,
        )
        return pb.UpdateEmailProviderSMTPResponse(details=convert.change_details(change))

    async def UpdateEmailProviderSMTPPassword(
        self, request: Password, ctx: CallContext
    ) -> pb.UpdateEmailProviderSMTPPasswordResponse:
        change = await self._commands.set_smtp_password(
            ctx.principal.instance_id,
            request.id,
            request.password,
            from_metadata(ctx.metadata),
            actor=ctx.actor,
        )
        return pb.UpdateEmailProviderSMTPPasswordResponse(details=convert.change_details(change))

    async def AddEmailProviderHTTP(
        self, request: pb.AddEmailProviderHTTPRequest, ctx: CallContext
    ) -> pb.AddEmailProviderHTTPResponse:
        change, provider_id, key = await self._commands.add_http(
            ctx.principal.instance_id, request.endpoint, request.description, actor=ctx.actor
        )
        return pb.AddEmailProviderHTTPResponse(
            details=convert.change_details(change), id=provider_id, signing_key=key
        )

    async def UpdateEmailProviderHTTP(
        self, request: pb.UpdateEmailProviderHTTPRequest, ctx: CallContext
    ) -> pb.UpdateEmailProviderHTTPResponse:
        change, key = await self._commands.update_http(
            ctx.principal.instance_id,
            request.id,
            request.endpoint,
            request.description,
            rotate_key=request.HasField("expiration_signing_key"),
            expected=from_metadata(ctx.metadata),
            actor=ctx.actor,
        )
        response = pb.UpdateEmailProviderHTTPResponse(details=convert.change_details(change))
        if key is not None:
            response.signing_key = key
        return response

    async def ActivateEmailProvider(
        self, request: Activate, ctx: CallContext
    ) -> pb.ActivateEmailProviderResponse:
        change = await self._commands.activate(
            ctx.principal.instance_id, request.id, from_metadata(ctx.metadata), actor=ctx.actor
        )
        return pb.ActivateEmailProviderResponse(details=convert.state_change_details(change))

    async def DeactivateEmailProvider(
        self, request: Deactivate, ctx: CallContext
    ) -> pb.DeactivateEmailProviderResponse:
        change = await self._commands.deactivate(
            ctx.principal.instance_id, request.id, from_metadata(ctx.metadata), actor=ctx.actor
        )
        return pb.DeactivateEmailProviderResponse(details=convert.state_change_details(change))

    async def RemoveEmailProvider(self, request: Remove, ctx: CallContext) -> pb.RemoveEmailProviderResponse:
        change = await self._commands.remove(
            ctx.principal.instance_id, request.id, expected=from_metadata(ctx.metadata), actor=ctx.actor
        )
        return pb.RemoveEmailProviderResponse(details=convert.change_details(change))

    async def TestEmailProviderSMTPById(
        self, request: StoredTest, ctx: CallContext
    ) -> pb.TestEmailProviderSMTPByIdResponse:
        await self._tests.test_stored(
            ctx.principal.instance_id, request.id, request.receiver_address, actor=ctx.actor
        )
        return pb.TestEmailProviderSMTPByIdResponse()

    async def TestEmailProviderSMTP(
        self, request: InlineTestRequest, ctx: CallContext
    ) -> pb.TestEmailProviderSMTPResponse:
        await self._tests.test_inline(ctx.principal.instance_id, inline_test(request), actor=ctx.actor)
        return pb.TestEmailProviderSMTPResponse()

    # --- events (mailgate's change history) ---

    async def ListEvents(self, request: pb.ListEventsRequest, ctx: CallContext) -> pb.ListEventsResponse:
        return await self._events.list_events(request, ctx)

    async def ListEventTypes(
        self, request: pb.ListEventTypesRequest, ctx: CallContext
    ) -> pb.ListEventTypesResponse:
        return await self._events.list_event_types(request, ctx)

    async def ListAggregateTypes(
        self, request: pb.ListAggregateTypesRequest, ctx: CallContext
    ) -> pb.ListAggregateTypesResponse:
        return await self._events.list_aggregate_types(request, ctx)

    # --- deprecated SMTPConfig views of the same providers ---

    async def GetSMTPConfig(
        self, request: pb.GetSMTPConfigRequest, ctx: CallContext
    ) -> pb.GetSMTPConfigResponse:
        provider = _read(await self._queries.active(ctx.principal.instance_id), ctx)
        return pb.GetSMTPConfigResponse(smtp_config=convert.smtp_config(provider))

    async def GetSMTPConfigById(
        self, request: pb.GetSMTPConfigByIdRequest, ctx: CallContext
    ) -> pb.GetSMTPConfigByIdResponse:
        provider = _read(await self._queries.by_id(ctx.principal.instance_id, request.id), ctx)
        return pb.GetSMTPConfigByIdResponse(smtp_config=convert.smtp_config(provider))

    async def ListSMTPConfigs(
        self, request: pb.ListSMTPConfigsRequest, ctx: CallContext
    ) -> pb.ListSMTPConfigsResponse:
        page = await self._queries.page(ctx.principal.instance_id, *_paging(request.query))
        return pb.ListSMTPConfigsResponse(
            details=convert.list_details(page, datetime.now(UTC)),
            result=[convert.smtp_config_item(p) for p in page.providers],
        )

    # The rest take the same fields as their replacements and do the same.
    AddSMTPConfig = _deprecated(AddEmailProviderSMTP, pb.AddSMTPConfigResponse)
    UpdateSMTPConfig = _deprecated(UpdateEmailProviderSMTP, pb.UpdateSMTPConfigResponse)
    UpdateSMTPConfigPassword = _deprecated(
        UpdateEmailProviderSMTPPassword, pb.UpdateSMTPConfigPasswordResponse
    )
    ActivateSMTPConfig = _deprecated(ActivateEmailProvider, pb.ActivateSMTPConfigResponse)
    DeactivateSMTPConfig = _deprecated(DeactivateEmailProvider, pb.DeactivateSMTPConfigResponse)
    RemoveSMTPConfig = _deprecated(RemoveEmailProvider, pb.RemoveSMTPConfigResponse)
    TestSMTPConfigById = _deprecated(TestEmailProviderSMTPById, pb.TestSMTPConfigByIdResponse)
    TestSMTPConfig = _deprecated(TestEmailProviderSMTP, pb.TestSMTPConfigResponse)
