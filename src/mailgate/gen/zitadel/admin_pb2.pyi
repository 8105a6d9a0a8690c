import datetime

from mailgate.gen.buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mailgate.gen.zitadel import event_pb2 as _event_pb2
from mailgate.gen.zitadel import object_pb2 as _object_pb2
from mailgate.gen.zitadel import option_pb2 as _option_pb2
from mailgate.gen.zitadel import settings_pb2 as _settings_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetSMTPConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSMTPConfigResponse(_message.Message):
    __slots__ = ("smtp_config",)
    SMTP_CONFIG_FIELD_NUMBER: _ClassVar[int]
    smtp_config: _settings_pb2.SMTPConfig
    def __init__(self, smtp_config: _Optional[_Union[_settings_pb2.SMTPConfig, _Mapping]] = ...) -> None: ...

class GetSMTPConfigByIdRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetSMTPConfigByIdResponse(_message.Message):
    __slots__ = ("smtp_config",)
    SMTP_CONFIG_FIELD_NUMBER: _ClassVar[int]
    smtp_config: _settings_pb2.SMTPConfig
    def __init__(self, smtp_config: _Optional[_Union[_settings_pb2.SMTPConfig, _Mapping]] = ...) -> None: ...

class ListSMTPConfigsRequest(_message.Message):
    __slots__ = ("query",)
    QUERY_FIELD_NUMBER: _ClassVar[int]
    query: _object_pb2.ListQuery
    def __init__(self, query: _Optional[_Union[_object_pb2.ListQuery, _Mapping]] = ...) -> None: ...

class ListSMTPConfigsResponse(_message.Message):
    __slots__ = ("details", "result")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ListDetails
    result: _containers.RepeatedCompositeFieldContainer[_settings_pb2.SMTPConfig]
    def __init__(
        self,
        details: _Optional[_Union[_object_pb2.ListDetails, _Mapping]] = ...,
        result: _Optional[_Iterable[_Union[_settings_pb2.SMTPConfig, _Mapping]]] = ...,
    ) -> None: ...

class AddSMTPConfigRequest(_message.Message):
    __slots__ = (
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
        "password",
        "reply_to_address",
        "description",
    )
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    password: str
    reply_to_address: str
    description: str
    def __init__(
        self,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        password: _Optional[str] = ...,
        reply_to_address: _Optional[str] = ...,
        description: _Optional[str] = ...,
    ) -> None: ...

class AddSMTPConfigResponse(_message.Message):
    __slots__ = ("details", "id")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    id: str
    def __init__(
        self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ..., id: _Optional[str] = ...
    ) -> None: ...

class UpdateSMTPConfigRequest(_message.Message):
    __slots__ = (
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
        "reply_to_address",
        "password",
        "description",
        "id",
    )
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    reply_to_address: str
    password: str
    description: str
    id: str
    def __init__(
        self,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        reply_to_address: _Optional[str] = ...,
        password: _Optional[str] = ...,
        description: _Optional[str] = ...,
        id: _Optional[str] = ...,
    ) -> None: ...

class UpdateSMTPConfigResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class UpdateSMTPConfigPasswordRequest(_message.Message):
    __slots__ = ("password", "id")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    password: str
    id: str
    def __init__(self, password: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class UpdateSMTPConfigPasswordResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class ActivateSMTPConfigRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ActivateSMTPConfigResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class DeactivateSMTPConfigRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeactivateSMTPConfigResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class RemoveSMTPConfigRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RemoveSMTPConfigResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class TestSMTPConfigByIdRequest(_message.Message):
    __slots__ = ("id", "receiver_address")
    ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    id: str
    receiver_address: str
    def __init__(self, id: _Optional[str] = ..., receiver_address: _Optional[str] = ...) -> None: ...

class TestSMTPConfigByIdResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestSMTPConfigRequest(_message.Message):
    __slots__ = ("sender_address", "sender_name", "tls", "host", "user", "password", "receiver_address", "id")
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    password: str
    receiver_address: str
    id: str
    def __init__(
        self,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        password: _Optional[str] = ...,
        receiver_address: _Optional[str] = ...,
        id: _Optional[str] = ...,
    ) -> None: ...

class TestSMTPConfigResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListEmailProvidersRequest(_message.Message):
    __slots__ = ("query",)
    QUERY_FIELD_NUMBER: _ClassVar[int]
    query: _object_pb2.ListQuery
    def __init__(self, query: _Optional[_Union[_object_pb2.ListQuery, _Mapping]] = ...) -> None: ...

class ListEmailProvidersResponse(_message.Message):
    __slots__ = ("details", "result")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ListDetails
    result: _containers.RepeatedCompositeFieldContainer[_settings_pb2.EmailProvider]
    def __init__(
        self,
        details: _Optional[_Union[_object_pb2.ListDetails, _Mapping]] = ...,
        result: _Optional[_Iterable[_Union[_settings_pb2.EmailProvider, _Mapping]]] = ...,
    ) -> None: ...

class GetEmailProviderRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetEmailProviderResponse(_message.Message):
    __slots__ = ("config",)
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    config: _settings_pb2.EmailProvider
    def __init__(self, config: _Optional[_Union[_settings_pb2.EmailProvider, _Mapping]] = ...) -> None: ...

class GetEmailProviderByIdRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetEmailProviderByIdResponse(_message.Message):
    __slots__ = ("config",)
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    config: _settings_pb2.EmailProvider
    def __init__(self, config: _Optional[_Union[_settings_pb2.EmailProvider, _Mapping]] = ...) -> None: ...

class AddEmailProviderSMTPRequest(_message.Message):
    __slots__ = (
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
        "password",
        "reply_to_address",
        "description",
        "none",
        "plain",
        "xoauth2",
    )
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NONE_FIELD_NUMBER: _ClassVar[int]
    PLAIN_FIELD_NUMBER: _ClassVar[int]
    XOAUTH2_FIELD_NUMBER: _ClassVar[int]
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    password: str
    reply_to_address: str
    description: str
    none: SMTPNoAuth
    plain: SMTPPlainAuth
    xoauth2: SMTPXOAuth2Auth
    def __init__(
        self,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        password: _Optional[str] = ...,
        reply_to_address: _Optional[str] = ...,
        description: _Optional[str] = ...,
        none: _Optional[_Union[SMTPNoAuth, _Mapping]] = ...,
        plain: _Optional[_Union[SMTPPlainAuth, _Mapping]] = ...,
        xoauth2: _Optional[_Union[SMTPXOAuth2Auth, _Mapping]] = ...,
    ) -> None: ...

class SMTPNoAuth(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SMTPPlainAuth(_message.Message):
    __slots__ = ("password",)
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    password: str
    def __init__(self, password: _Optional[str] = ...) -> None: ...

class SMTPXOAuth2Auth(_message.Message):
    __slots__ = ("token_endpoint", "scopes", "client_credentials")
    class ClientCredentials(_message.Message):
        __slots__ = ("client_id", "client_secret")
        CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
        CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
        client_id: str
        client_secret: str
        def __init__(self, client_id: _Optional[str] = ..., client_secret: _Optional[str] = ...) -> None: ...

    TOKEN_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    token_endpoint: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    client_credentials: SMTPXOAuth2Auth.ClientCredentials
    def __init__(
        self,
        token_endpoint: _Optional[str] = ...,
        scopes: _Optional[_Iterable[str]] = ...,
        client_credentials: _Optional[_Union[SMTPXOAuth2Auth.ClientCredentials, _Mapping]] = ...,
    ) -> None: ...

class AddEmailProviderSMTPResponse(_message.Message):
    __slots__ = ("details", "id")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    id: str
    def __init__(
        self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ..., id: _Optional[str] = ...
    ) -> None: ...

class UpdateEmailProviderSMTPRequest(_message.Message):
    __slots__ = (
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
        "reply_to_address",
        "password",
        "description",
        "id",
        "none",
        "plain",
        "xoauth2",
    )
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NONE_FIELD_NUMBER: _ClassVar[int]
    PLAIN_FIELD_NUMBER: _ClassVar[int]
    XOAUTH2_FIELD_NUMBER: _ClassVar[int]
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    reply_to_address: str
    password: str
    description: str
    id: str
    none: SMTPNoAuth
    plain: SMTPPlainAuth
    xoauth2: SMTPXOAuth2Auth
    def __init__(
        self,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        reply_to_address: _Optional[str] = ...,
        password: _Optional[str] = ...,
        description: _Optional[str] = ...,
        id: _Optional[str] = ...,
        none: _Optional[_Union[SMTPNoAuth, _Mapping]] = ...,
        plain: _Optional[_Union[SMTPPlainAuth, _Mapping]] = ...,
        xoauth2: _Optional[_Union[SMTPXOAuth2Auth, _Mapping]] = ...,
    ) -> None: ...

class UpdateEmailProviderSMTPResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class UpdateEmailProviderSMTPPasswordRequest(_message.Message):
    __slots__ = ("password", "id")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    password: str
    id: str
    def __init__(self, password: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class UpdateEmailProviderSMTPPasswordResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class AddEmailProviderHTTPRequest(_message.Message):
    __slots__ = ("endpoint", "description")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    description: str
    def __init__(self, endpoint: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class AddEmailProviderHTTPResponse(_message.Message):
    __slots__ = ("details", "id", "signing_key")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    id: str
    signing_key: str
    def __init__(
        self,
        details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...,
        id: _Optional[str] = ...,
        signing_key: _Optional[str] = ...,
    ) -> None: ...

class UpdateEmailProviderHTTPRequest(_message.Message):
    __slots__ = ("id", "endpoint", "description", "expiration_signing_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    endpoint: str
    description: str
    expiration_signing_key: _duration_pb2.Duration
    def __init__(
        self,
        id: _Optional[str] = ...,
        endpoint: _Optional[str] = ...,
        description: _Optional[str] = ...,
        expiration_signing_key: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...,
    ) -> None: ...

class UpdateEmailProviderHTTPResponse(_message.Message):
    __slots__ = ("details", "signing_key")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    signing_key: str
    def __init__(
        self,
        details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...,
        signing_key: _Optional[str] = ...,
    ) -> None: ...

class ActivateEmailProviderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ActivateEmailProviderResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class DeactivateEmailProviderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeactivateEmailProviderResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class RemoveEmailProviderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RemoveEmailProviderResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    def __init__(self, details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...) -> None: ...

class TestEmailProviderSMTPByIdRequest(_message.Message):
    __slots__ = ("id", "receiver_address")
    ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    id: str
    receiver_address: str
    def __init__(self, id: _Optional[str] = ..., receiver_address: _Optional[str] = ...) -> None: ...

class TestEmailProviderSMTPByIdResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestEmailProviderSMTPRequest(_message.Message):
    __slots__ = (
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
        "password",
        "receiver_address",
        "id",
        "none",
        "plain",
        "xoauth2",
    )
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NONE_FIELD_NUMBER: _ClassVar[int]
    PLAIN_FIELD_NUMBER: _ClassVar[int]
    XOAUTH2_FIELD_NUMBER: _ClassVar[int]
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    password: str
    receiver_address: str
    id: str
    none: SMTPNoAuth
    plain: SMTPPlainAuth
    xoauth2: SMTPXOAuth2Auth
    def __init__(
        self,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        password: _Optional[str] = ...,
        receiver_address: _Optional[str] = ...,
        id: _Optional[str] = ...,
        none: _Optional[_Union[SMTPNoAuth, _Mapping]] = ...,
        plain: _Optional[_Union[SMTPPlainAuth, _Mapping]] = ...,
        xoauth2: _Optional[_Union[SMTPXOAuth2Auth, _Mapping]] = ...,
    ) -> None: ...

class TestEmailProviderSMTPResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = (
        "sequence",
        "limit",
        "asc",
        "editor_user_id",
        "event_types",
        "aggregate_id",
        "aggregate_types",
        "resource_owner",
        "creation_date",
        "range",
    )
    class creation_date_range(_message.Message):
        __slots__ = ("since", "until")
        SINCE_FIELD_NUMBER: _ClassVar[int]
        UNTIL_FIELD_NUMBER: _ClassVar[int]
        since: _timestamp_pb2.Timestamp
        until: _timestamp_pb2.Timestamp
        def __init__(
            self,
            since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
            until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        ) -> None: ...

    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ASC_FIELD_NUMBER: _ClassVar[int]
    EDITOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_ID_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_TYPES_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_OWNER_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    limit: int
    asc: bool
    editor_user_id: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    aggregate_id: str
    aggregate_types: _containers.RepeatedScalarFieldContainer[str]
    resource_owner: str
    creation_date: _timestamp_pb2.Timestamp
    range: ListEventsRequest.creation_date_range
    def __init__(
        self,
        sequence: _Optional[int] = ...,
        limit: _Optional[int] = ...,
        asc: _Optional[bool] = ...,
        editor_user_id: _Optional[str] = ...,
        event_types: _Optional[_Iterable[str]] = ...,
        aggregate_id: _Optional[str] = ...,
        aggregate_types: _Optional[_Iterable[str]] = ...,
        resource_owner: _Optional[str] = ...,
        creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...,
        range: _Optional[_Union[ListEventsRequest.creation_date_range, _Mapping]] = ...,
        **kwargs,
    ) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.Event]
    def __init__(self, events: _Optional[_Iterable[_Union[_event_pb2.Event, _Mapping]]] = ...) -> None: ...

class ListEventTypesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListEventTypesResponse(_message.Message):
    __slots__ = ("event_types",)
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    event_types: _containers.RepeatedCompositeFieldContainer[_event_pb2.EventType]
    def __init__(
        self, event_types: _Optional[_Iterable[_Union[_event_pb2.EventType, _Mapping]]] = ...
    ) -> None: ...

class ListAggregateTypesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAggregateTypesResponse(_message.Message):
    __slots__ = ("aggregate_types",)
    AGGREGATE_TYPES_FIELD_NUMBER: _ClassVar[int]
    aggregate_types: _containers.RepeatedCompositeFieldContainer[_event_pb2.AggregateType]
    def __init__(
        self, aggregate_types: _Optional[_Iterable[_Union[_event_pb2.AggregateType, _Mapping]]] = ...
    ) -> None: ...
