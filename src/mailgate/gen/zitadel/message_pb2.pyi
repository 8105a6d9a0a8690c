from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorDetail(_message.Message):
    __slots__ = ("id", "message")
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    message: str
    def __init__(self, id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class LocalizedMessage(_message.Message):
    __slots__ = ("key", "localized_message")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LOCALIZED_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    key: str
    localized_message: str
    def __init__(self, key: _Optional[str] = ..., localized_message: _Optional[str] = ...) -> None: ...
