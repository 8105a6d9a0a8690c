"""The outbox: queue notification emails, read where they stand, cancel and retry them; fallbacks.

`enqueue` answers only after its transaction committed, so an acknowledged message is durable.
Workers learn of new work through `on_enqueued` (this process's) and NOTIFY (other replicas').
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from mailgate.delivery.message import MessageTextError, parse_mailbox
from mailgate.errors import Conflict, FailedPrecondition, NotFound
from mailgate.history.actor import SYSTEM, Actor
from mailgate.history.events import FALLBACKS_SET, Draft, FieldChange
from mailgate.outbox.checks import checked
from mailgate.outbox.idempotency import request_digest, same_request
from mailgate.outbox.model import Message, MessageState
from mailgate.outbox.paging import decode_token, encode_token
from mailgate.outbox.request import (
    DEFAULT_PAGE_SIZE,
    Cursor,
    EmailRequest,
    Enqueued,
    MessageDetails,
    MessageFilter,
    MessagePage,
)
from mailgate.pipeline.faults import CONFLICT_ID, CONFLICT_TEXT
from mailgate.secrets import SecretBox
from mailgate.store.clock import now_us, to_us
from mailgate.store.outbox import ActiveProvider, DuplicateKey, OutboxRepository, new_message_id
from mailgate.store.outbox_rows import NewMessage
from mailgate.store.providers import ProviderRepository

log = logging.getLogger("mailgate.outbox")

NO_PROVIDER_ID = "MG-NO-PROVIDER"
KEY_REUSED_ID = "MG-IDEMPOTENCY-KEY-REUSED"
NOT_FOUND_ID = "MG-MESSAGE-NOT-FOUND"
STATE_ID = "MG-MESSAGE-STATE"
BODIES_GONE_ID = "MG-BODIES-GONE"
FALLBACK_UNKNOWN_ID = "MG-FALLBACK-UNKNOWN"
# The Message-ID's domain when the provider has no sender address of its own (HTTP providers).
FALLBACK_MESSAGE_ID_DOMAIN = "mailgate.invalid"


def _nothing() -> None:
    """The default `on_enqueued`: no local workers to wake."""


def _internet_message_id(message_id: str, provider: ActiveProvider) -> str:
    """The Message-ID every attempt carries: unique, on one header line, in the sender's domain."""
    domain = FALLBACK_MESSAGE_ID_DOMAIN
    if provider.sender_address:
        # A sender stored before the address checks keeps the placeholder: any domain does for an id.
        with contextlib.suppress(MessageTextError):
            domain = parse_mailbox(provider.sender_address, "sender").domain
    return f"<{message_id}.{secrets.token_urlsafe(9)}.mailgate@{domain}>"


