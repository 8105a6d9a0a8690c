"""AdminService: each RPC turns its request into a domain call and the result into its response."""

from __future__ import annotations

from datetime import UTC, datetime

from mailgate.api.zitadel import convert
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import object_pb2
from mailgate.pipeline.runner import CallContext
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.inputs import AuthRequest, LegacyAuth, SmtpInput
from mailgate.providers.queries import ProviderQueries
from mailgate.providers.testmail import InlineTest, TestMailService

# The RPCs that send real mail, and so are rate limited per instance.
TEST_RPCS = frozenset(
    {"TestEmailProviderSMTP", "TestEmailProviderSMTPById", "TestSMTPConfig", "TestSMTPConfigById"}
)

AddSmtp = pb.AddEmailProviderSMTPRequest | pb.AddSMTPConfigRequest
UpdateSmtp = pb.UpdateEmailProviderSMTPRequest | pb.UpdateSMTPConfigRequest


def _smtp_input(request: AddSmtp | UpdateSmtp) -> SmtpInput:
    # The deprecated messages have no Auth oneof: the legacy user/password rule applies to them.
    if isinstance(request, pb.AddEmailProviderSMTPRequest | pb.UpdateEmailProviderSMTPRequest):
        auth = convert.auth_input(request)
    else:
        auth = LegacyAuth(password=request.password)
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


def _inline_test(
    request: pb.TestEmailProviderSMTPRequest | pb.TestSMTPConfigRequest, auth: AuthRequest
) -> InlineTest:
    return InlineTest(
        sender_address=request.sender_address,
        sender_name=request.sender_name,
        host=request.host,
        tls=request.tls,
        user=request.user,
        receiver_address=request.receiver_address,
        auth=auth,
        provider_id=request.id,
    )


def _paging(query: object_pb2.ListQuery) -> tuple[int, int, bool]:
    return query.offset, query.limit, query.asc


