from mailgate.gen.mailgate.ext.v1 import jwt_bearer_pb2 as _jwt_bearer_pb2
from mailgate.gen.zitadel import object_pb2 as _object_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SMTPConfigState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SMTP_CONFIG_STATE_UNSPECIFIED: _ClassVar[SMTPConfigState]
    SMTP_CONFIG_ACTIVE: _ClassVar[SMTPConfigState]
    SMTP_CONFIG_INACTIVE: _ClassVar[SMTPConfigState]

class EmailProviderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EMAIL_PROVIDER_STATE_UNSPECIFIED: _ClassVar[EmailProviderState]
    EMAIL_PROVIDER_ACTIVE: _ClassVar[EmailProviderState]
    EMAIL_PROVIDER_INACTIVE: _ClassVar[EmailProviderState]

SMTP_CONFIG_STATE_UNSPECIFIED: SMTPConfigState
SMTP_CONFIG_ACTIVE: SMTPConfigState
SMTP_CONFIG_INACTIVE: SMTPConfigState
EMAIL_PROVIDER_STATE_UNSPECIFIED: EmailProviderState
EMAIL_PROVIDER_ACTIVE: EmailProviderState
EMAIL_PROVIDER_INACTIVE: EmailProviderState

class SMTPConfig(_message.Message):
    __slots__ = (
        "details",
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
        "reply_to_address",
        "state",
        "description",
        "id",
    )
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    reply_to_address: str
    state: SMTPConfigState
    description: str
    id: str
    def __init__(
        self,
        details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        reply_to_address: _Optional[str] = ...,
        state: _Optional[_Union[SMTPConfigState, str]] = ...,
        description: _Optional[str] = ...,
        id: _Optional[str] = ...,
    ) -> None: ...

class EmailProvider(_message.Message):
    __slots__ = ("details", "id", "state", "description", "smtp", "http")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SMTP_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ObjectDetails
    id: str
    state: EmailProviderState
    description: str
    smtp: EmailProviderSMTP
    http: EmailProviderHTTP
    def __init__(
        self,
        details: _Optional[_Union[_object_pb2.ObjectDetails, _Mapping]] = ...,
        id: _Optional[str] = ...,
        state: _Optional[_Union[EmailProviderState, str]] = ...,
        description: _Optional[str] = ...,
        smtp: _Optional[_Union[EmailProviderSMTP, _Mapping]] = ...,
        http: _Optional[_Union[EmailProviderHTTP, _Mapping]] = ...,
    ) -> None: ...

class EmailProviderSMTP(_message.Message):
    __slots__ = (
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
        "reply_to_address",
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
    NONE_FIELD_NUMBER: _ClassVar[int]
    PLAIN_FIELD_NUMBER: _ClassVar[int]
    XOAUTH2_FIELD_NUMBER: _ClassVar[int]
    sender_address: str
    sender_name: str
    tls: bool
    host: str
    user: str
    reply_to_address: str
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
        none: _Optional[_Union[SMTPNoAuth, _Mapping]] = ...,
        plain: _Optional[_Union[SMTPPlainAuth, _Mapping]] = ...,
        xoauth2: _Optional[_Union[SMTPXOAuth2Auth, _Mapping]] = ...,
    ) -> None: ...

class SMTPNoAuth(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SMTPPlainAuth(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SMTPXOAuth2Auth(_message.Message):
    __slots__ = ("token_endpoint", "scopes", "client_credentials", "jwt_bearer")
    class ClientCredentials(_message.Message):
        __slots__ = ("client_id",)
        CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
        client_id: str
        def __init__(self, client_id: _Optional[str] = ...) -> None: ...

    TOKEN_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    JWT_BEARER_FIELD_NUMBER: _ClassVar[int]
    token_endpoint: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    client_credentials: SMTPXOAuth2Auth.ClientCredentials
    jwt_bearer: _jwt_bearer_pb2.JwtBearerGrant
    def __init__(
        self,
        token_endpoint: _Optional[str] = ...,
        scopes: _Optional[_Iterable[str]] = ...,
        client_credentials: _Optional[_Union[SMTPXOAuth2Auth.ClientCredentials, _Mapping]] = ...,
        jwt_bearer: _Optional[_Union[_jwt_bearer_pb2.JwtBearerGrant, _Mapping]] = ...,
    ) -> None: ...

class EmailProviderHTTP(_message.Message):
    __slots__ = ("endpoint", "signing_key")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    signing_key: str
    def __init__(self, endpoint: _Optional[str] = ..., signing_key: _Optional[str] = ...) -> None: ...
