"""ZITADEL's event API over mailgate's history: ListEvents, ListEventTypes, ListAggregateTypes."""

from __future__ import annotations

from datetime import UTC

from google.protobuf import struct_pb2, timestamp_pb2

from mailgate.api.zitadel.convert import timestamp
from mailgate.errors import FieldViolation, InvalidArgument
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import event_pb2, message_pb2
from mailgate.history import events as ev
from mailgate.history.events import Event
from mailgate.history.names import AGGREGATE_NAMES, TYPE_NAMES
from mailgate.history.query import HistoryFilter, HistoryRange
from mailgate.history.service import HistoryLog
from mailgate.pipeline.runner import CallContext
from mailgate.store.clock import to_us

# ZITADEL leaves the limit to the server; mailgate never reads more than this in one call.
MAX_LIMIT = 1000
UNKNOWN_TYPE_ID = "MG-EVENT-TYPE"


def _event_type(name: str) -> event_pb2.EventType:
    key = message_pb2.LocalizedMessage(key=f"EventTypes.{name}", localized_message=TYPE_NAMES[name])
    return event_pb2.EventType(type=name, localized=key)


def _aggregate_type(name: str) -> event_pb2.AggregateType:
    key = message_pb2.LocalizedMessage(key=f"AggregateTypes.{name}", localized_message=AGGREGATE_NAMES[name])
    return event_pb2.AggregateType(type=name, localized=key)


def event_message(event: Event) -> event_pb2.Event:
    """A history event as ZITADEL's Event: the editor is the token, the aggregate the instance."""
    payload = struct_pb2.Struct()
    payload.update(event.payload)
    return event_pb2.Event(
        editor=event_pb2.Editor(
            user_id=event.actor.token_id,
            display_name=event.actor.token_description,
            service=event.actor.transport,
        ),
        aggregate=event_pb2.Aggregate(
            id=event.instance_id,
            type=_aggregate_type(ev.AGGREGATE_TYPE),
            resource_owner=event.instance_id,
        ),
        sequence=event.sequence,
        creation_date=timestamp(event.at),
        payload=payload,
        type=_event_type(event.type),
    )


def _unknown_types(names: list[str]) -> InvalidArgument | None:
    unknown = [(i, name) for i, name in enumerate(names) if name not in TYPE_NAMES]
    if not unknown:
        return None
    violations = [
        FieldViolation(field=f"event_types[{i}]", description=f"unknown event type {name!r}")
        for i, name in unknown
    ]
    return InvalidArgument(
        UNKNOWN_TYPE_ID, f"Invalid argument: unknown event type {unknown[0][1]!r}", violations
    )


def _span(request: pb.ListEventsRequest) -> HistoryRange:
    limit = min(request.limit or MAX_LIMIT, MAX_LIMIT)
    if request.asc:
        return HistoryRange(limit, True, after=request.sequence)
    return HistoryRange(limit, False, before=request.sequence or None)


def _us(moment: timestamp_pb2.Timestamp) -> int:
    return to_us(moment.ToDatetime(tzinfo=UTC))


def _times(request: pb.ListEventsRequest) -> tuple[int | None, int | None]:
    """[since, until) in microseconds from `range`, `from` or the deprecated `creation_date`;
    `from` bounds the side the list runs towards (after it with asc, up to it without)."""
    match request.WhichOneof("creation_date_filter"):
        case "range":
            window = request.range
            since = _us(window.since) if window.HasField("since") else None
            until = _us(window.until) if window.HasField("until") else None
            return since, until
        case "from":
            moment = _us(getattr(request, "from"))
        case _ if request.HasField("creation_date"):
            moment = _us(request.creation_date)
        case _:
            return None, None
    return (moment, None) if request.asc else (None, moment + 1)


class EventsApi:
    """The three RPCs, each on the caller's instance only."""

    def __init__(self, history: HistoryLog) -> None:
        self._history = history

    async def list_events(self, request: pb.ListEventsRequest, ctx: CallContext) -> pb.ListEventsResponse:
        refused = _unknown_types(list(request.event_types))
        if refused is not None:
            raise refused
        instance = ctx.principal.instance_id
        foreign = (
            request.aggregate_id not in ("", instance)
            or request.resource_owner not in ("", instance)
            or (request.aggregate_types and ev.AGGREGATE_TYPE not in request.aggregate_types)
        )
        if foreign:  # another instance's events, or an aggregate mailgate has none of
            return pb.ListEventsResponse()
        since, until = _times(request)
        where = HistoryFilter(
            types=tuple(request.event_types),
            actor_token_id=request.editor_user_id,
            since_us=since,
            until_us=until,
        )
        events = await self._history.window(instance, where, _span(request))
        return pb.ListEventsResponse(events=[event_message(event) for event in events])

    async def list_event_types(
        self, request: pb.ListEventTypesRequest, ctx: CallContext
    ) -> pb.ListEventTypesResponse:
        return pb.ListEventTypesResponse(event_types=[_event_type(name) for name in ev.TYPES])

    async def list_aggregate_types(
        self, request: pb.ListAggregateTypesRequest, ctx: CallContext
    ) -> pb.ListAggregateTypesResponse:
        return pb.ListAggregateTypesResponse(aggregate_types=[_aggregate_type(ev.AGGREGATE_TYPE)])
