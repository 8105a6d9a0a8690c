from mailgate.gen.buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from mailgate.gen.mailgate.v1 import smtp_test_report_pb2 as _smtp_test_report_pb2
from mailgate.gen.zitadel import option_pb2 as _option_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SmtpPresetAuth(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SMTP_PRESET_AUTH_UNSPECIFIED: _ClassVar[SmtpPresetAuth]
    SMTP_PRESET_AUTH_NONE: _ClassVar[SmtpPresetAuth]
    SMTP_PRESET_AUTH_PLAIN: _ClassVar[SmtpPresetAuth]
    SMTP_PRESET_AUTH_XOAUTH2_CLIENT_CREDENTIALS: _ClassVar[SmtpPresetAuth]
    SMTP_PRESET_AUTH_XOAUTH2_JWT_BEARER: _ClassVar[SmtpPresetAuth]

SMTP_PRESET_AUTH_UNSPECIFIED: SmtpPresetAuth
SMTP_PRESET_AUTH_NONE: SmtpPresetAuth
SMTP_PRESET_AUTH_PLAIN: SmtpPresetAuth
SMTP_PRESET_AUTH_XOAUTH2_CLIENT_CREDENTIALS: SmtpPresetAuth
SMTP_PRESET_AUTH_XOAUTH2_JWT_BEARER: SmtpPresetAuth

class GetConsoleSessionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetConsoleSessionResponse(_message.Message):
    __slots__ = ("instance_id", "permissions", "token_id")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    permissions: _containers.RepeatedScalarFieldContainer[str]
    token_id: str
    def __init__(
        self,
        instance_id: _Optional[str] = ...,
        permissions: _Optional[_Iterable[str]] = ...,
        token_id: _Optional[str] = ...,
    ) -> None: ...

class SmtpPreset(_message.Message):
    __slots__ = (
        "id",
        "name",
        "host",
        "tls",
        "auth",
        "user_hint",
        "fixed_user",
        "password_hint",
        "token_endpoint",
        "scopes",
        "alternative_hosts",
        "note",
    )
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    USER_HINT_FIELD_NUMBER: _ClassVar[int]
    FIXED_USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HINT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVE_HOSTS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    host: str
    tls: bool
    auth: SmtpPresetAuth
    user_hint: str
    fixed_user: str
    password_hint: str
    token_endpoint: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    alternative_hosts: _containers.RepeatedScalarFieldContainer[str]
    note: str
    def __init__(
        self,
        id: _Optional[str] = ...,
        name: _Optional[str] = ...,
        host: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        auth: _Optional[_Union[SmtpPresetAuth, str]] = ...,
        user_hint: _Optional[str] = ...,
        fixed_user: _Optional[str] = ...,
        password_hint: _Optional[str] = ...,
        token_endpoint: _Optional[str] = ...,
        scopes: _Optional[_Iterable[str]] = ...,
        alternative_hosts: _Optional[_Iterable[str]] = ...,
        note: _Optional[str] = ...,
    ) -> None: ...

class ListSmtpPresetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSmtpPresetsResponse(_message.Message):
    __slots__ = ("presets",)
    PRESETS_FIELD_NUMBER: _ClassVar[int]
    presets: _containers.RepeatedCompositeFieldContainer[SmtpPreset]
    def __init__(self, presets: _Optional[_Iterable[_Union[SmtpPreset, _Mapping]]] = ...) -> None: ...

class TestSmtpSettingsRequest(_message.Message):
    __slots__ = (
        "sender_address",
        "sender_name",
        "tls",
        "host",
        "user",
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
    receiver_address: str
    id: str
    none: SmtpTestNoAuth
    plain: SmtpTestPlainAuth
    xoauth2: SmtpTestXOAuth2Auth
    def __init__(
        self,
        sender_address: _Optional[str] = ...,
        sender_name: _Optional[str] = ...,
        tls: _Optional[bool] = ...,
        host: _Optional[str] = ...,
        user: _Optional[str] = ...,
        receiver_address: _Optional[str] = ...,
        id: _Optional[str] = ...,
        none: _Optional[_Union[SmtpTestNoAuth, _Mapping]] = ...,
        plain: _Optional[_Union[SmtpTestPlainAuth, _Mapping]] = ...,
        xoauth2: _Optional[_Union[SmtpTestXOAuth2Auth, _Mapping]] = ...,
    ) -> None: ...

class SmtpTestNoAuth(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SmtpTestPlainAuth(_message.Message):
    __slots__ = ("password",)
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    password: str
    def __init__(self, password: _Optional[str] = ...) -> None: ...

class SmtpTestXOAuth2Auth(_message.Message):
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
    client_credentials: SmtpTestXOAuth2Auth.ClientCredentials
    def __init__(
        self,
        token_endpoint: _Optional[str] = ...,
        scopes: _Optional[_Iterable[str]] = ...,
        client_credentials: _Optional[_Union[SmtpTestXOAuth2Auth.ClientCredentials, _Mapping]] = ...,
    ) -> None: ...

class TestSmtpSettingsResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _smtp_test_report_pb2.SmtpTestReport
    def __init__(
        self, report: _Optional[_Union[_smtp_test_report_pb2.SmtpTestReport, _Mapping]] = ...
    ) -> None: ...

class TestSmtpProviderRequest(_message.Message):
    __slots__ = ("id", "receiver_address")
    ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    id: str
    receiver_address: str
    def __init__(self, id: _Optional[str] = ..., receiver_address: _Optional[str] = ...) -> None: ...

class TestSmtpProviderResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _smtp_test_report_pb2.SmtpTestReport
    def __init__(
        self, report: _Optional[_Union[_smtp_test_report_pb2.SmtpTestReport, _Mapping]] = ...
    ) -> None: ...
