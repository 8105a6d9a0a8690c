import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mailgate.gen.zitadel import message_pb2 as _message_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Event(_message.Message):
    __slots__ = ("editor", "aggregate", "sequence", "creation_date", "payload", "type")
    EDITOR_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    editor: Editor
    aggregate: Aggregate
    sequence: int
    creation_date: _timestamp_pb2.Timestamp
    payload: _struct_pb2.Struct
    type: EventType
    def __init__(
        self,
        editor: _Optional[_Union[Editor, _Mapping]] = ...,
        aggregate: _Optional[_Union[Aggregate, _Mapping]] = ...,
        sequence: _Optional[int] = ...,
        creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...,
        type: _Optional[_Union[EventType, _Mapping]] = ...,
    ) -> None: ...

class Editor(_message.Message):
    __slots__ = ("user_id", "display_name", "service")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    display_name: str
    service: str
    def __init__(
        self, user_id: _Optional[str] = ..., display_name: _Optional[str] = ..., service: _Optional[str] = ...
    ) -> None: ...

class Aggregate(_message.Message):
    __slots__ = ("id", "type", "resource_owner")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_OWNER_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: AggregateType
    resource_owner: str
    def __init__(
        self,
        id: _Optional[str] = ...,
        type: _Optional[_Union[AggregateType, _Mapping]] = ...,
        resource_owner: _Optional[str] = ...,
    ) -> None: ...

class EventType(_message.Message):
    __slots__ = ("type", "localized")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LOCALIZED_FIELD_NUMBER: _ClassVar[int]
    type: str
    localized: _message_pb2.LocalizedMessage
    def __init__(
        self,
        type: _Optional[str] = ...,
        localized: _Optional[_Union[_message_pb2.LocalizedMessage, _Mapping]] = ...,
    ) -> None: ...

class AggregateType(_message.Message):
    __slots__ = ("type", "localized")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LOCALIZED_FIELD_NUMBER: _ClassVar[int]
    type: str
    localized: _message_pb2.LocalizedMessage
    def __init__(
        self,
        type: _Optional[str] = ...,
        localized: _Optional[_Union[_message_pb2.LocalizedMessage, _Mapping]] = ...,
    ) -> None: ...
