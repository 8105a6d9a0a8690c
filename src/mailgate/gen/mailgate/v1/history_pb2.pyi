import datetime

from mailgate.gen.buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mailgate.gen.zitadel import option_pb2 as _option_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HistoryEvent(_message.Message):
    __slots__ = (
        "sequence",
        "type",
        "create_time",
        "instance_id",
        "provider_id",
        "actor",
        "payload",
        "changes",
        "secret_changed",
        "secrets",
        "prev_hash",
        "hash",
    )
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    SECRET_CHANGED_FIELD_NUMBER: _ClassVar[int]
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    type: str
    create_time: _timestamp_pb2.Timestamp
    instance_id: str
    provider_id: str
    actor: Actor
    payload: _struct_pb2.Struct
    changes: _containers.RepeatedCompositeFieldContainer[FieldChange]
    secret_changed: bool
    secrets: _containers.RepeatedCompositeFieldContainer[SecretChange]
    prev_hash: str
    hash: str
    def __init__(
        self,
        sequence: _Optional[int] = ...,
        type: _Optional[str] = ...,
        create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        instance_id: _Optional[str] = ...,
        provider_id: _Optional[str] = ...,
        actor: _Optional[_Union[Actor, _Mapping]] = ...,
        payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...,
        changes: _Optional[_Iterable[_Union[FieldChange, _Mapping]]] = ...,
        secret_changed: _Optional[bool] = ...,
        secrets: _Optional[_Iterable[_Union[SecretChange, _Mapping]]] = ...,
        prev_hash: _Optional[str] = ...,
        hash: _Optional[str] = ...,
    ) -> None: ...

class Actor(_message.Message):
    __slots__ = ("token_id", "token_description", "transport", "client_address", "request_id")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    token_description: str
    transport: str
    client_address: str
    request_id: str
    def __init__(
        self,
        token_id: _Optional[str] = ...,
        token_description: _Optional[str] = ...,
        transport: _Optional[str] = ...,
        client_address: _Optional[str] = ...,
        request_id: _Optional[str] = ...,
    ) -> None: ...

class FieldChange(_message.Message):
    __slots__ = ("field", "old_value", "new_value")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    OLD_VALUE_FIELD_NUMBER: _ClassVar[int]
    NEW_VALUE_FIELD_NUMBER: _ClassVar[int]
    field: str
    old_value: _struct_pb2.Value
    new_value: _struct_pb2.Value
    def __init__(
        self,
        field: _Optional[str] = ...,
        old_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...,
        new_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...,
    ) -> None: ...

class SecretChange(_message.Message):
    __slots__ = ("field", "fingerprint")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    field: str
    fingerprint: str
    def __init__(self, field: _Optional[str] = ..., fingerprint: _Optional[str] = ...) -> None: ...

class ListHistoryRequest(_message.Message):
    __slots__ = (
        "page_size",
        "page_token",
        "provider_id",
        "type_prefix",
        "actor_token_id",
        "create_time_start",
        "create_time_end",
    )
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    ACTOR_TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_START_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_END_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    provider_id: str
    type_prefix: str
    actor_token_id: str
    create_time_start: _timestamp_pb2.Timestamp
    create_time_end: _timestamp_pb2.Timestamp
    def __init__(
        self,
        page_size: _Optional[int] = ...,
        page_token: _Optional[str] = ...,
        provider_id: _Optional[str] = ...,
        type_prefix: _Optional[str] = ...,
        actor_token_id: _Optional[str] = ...,
        create_time_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        create_time_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
    ) -> None: ...

class ListHistoryResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[HistoryEvent]
    next_page_token: str
    def __init__(
        self,
        events: _Optional[_Iterable[_Union[HistoryEvent, _Mapping]]] = ...,
        next_page_token: _Optional[str] = ...,
    ) -> None: ...

class WatchHistoryRequest(_message.Message):
    __slots__ = ("after_sequence", "provider_id", "type_prefix")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    provider_id: str
    type_prefix: str
    def __init__(
        self,
        after_sequence: _Optional[int] = ...,
        provider_id: _Optional[str] = ...,
        type_prefix: _Optional[str] = ...,
    ) -> None: ...

class WatchHistoryResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: HistoryEvent
    def __init__(self, event: _Optional[_Union[HistoryEvent, _Mapping]] = ...) -> None: ...
