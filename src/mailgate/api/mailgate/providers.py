"""ProviderService: ZITADEL's provider read model with its etag as a field, and state changes under
a body etag, through the same commands (history, activation CAS) as ZITADEL's and Okta's writes."""

from __future__ import annotations

from datetime import UTC, datetime

from mailgate.api.preconditions import with_body_etag
from mailgate.api.zitadel import convert
from mailgate.gen.mailgate.v1 import providers_pb2 as pb
from mailgate.pipeline.runner import CallContext
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.model import Provider
from mailgate.providers.preconditions import etag
from mailgate.providers.queries import ProviderQueries


def provider_message(provider: Provider) -> pb.Provider:
    """A provider as mailgate.v1 reads it: ZITADEL's read model (no secret) and its etag."""
    return pb.Provider(provider=convert.email_provider(provider), etag=etag(provider))


class ProviderServicer:
    """The five RPCs of mailgate.v1.ProviderService."""

    def __init__(self, commands: ProviderCommands, queries: ProviderQueries) -> None:
        self._commands = commands
        self._queries = queries

    async def GetProvider(self, request: pb.GetProviderRequest, ctx: CallContext) -> pb.GetProviderResponse:
        provider = await self._queries.by_id(ctx.principal.instance_id, request.id)
        ctx.reply_metadata["etag"] = etag(provider)  # as ZITADEL's reads: the header equals the field
        return pb.GetProviderResponse(provider=provider_message(provider))

    async def ListProviders(
        self, request: pb.ListProvidersRequest, ctx: CallContext
    ) -> pb.ListProvidersResponse:
        query = request.query
        page = await self._queries.page(ctx.principal.instance_id, query.offset, query.limit, query.asc)
        return pb.ListProvidersResponse(
            details=convert.list_details(page, datetime.now(UTC)),
            result=[provider_message(p) for p in page.providers],
        )

    async def ActivateProvider(
        self, request: pb.ActivateProviderRequest, ctx: CallContext
    ) -> pb.ActivateProviderResponse:
        instance_id = ctx.principal.instance_id
        expected = with_body_etag(ctx.metadata, request.etag)
        await self._commands.activate(instance_id, request.id, expected, actor=ctx.actor)
        return pb.ActivateProviderResponse(provider=await self._after(instance_id, request.id, ctx))

    async def DeactivateProvider(
        self, request: pb.DeactivateProviderRequest, ctx: CallContext
    ) -> pb.DeactivateProviderResponse:
        instance_id = ctx.principal.instance_id
        expected = with_body_etag(ctx.metadata, request.etag)
        await self._commands.deactivate(instance_id, request.id, expected, actor=ctx.actor)
        return pb.DeactivateProviderResponse(provider=await self._after(instance_id, request.id, ctx))

    async def RemoveProvider(
        self, request: pb.RemoveProviderRequest, ctx: CallContext
    ) -> pb.RemoveProviderResponse:
        expected = with_body_etag(ctx.metadata, request.etag)
        change = await self._commands.remove(
            ctx.principal.instance_id, request.id, expected=expected, actor=ctx.actor
        )
        return pb.RemoveProviderResponse(details=convert.change_details(change))

    async def _after(self, instance_id: str, provider_id: str, ctx: CallContext) -> pb.Provider:
        """The provider as the write left it (or as a later write did: its etag is the current one)."""
        provider = await self._queries.by_id(instance_id, provider_id)
        ctx.reply_metadata["etag"] = etag(provider)
        return provider_message(provider)
