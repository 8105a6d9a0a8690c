import datetime

from mailgate.gen.buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as _smtp_test_report_pb2
from mailgate.gen.zitadel import option_pb2 as _option_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_STATE_UNSPECIFIED: _ClassVar[MessageState]
    MESSAGE_STATE_QUEUED: _ClassVar[MessageState]
    MESSAGE_STATE_SENDING: _ClassVar[MessageState]
    MESSAGE_STATE_DEFERRED: _ClassVar[MessageState]
    MESSAGE_STATE_SENT: _ClassVar[MessageState]
    MESSAGE_STATE_FAILED: _ClassVar[MessageState]
    MESSAGE_STATE_EXPIRED: _ClassVar[MessageState]
    MESSAGE_STATE_CANCELED: _ClassVar[MessageState]

class ReplyClass(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLY_CLASS_UNSPECIFIED: _ClassVar[ReplyClass]
    REPLY_CLASS_DELIVERED: _ClassVar[ReplyClass]
    REPLY_CLASS_PERMANENT: _ClassVar[ReplyClass]
    REPLY_CLASS_PROVIDER_FAULT: _ClassVar[ReplyClass]
    REPLY_CLASS_TRANSIENT: _ClassVar[ReplyClass]

MESSAGE_STATE_UNSPECIFIED: MessageState
MESSAGE_STATE_QUEUED: MessageState
MESSAGE_STATE_SENDING: MessageState
MESSAGE_STATE_DEFERRED: MessageState
MESSAGE_STATE_SENT: MessageState
MESSAGE_STATE_FAILED: MessageState
MESSAGE_STATE_EXPIRED: MessageState
MESSAGE_STATE_CANCELED: MessageState
REPLY_CLASS_UNSPECIFIED: ReplyClass
REPLY_CLASS_DELIVERED: ReplyClass
REPLY_CLASS_PERMANENT: ReplyClass
REPLY_CLASS_PROVIDER_FAULT: ReplyClass
REPLY_CLASS_TRANSIENT: ReplyClass

class EmailHeader(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class SendEmailRequest(_message.Message):
    __slots__ = (
        "to",
        "subject",
        "text_body",
        "html_body",
        "reply_to",
        "headers",
        "category",
        "idempotency_key",
        "expires_after",
        "max_attempts",
    )
    TO_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AFTER_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    to: _containers.RepeatedScalarFieldContainer[str]
    subject: str
    text_body: str
    html_body: str
    reply_to: str
    headers: _containers.RepeatedCompositeFieldContainer[EmailHeader]
    category: str
    idempotency_key: str
    expires_after: _duration_pb2.Duration
    max_attempts: int
    def __init__(
        self,
        to: _Optional[_Iterable[str]] = ...,
        subject: _Optional[str] = ...,
        text_body: _Optional[str] = ...,
        html_body: _Optional[str] = ...,
        reply_to: _Optional[str] = ...,
        headers: _Optional[_Iterable[_Union[EmailHeader, _Mapping]]] = ...,
        category: _Optional[str] = ...,
        idempotency_key: _Optional[str] = ...,
        expires_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...,
        max_attempts: _Optional[int] = ...,
    ) -> None: ...

class SendEmailResponse(_message.Message):
    __slots__ = ("message", "replayed")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    message: Message
    replayed: bool
    def __init__(
        self, message: _Optional[_Union[Message, _Mapping]] = ..., replayed: _Optional[bool] = ...
    ) -> None: ...

class Message(_message.Message):
    __slots__ = (
        "id",
        "state",
        "to",
        "subject",
        "reply_to",
        "headers",
        "category",
        "internet_message_id",
        "idempotency_key",
        "sender_token_id",
        "create_time",
        "update_time",
        "expire_time",
        "next_attempt_time",
        "send_time",
        "attempt_count",
        "max_attempts",
        "provider_id",
        "last_attempt",
        "attempts",
    )
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    INTERNET_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SENDER_TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: MessageState
    to: _containers.RepeatedScalarFieldContainer[str]
    subject: str
    reply_to: str
    headers: _containers.RepeatedCompositeFieldContainer[EmailHeader]
    category: str
    internet_message_id: str
    idempotency_key: str
    sender_token_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    next_attempt_time: _timestamp_pb2.Timestamp
    send_time: _timestamp_pb2.Timestamp
    attempt_count: int
    max_attempts: int
    provider_id: str
    last_attempt: DeliveryAttempt
    attempts: _containers.RepeatedCompositeFieldContainer[DeliveryAttempt]
    def __init__(
        self,
        id: _Optional[str] = ...,
        state: _Optional[_Union[MessageState, str]] = ...,
        to: _Optional[_Iterable[str]] = ...,
        subject: _Optional[str] = ...,
        reply_to: _Optional[str] = ...,
        headers: _Optional[_Iterable[_Union[EmailHeader, _Mapping]]] = ...,
        category: _Optional[str] = ...,
        internet_message_id: _Optional[str] = ...,
        idempotency_key: _Optional[str] = ...,
        sender_token_id: _Optional[str] = ...,
        create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        send_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        attempt_count: _Optional[int] = ...,
        max_attempts: _Optional[int] = ...,
        provider_id: _Optional[str] = ...,
        last_attempt: _Optional[_Union[DeliveryAttempt, _Mapping]] = ...,
        attempts: _Optional[_Iterable[_Union[DeliveryAttempt, _Mapping]]] = ...,
    ) -> None: ...

class DeliveryAttempt(_message.Message):
    __slots__ = (
        "number",
        "start_time",
        "provider_id",
        "reply_class",
        "stage",
        "reply_code",
        "enhanced_status_code",
        "reply_text",
        "detail",
        "duration_ms",
        "steps",
    )
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_CLASS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    REPLY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENHANCED_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    REPLY_TEXT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    number: int
    start_time: _timestamp_pb2.Timestamp
    provider_id: str
    reply_class: ReplyClass
    stage: _smtp_test_report_pb2.SmtpTestStage
    reply_code: int
    enhanced_status_code: str
    reply_text: str
    detail: str
    duration_ms: int
    steps: _containers.RepeatedCompositeFieldContainer[_smtp_test_report_pb2.SmtpTestStep]
    def __init__(
        self,
        number: _Optional[int] = ...,
        start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        provider_id: _Optional[str] = ...,
        reply_class: _Optional[_Union[ReplyClass, str]] = ...,
        stage: _Optional[_Union[_smtp_test_report_pb2.SmtpTestStage, str]] = ...,
        reply_code: _Optional[int] = ...,
        enhanced_status_code: _Optional[str] = ...,
        reply_text: _Optional[str] = ...,
        detail: _Optional[str] = ...,
        duration_ms: _Optional[int] = ...,
        steps: _Optional[_Iterable[_Union[_smtp_test_report_pb2.SmtpTestStep, _Mapping]]] = ...,
    ) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: Message
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ...) -> None: ...

class ListMessagesRequest(_message.Message):
    __slots__ = (
        "page_size",
        "page_token",
        "states",
        "recipient",
        "category",
        "provider_id",
        "create_time_start",
        "create_time_end",
    )
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_START_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_END_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    states: _containers.RepeatedScalarFieldContainer[MessageState]
    recipient: str
    category: str
    provider_id: str
    create_time_start: _timestamp_pb2.Timestamp
    create_time_end: _timestamp_pb2.Timestamp
    def __init__(
        self,
        page_size: _Optional[int] = ...,
        page_token: _Optional[str] = ...,
        states: _Optional[_Iterable[_Union[MessageState, str]]] = ...,
        recipient: _Optional[str] = ...,
        category: _Optional[str] = ...,
        provider_id: _Optional[str] = ...,
        create_time_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        create_time_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
    ) -> None: ...

class ListMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    next_page_token: str
    def __init__(
        self,
        messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ...,
        next_page_token: _Optional[str] = ...,
    ) -> None: ...

class CancelMessageRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: Message
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ...) -> None: ...

class RetryMessageRequest(_message.Message):
    __slots__ = ("id", "expires_after", "max_attempts")
    ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AFTER_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    expires_after: _duration_pb2.Duration
    max_attempts: int
    def __init__(
        self,
        id: _Optional[str] = ...,
        expires_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...,
        max_attempts: _Optional[int] = ...,
    ) -> None: ...

class RetryMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: Message
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ...) -> None: ...

class GetDeliveryFallbacksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDeliveryFallbacksResponse(_message.Message):
    __slots__ = ("provider_ids",)
    PROVIDER_IDS_FIELD_NUMBER: _ClassVar[int]
    provider_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, provider_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SetDeliveryFallbacksRequest(_message.Message):
    __slots__ = ("provider_ids",)
    PROVIDER_IDS_FIELD_NUMBER: _ClassVar[int]
    provider_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, provider_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SetDeliveryFallbacksResponse(_message.Message):
    __slots__ = ("provider_ids",)
    PROVIDER_IDS_FIELD_NUMBER: _ClassVar[int]
    provider_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, provider_ids: _Optional[_Iterable[str]] = ...) -> None: ...
