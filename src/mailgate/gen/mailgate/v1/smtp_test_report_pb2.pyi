from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SmtpTestStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SMTP_TEST_STAGE_UNSPECIFIED: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_RESOLVE: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_POLICY: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_CONNECT: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_TLS: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_GREETING: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_EHLO: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_STARTTLS: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_AUTH: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_MAIL_FROM: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_RCPT_TO: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_DATA: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_QUIT: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_DEADLINE: _ClassVar[SmtpTestStage]
    SMTP_TEST_STAGE_DONE: _ClassVar[SmtpTestStage]

class SmtpTlsMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SMTP_TLS_MODE_UNSPECIFIED: _ClassVar[SmtpTlsMode]
    SMTP_TLS_MODE_NONE: _ClassVar[SmtpTlsMode]
    SMTP_TLS_MODE_IMPLICIT: _ClassVar[SmtpTlsMode]
    SMTP_TLS_MODE_STARTTLS: _ClassVar[SmtpTlsMode]

SMTP_TEST_STAGE_UNSPECIFIED: SmtpTestStage
SMTP_TEST_STAGE_RESOLVE: SmtpTestStage
SMTP_TEST_STAGE_POLICY: SmtpTestStage
SMTP_TEST_STAGE_CONNECT: SmtpTestStage
SMTP_TEST_STAGE_TLS: SmtpTestStage
SMTP_TEST_STAGE_GREETING: SmtpTestStage
SMTP_TEST_STAGE_EHLO: SmtpTestStage
SMTP_TEST_STAGE_STARTTLS: SmtpTestStage
SMTP_TEST_STAGE_AUTH: SmtpTestStage
SMTP_TEST_STAGE_MAIL_FROM: SmtpTestStage
SMTP_TEST_STAGE_RCPT_TO: SmtpTestStage
SMTP_TEST_STAGE_DATA: SmtpTestStage
SMTP_TEST_STAGE_QUIT: SmtpTestStage
SMTP_TEST_STAGE_DEADLINE: SmtpTestStage
SMTP_TEST_STAGE_DONE: SmtpTestStage
SMTP_TLS_MODE_UNSPECIFIED: SmtpTlsMode
SMTP_TLS_MODE_NONE: SmtpTlsMode
SMTP_TLS_MODE_IMPLICIT: SmtpTlsMode
SMTP_TLS_MODE_STARTTLS: SmtpTlsMode

class SmtpTestReport(_message.Message):
    __slots__ = (
        "stage",
        "reply_code",
        "enhanced_status_code",
        "reply_text",
        "elapsed_ms",
        "transcript",
        "detail",
        "host",
        "address",
        "tls_mode",
        "auth_mechanism",
        "steps",
    )
    STAGE_FIELD_NUMBER: _ClassVar[int]
    REPLY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENHANCED_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    REPLY_TEXT_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TLS_MODE_FIELD_NUMBER: _ClassVar[int]
    AUTH_MECHANISM_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    stage: SmtpTestStage
    reply_code: int
    enhanced_status_code: str
    reply_text: str
    elapsed_ms: int
    transcript: _containers.RepeatedScalarFieldContainer[str]
    detail: str
    host: str
    address: str
    tls_mode: SmtpTlsMode
    auth_mechanism: str
    steps: _containers.RepeatedCompositeFieldContainer[SmtpTestStep]
    def __init__(
        self,
        stage: _Optional[_Union[SmtpTestStage, str]] = ...,
        reply_code: _Optional[int] = ...,
        enhanced_status_code: _Optional[str] = ...,
        reply_text: _Optional[str] = ...,
        elapsed_ms: _Optional[int] = ...,
        transcript: _Optional[_Iterable[str]] = ...,
        detail: _Optional[str] = ...,
        host: _Optional[str] = ...,
        address: _Optional[str] = ...,
        tls_mode: _Optional[_Union[SmtpTlsMode, str]] = ...,
        auth_mechanism: _Optional[str] = ...,
        steps: _Optional[_Iterable[_Union[SmtpTestStep, _Mapping]]] = ...,
    ) -> None: ...

class SmtpTestStep(_message.Message):
    __slots__ = ("stage", "started_ms", "duration_ms", "reply_code", "enhanced_status_code", "reply_text")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STARTED_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    REPLY_CODE_FIELD_NUMBER: _ClassVar[int]
    ENHANCED_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    REPLY_TEXT_FIELD_NUMBER: _ClassVar[int]
    stage: SmtpTestStage
    started_ms: int
    duration_ms: int
    reply_code: int
    enhanced_status_code: str
    reply_text: str
    def __init__(
        self,
        stage: _Optional[_Union[SmtpTestStage, str]] = ...,
        started_ms: _Optional[int] = ...,
        duration_ms: _Optional[int] = ...,
        reply_code: _Optional[int] = ...,
        enhanced_status_code: _Optional[str] = ...,
        reply_text: _Optional[str] = ...,
    ) -> None: ...
