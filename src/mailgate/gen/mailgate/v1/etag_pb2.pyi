from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EtagMismatch(_message.Message):
    __slots__ = ("current_etag",)
    CURRENT_ETAG_FIELD_NUMBER: _ClassVar[int]
    current_etag: str
    def __init__(self, current_etag: _Optional[str] = ...) -> None: ...
