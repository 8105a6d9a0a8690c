from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class JwtBearerGrant(_message.Message):
    __slots__ = ("client_id", "key_id", "issuer", "subject", "audience", "signing_algorithm")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    SIGNING_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    key_id: str
    issuer: str
    subject: str
    audience: str
    signing_algorithm: str
    def __init__(
        self,
        client_id: _Optional[str] = ...,
        key_id: _Optional[str] = ...,
        issuer: _Optional[str] = ...,
        subject: _Optional[str] = ...,
        audience: _Optional[str] = ...,
        signing_algorithm: _Optional[str] = ...,
    ) -> None: ...