class Outbox:
    """The outbox's write side and its status reads, per instance."""

    def __init__(
        self,
        store: OutboxRepository,
        providers: ProviderRepository,
        box: SecretBox,
        on_enqueued: Callable[[], None] = _nothing,
    ) -> None:
        self._store = store
        self._providers = providers
        self._box = box
        self.on_enqueued = on_enqueued

    # --- SendEmail ---

    async def enqueue(self, instance_id: str, token_id: str, request: EmailRequest) -> Enqueued:
        """Queue `request` (checked first: a refused request stores nothing and uses no key); a
        request under a key already used answers that key's message."""
        request = checked(request)
        try:
            enqueued = await self._insert(instance_id, token_id, request)
        except DuplicateKey:
            # A concurrent request with the same key committed first: answer its message.
            enqueued = await self._replay(instance_id, request)
        if not enqueued.replayed:
            self._wake()
        return enqueued

    async def _insert(self, instance_id: str, token_id: str, request: EmailRequest) -> Enqueued:
        async with self._store.write(instance_id) as tx:
            if request.idempotency_key is not None:
                earlier = await tx.by_key(request.idempotency_key)
                if earlier is not None:
                    return self._replayed(instance_id, request, earlier.message, earlier.request_digest)
            provider = await tx.active_provider()
            if provider is None:
                raise FailedPrecondition(
                    NO_PROVIDER_ID, "the instance has no active email provider: activate one first"
                )
            message_id = new_message_id()
            message = await tx.insert(
                NewMessage(
                    id=message_id,
                    request=request,
                    internet_message_id=_internet_message_id(message_id, provider),
                    request_digest=request_digest(self._box, instance_id, request),
                    sender_token_id=token_id,
                    created_us=now_us(),
                )
            )
        return Enqueued(message, replayed=False)

    async def _replay(self, instance_id: str, request: EmailRequest) -> Enqueued:
        assert request.idempotency_key is not None
        earlier = await self._store.by_key(instance_id, request.idempotency_key)
        if earlier is None:  # removed since (retention): a new call queues it afresh
            raise Conflict(CONFLICT_ID, CONFLICT_TEXT)
        return self._replayed(instance_id, request, earlier.message, earlier.request_digest)

    def _replayed(
        self, instance_id: str, request: EmailRequest, message: Message, digest: str | None
    ) -> Enqueued:
        if not same_request(self._box, instance_id, request, digest):
            raise FailedPrecondition(
                KEY_REUSED_ID,
                "this idempotency_key was first used for a different request; "
                "send the same request again, or use a new key",
            )
        return Enqueued(message, replayed=True)

    def _wake(self) -> None:
        # The message is committed and will be answered: a failing callback must not change that.
        try:
            self.on_enqueued()
        except Exception:
            log.exception("waking the delivery workers failed; they find the message when they poll")

    # --- reads ---

    async def get(self, instance_id: str, message_id: str, reader_token: str | None) -> MessageDetails:
        """A message with its attempts; `reader_token` set: only if that token sent it (else NOT_FOUND,
        as another instance's message is)."""
        details = await self._store.details(instance_id, message_id)
        if details is None or not _readable(details.message, reader_token):
            raise _not_found()
        return details

    async def page(
        self, instance_id: str, query: MessageFilter, page_size: int, page_token: str
    ) -> MessagePage:
        """A page of messages, newest first; `query.sender_token_id` narrows it to a token's own."""
        limit = page_size or DEFAULT_PAGE_SIZE
        cursor = decode_token(page_token, query)
        found = await self._store.page(instance_id, query, cursor, limit + 1)
        shown = found[:limit]
        token = ""
        if len(found) > limit:
            last = shown[-1]
            token = encode_token(Cursor(to_us(last.created_at), last.id), query)
        return MessagePage(shown, token)

    # --- iam.write ---

    async def cancel(self, instance_id: str, message_id: str) -> Message:
        """QUEUED or DEFERRED -> CANCELED; any other state (SENDING included) is FAILED_PRECONDITION."""
        async with self._store.write(instance_id) as tx:
            canceled = await tx.cancel(message_id, now_us())
            message = await tx.get(message_id)
        if message is None:
            raise _not_found()
        if canceled:
            return message
        if message.state in (MessageState.QUEUED, MessageState.DEFERRED):  # a worker holds its lease
            raise FailedPrecondition(STATE_ID, "the message is being sent now and can no longer be canceled")
        raise _wrong_state(message, "canceled", "QUEUED or DEFERRED")

    async def retry(
        self, instance_id: str, message_id: str, expires_after: timedelta | None, max_attempts: int
    ) -> Message:
        """FAILED or EXPIRED -> QUEUED: a new series of attempts, the same id and Message-ID."""
        async with self._store.write(instance_id) as tx:
            message = await tx.get(message_id)
            if message is None:
                raise _not_found()
            if message.state not in (MessageState.FAILED, MessageState.EXPIRED):
                raise _wrong_state(message, "retried", "FAILED or EXPIRED")
            if not await tx.has_bodies(message_id):
                raise FailedPrecondition(
                    BODIES_GONE_ID, "the message's bodies were deleted after its retention; send it anew"
                )
            if await tx.active_provider() is None:
                raise FailedPrecondition(NO_PROVIDER_ID, "the instance has no active email provider")
            expires_us = None if expires_after is None else expires_after // timedelta(microseconds=1)
            requeued = await tx.requeue(message_id, now_us(), expires_us, max_attempts)
            message = await tx.get(message_id)
        assert message is not None
        if not requeued:  # its state changed since it was read (PostgreSQL: another replica's write)
            raise _wrong_state(message, "retried", "FAILED or EXPIRED")
        self._wake()
        return message

    # --- fallbacks ---

    async def fallbacks(self, instance_id: str) -> tuple[str, ...]:
        return await self._store.fallbacks(instance_id)

    async def set_fallbacks(
        self, instance_id: str, provider_ids: tuple[str, ...], *, actor: Actor = SYSTEM
    ) -> tuple[str, ...]:
        """Replace the ordered list; every id must name a provider of the instance (NOT_FOUND).
        A list that changed is recorded in the history, in the same transaction."""
        async with self._providers.write(instance_id) as tx:
            await tx.lock()  # a provider's removal (which drops it from the list) waits, or went first
            for provider_id in provider_ids:
                if await tx.get(provider_id) is None:
                    raise NotFound(
                        FALLBACK_UNKNOWN_ID, f"the instance has no provider {provider_id!r} to fall back to"
                    )
            before = await tx.fallbacks()
            await tx.set_fallbacks(provider_ids)
            if before != provider_ids:
                change = FieldChange("providerIds", list(before), list(provider_ids))
                payload = {"providerIds": list(provider_ids)}
                await tx.record(actor, [Draft(FALLBACKS_SET, payload=payload, changes=(change,))])
        return provider_ids


def _readable(message: Message, reader_token: str | None) -> bool:
    return reader_token is None or message.sender_token_id == reader_token


def _not_found() -> NotFound:
    return NotFound(NOT_FOUND_ID, "message not found")


def _wrong_state(message: Message, what: str, allowed: str) -> FailedPrecondition:
    return FailedPrecondition(
        STATE_ID, f"the message is {message.state.name}; only a {allowed} message can be {what}"
    )
