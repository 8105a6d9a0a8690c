"""DeliveryService: each RPC turns its request into an outbox call and the result into its response."""

from __future__ import annotations

from mailgate.api.mailgate import convert
from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.outbox.request import DEFAULT_MAX_ATTEMPTS
from mailgate.outbox.service import Outbox
from mailgate.pipeline.auth import READ, Principal
from mailgate.pipeline.runner import CallContext


def _own_only(principal: Principal) -> str | None:
    """The token whose messages alone the caller may read (an email.send token: its own), or None."""
    return None if principal.may(READ) else principal.token_id


class DeliveryServicer:
    """The seven RPCs of mailgate.v1.DeliveryService."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def SendEmail(self, request: pb.SendEmailRequest, ctx: CallContext) -> pb.SendEmailResponse:
        principal = ctx.principal
        enqueued = await self._outbox.enqueue(
            principal.instance_id, principal.token_id, convert.email_request(request)
        )
        return pb.SendEmailResponse(message=convert.message(enqueued.message), replayed=enqueued.replayed)

    async def GetMessage(self, request: pb.GetMessageRequest, ctx: CallContext) -> pb.GetMessageResponse:
        principal = ctx.principal
        details = await self._outbox.get(principal.instance_id, request.id, _own_only(principal))
        return pb.GetMessageResponse(message=convert.message(details.message, details.attempts))

    async def ListMessages(
        self, request: pb.ListMessagesRequest, ctx: CallContext
    ) -> pb.ListMessagesResponse:
        principal = ctx.principal
        query = convert.message_filter(request, _own_only(principal))
        page = await self._outbox.page(principal.instance_id, query, request.page_size, request.page_token)
        return pb.ListMessagesResponse(
            messages=[convert.message(item) for item in page.messages], next_page_token=page.next_page_token
        )

    async def CancelMessage(
        self, request: pb.CancelMessageRequest, ctx: CallContext
    ) -> pb.CancelMessageResponse:
        message = await self._outbox.cancel(ctx.principal.instance_id, request.id)
        return pb.CancelMessageResponse(message=convert.message(message))

    async def RetryMessage(
        self, request: pb.RetryMessageRequest, ctx: CallContext
    ) -> pb.RetryMessageResponse:
        message = await self._outbox.retry(
            ctx.principal.instance_id,
            request.id,
            convert.retry_expiry(request),
            request.max_attempts or DEFAULT_MAX_ATTEMPTS,
        )
        return pb.RetryMessageResponse(message=convert.message(message))

    async def GetDeliveryFallbacks(
        self, request: pb.GetDeliveryFallbacksRequest, ctx: CallContext
    ) -> pb.GetDeliveryFallbacksResponse:
        found = await self._outbox.fallbacks(ctx.principal.instance_id)
        return pb.GetDeliveryFallbacksResponse(provider_ids=found)

    async def SetDeliveryFallbacks(
        self, request: pb.SetDeliveryFallbacksRequest, ctx: CallContext
    ) -> pb.SetDeliveryFallbacksResponse:
        stored = await self._outbox.set_fallbacks(
            ctx.principal.instance_id, tuple(request.provider_ids), actor=ctx.actor
        )
        return pb.SetDeliveryFallbacksResponse(provider_ids=stored)
