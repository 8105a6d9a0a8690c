"""HistoryService: ListHistory's pages and WatchHistory's stream, as mailgate.v1 messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC

from google.protobuf import struct_pb2, timestamp_pb2

from mailgate.api.zitadel.convert import timestamp
from mailgate.gen.mailgate.v1 import history_pb2 as pb
from mailgate.history.events import Event, Json
from mailgate.history.paging import decode_token, encode_token
from mailgate.history.query import DEFAULT_PAGE, HistoryFilter, HistoryRange
from mailgate.history.service import HistoryLog
from mailgate.pipeline.runner import CallContext
from mailgate.store.clock import to_us


def _value(value: Json) -> struct_pb2.Value:
    holder = struct_pb2.Struct()
    holder.update({"v": value})
    return holder.fields["v"]


def history_event(event: Event) -> pb.HistoryEvent:
    payload = struct_pb2.Struct()
    payload.update(event.payload)
    actor = event.actor
    return pb.HistoryEvent(
        sequence=event.sequence,
        type=event.type,
        create_time=timestamp(event.at),
        instance_id=event.instance_id,
        provider_id=event.provider_id,
        actor=pb.Actor(
            token_id=actor.token_id,
            token_description=actor.token_description,
            transport=actor.transport,
            client_address=actor.client_address,
            request_id=actor.request_id,
        ),
        payload=payload,
        changes=[
            pb.FieldChange(field=c.field, old_value=_value(c.old), new_value=_value(c.new))
            for c in event.changes
        ],
        secret_changed=event.secret_changed,
        secrets=[pb.SecretChange(field=s.field, fingerprint=s.fingerprint) for s in event.secrets],
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def _us(moment: timestamp_pb2.Timestamp) -> int:
    return to_us(moment.ToDatetime(tzinfo=UTC))


def history_filter(request: pb.ListHistoryRequest) -> HistoryFilter:
    return HistoryFilter(
        provider_id=request.provider_id,
        type_prefix=request.type_prefix,
        actor_token_id=request.actor_token_id,
        since_us=_us(request.create_time_start) if request.HasField("create_time_start") else None,
        until_us=_us(request.create_time_end) if request.HasField("create_time_end") else None,
    )


class HistoryServicer:
    """mailgate.v1.HistoryService on the caller's instance."""

    def __init__(self, history: HistoryLog) -> None:
        self._history = history

    async def ListHistory(self, request: pb.ListHistoryRequest, ctx: CallContext) -> pb.ListHistoryResponse:
        where = history_filter(request)
        before = decode_token(request.page_token, where)
        size = request.page_size or DEFAULT_PAGE
        # One more than the page, to know whether another page follows.
        span = HistoryRange(size + 1, False, before=before)
        found = await self._history.window(ctx.principal.instance_id, where, span)
        page, more = found[:size], len(found) > size
        token = encode_token(page[-1].sequence, where) if more else ""
        return pb.ListHistoryResponse(events=[history_event(e) for e in page], next_page_token=token)

    async def WatchHistory(
        self, request: pb.WatchHistoryRequest, ctx: CallContext
    ) -> AsyncIterator[pb.WatchHistoryResponse]:
        """The stream: returned at once, iterated by the transport until the client goes away."""
        where = HistoryFilter(provider_id=request.provider_id, type_prefix=request.type_prefix)
        events = self._history.watch(ctx.principal.instance_id, where, request.after_sequence)
        return _responses(events)


async def _responses(events: AsyncIterator[Event]) -> AsyncIterator[pb.WatchHistoryResponse]:
    async for event in events:
        yield pb.WatchHistoryResponse(event=history_event(event))