class AdminServicer:
    """The 24 email-provider RPCs of zitadel.admin.v1.AdminService."""

    def __init__(self, commands: ProviderCommands, queries: ProviderQueries, tests: TestMailService) -> None:
        self._commands = commands
        self._queries = queries
        self._tests = tests

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
        provider = await self._queries.active(ctx.principal.instance_id)
        return pb.GetEmailProviderResponse(config=convert.email_provider(provider))

    async def GetEmailProviderById(
        self, request: pb.GetEmailProviderByIdRequest, ctx: CallContext
    ) -> pb.GetEmailProviderByIdResponse:
        provider = await self._queries.by_id(ctx.principal.instance_id, request.id)
        return pb.GetEmailProviderByIdResponse(config=convert.email_provider(provider))

    async def AddEmailProviderSMTP(
        self, request: pb.AddEmailProviderSMTPRequest, ctx: CallContext
    ) -> pb.AddEmailProviderSMTPResponse:
        change, provider_id = await self._commands.add_smtp(ctx.principal.instance_id, _smtp_input(request))
        return pb.AddEmailProviderSMTPResponse(details=convert.change_details(change), id=provider_id)

    async def UpdateEmailProviderSMTP(
        self, request: pb.UpdateEmailProviderSMTPRequest, ctx: CallContext
    ) -> pb.UpdateEmailProviderSMTPResponse:
        change = await self._commands.update_smtp(ctx.principal.instance_id, request.id, _smtp_input(request))
        return pb.UpdateEmailProviderSMTPResponse(details=convert.change_details(change))

    async def UpdateEmailProviderSMTPPassword(
        self, request: pb.UpdateEmailProviderSMTPPasswordRequest, ctx: CallContext
    ) -> pb.UpdateEmailProviderSMTPPasswordResponse:
        change = await self._commands.set_smtp_password(
            ctx.principal.instance_id, request.id, request.password
        )
        return pb.UpdateEmailProviderSMTPPasswordResponse(details=convert.change_details(change))

    async def AddEmailProviderHTTP(
        self, request: pb.AddEmailProviderHTTPRequest, ctx: CallContext
    ) -> pb.AddEmailProviderHTTPResponse:
        change, provider_id, key = await self._commands.add_http(
            ctx.principal.instance_id, request.endpoint, request.description
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
        )
        response = pb.UpdateEmailProviderHTTPResponse(details=convert.change_details(change))
        if key is not None:
            response.signing_key = key
        return response

    async def ActivateEmailProvider(
        self, request: pb.ActivateEmailProviderRequest, ctx: CallContext
    ) -> pb.ActivateEmailProviderResponse:
        change = await self._commands.activate(ctx.principal.instance_id, request.id)
        return pb.ActivateEmailProviderResponse(details=convert.state_change_details(change))

    async def DeactivateEmailProvider(
        self, request: pb.DeactivateEmailProviderRequest, ctx: CallContext
    ) -> pb.DeactivateEmailProviderResponse:
        change = await self._commands.deactivate(ctx.principal.instance_id, request.id)
        return pb.DeactivateEmailProviderResponse(details=convert.state_change_details(change))

    async def RemoveEmailProvider(
        self, request: pb.RemoveEmailProviderRequest, ctx: CallContext
    ) -> pb.RemoveEmailProviderResponse:
        change = await self._commands.remove(ctx.principal.instance_id, request.id)
        return pb.RemoveEmailProviderResponse(details=convert.change_details(change))

    async def TestEmailProviderSMTPById(
        self, request: pb.TestEmailProviderSMTPByIdRequest, ctx: CallContext
    ) -> pb.TestEmailProviderSMTPByIdResponse:
        await self._tests.test_stored(ctx.principal.instance_id, request.id, request.receiver_address)
        return pb.TestEmailProviderSMTPByIdResponse()

    async def TestEmailProviderSMTP(
        self, request: pb.TestEmailProviderSMTPRequest, ctx: CallContext
    ) -> pb.TestEmailProviderSMTPResponse:
        await self._tests.test_inline(
            ctx.principal.instance_id, _inline_test(request, convert.auth_input(request))
        )
        return pb.TestEmailProviderSMTPResponse()

    # --- deprecated SMTPConfig views of the same providers ---

    async def GetSMTPConfig(
        self, request: pb.GetSMTPConfigRequest, ctx: CallContext
    ) -> pb.GetSMTPConfigResponse:
        provider = await self._queries.active(ctx.principal.instance_id)
        return pb.GetSMTPConfigResponse(smtp_config=convert.smtp_config(provider))

    async def GetSMTPConfigById(
        self, request: pb.GetSMTPConfigByIdRequest, ctx: CallContext
    ) -> pb.GetSMTPConfigByIdResponse:
        provider = await self._queries.by_id(ctx.principal.instance_id, request.id)
        return pb.GetSMTPConfigByIdResponse(smtp_config=convert.smtp_config(provider))

    async def ListSMTPConfigs(
        self, request: pb.ListSMTPConfigsRequest, ctx: CallContext
    ) -> pb.ListSMTPConfigsResponse:
        page = await self._queries.page(ctx.principal.instance_id, *_paging(request.query))
        return pb.ListSMTPConfigsResponse(
            details=convert.list_details(page, datetime.now(UTC)),
            result=[convert.smtp_config_item(p) for p in page.providers],
        )

    async def AddSMTPConfig(
        self, request: pb.AddSMTPConfigRequest, ctx: CallContext
    ) -> pb.AddSMTPConfigResponse:
        change, provider_id = await self._commands.add_smtp(ctx.principal.instance_id, _smtp_input(request))
        return pb.AddSMTPConfigResponse(details=convert.change_details(change), id=provider_id)

    async def UpdateSMTPConfig(
        self, request: pb.UpdateSMTPConfigRequest, ctx: CallContext
    ) -> pb.UpdateSMTPConfigResponse:
        change = await self._commands.update_smtp(ctx.principal.instance_id, request.id, _smtp_input(request))
        return pb.UpdateSMTPConfigResponse(details=convert.change_details(change))

    async def UpdateSMTPConfigPassword(
        self, request: pb.UpdateSMTPConfigPasswordRequest, ctx: CallContext
    ) -> pb.UpdateSMTPConfigPasswordResponse:
        change = await self._commands.set_smtp_password(
            ctx.principal.instance_id, request.id, request.password
        )
        return pb.UpdateSMTPConfigPasswordResponse(details=convert.change_details(change))

    async def ActivateSMTPConfig(
        self, request: pb.ActivateSMTPConfigRequest, ctx: CallContext
    ) -> pb.ActivateSMTPConfigResponse:
        change = await self._commands.activate(ctx.principal.instance_id, request.id)
        return pb.ActivateSMTPConfigResponse(details=convert.state_change_details(change))

    async def DeactivateSMTPConfig(
        self, request: pb.DeactivateSMTPConfigRequest, ctx: CallContext
    ) -> pb.DeactivateSMTPConfigResponse:
        change = await self._commands.deactivate(ctx.principal.instance_id, request.id)
        return pb.DeactivateSMTPConfigResponse(details=convert.state_change_details(change))

    async def RemoveSMTPConfig(
        self, request: pb.RemoveSMTPConfigRequest, ctx: CallContext
    ) -> pb.RemoveSMTPConfigResponse:
        change = await self._commands.remove(ctx.principal.instance_id, request.id)
        return pb.RemoveSMTPConfigResponse(details=convert.change_details(change))

    async def TestSMTPConfigById(
        self, request: pb.TestSMTPConfigByIdRequest, ctx: CallContext
    ) -> pb.TestSMTPConfigByIdResponse:
        await self._tests.test_stored(ctx.principal.instance_id, request.id, request.receiver_address)
        return pb.TestSMTPConfigByIdResponse()

    async def TestSMTPConfig(
        self, request: pb.TestSMTPConfigRequest, ctx: CallContext
    ) -> pb.TestSMTPConfigResponse:
        # No Auth oneof here: the same "oneof unset" rule as TestEmailProviderSMTP (decision 9.14).
        auth = LegacyAuth(password=request.password)
        await self._tests.test_inline(ctx.principal.instance_id, _inline_test(request, auth))
        return pb.TestSMTPConfigResponse()
