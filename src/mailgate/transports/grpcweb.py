"""grpc-web (binary and text): 5-byte frames in, a data frame and the 0x80 trailer frame out.

Every gRPC outcome is HTTP 200 with the status in the trailer frame; a request we cannot read is
INVALID_ARGUMENT, one over the size limit RESOURCE_EXHAUSTED. The call itself goes through the
same pipeline as native gRPC.
"""

from __future__ import annotations

import base64
import binascii
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass

from google.rpc import code_pb2, status_pb2

from mailgate.errors import MailgateError
from mailgate.pipeline.methods import STREAM_TRANSPORTS_TEXT, MethodTable
from mailgate.pipeline.runner import Pipeline
from mailgate.transports.metadata import GRPC_WEB, BadTimeout

BINARY = b"application/grpc-web+proto"
TEXT = b"application/grpc-web-text+proto"
# Request content types (parameters stripped) -> answer in text mode?
CONTENT_TYPES = {
    b"application/grpc-web": False,
    b"application/grpc-web+proto": False,
    b"application/grpc-web-text": True,
    b"application/grpc-web-text+proto": True,
}
DATA, COMPRESSED, TRAILER = 0x00, 0x01, 0x80
_HEADER = struct.Struct(">BI")


def percent_encode(message: str) -> str:
    """grpc-message encoding: only bytes outside 0x20-0x7E, and '%', become %XX."""
    raw = message.encode("utf-8", "replace")
    if all(0x20 <= byte <= 0x7E and byte != 0x25 for byte in raw):
        return message
    return "".join(chr(byte) if 0x20 <= byte <= 0x7E and byte != 0x25 else f"%{byte:02X}" for byte in raw)


def decode_text(data: bytes) -> bytes:
    """Base64 of concatenated, separately padded chunks, read in 4-character groups."""
    data = data.strip()
    if len(data) % 4:
        raise ValueError("grpc-web-text body is not a multiple of 4 characters")
    out = bytearray()
    start = 0
    pad = data.find(b"=")
    while pad != -1:
        end = (pad // 4 + 1) * 4  # the end of the group that holds the padding
        out += base64.b64decode(data[start:end], validate=True)
        start = end
        pad = data.find(b"=", start)
    out += base64.b64decode(data[start:], validate=True)
    return bytes(out)


class FrameError(MailgateError):
    """The request body is not one well-formed grpc-web message; `code` says how to answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_message(body: bytes, limit: int) -> bytes:
    """The payload of the one data frame of a unary request (empty body: empty message)."""
    if not body:
        return b""
    if len(body) < _HEADER.size:
        raise FrameError(code_pb2.INVALID_ARGUMENT, "grpc-web frame header is truncated")
    flag, length = _HEADER.unpack_from(body)
    if flag == COMPRESSED:
        raise FrameError(code_pb2.UNIMPLEMENTED, "compressed grpc-web messages are not supported")
    if flag != DATA:
        raise FrameError(code_pb2.INVALID_ARGUMENT, f"unexpected grpc-web frame flag 0x{flag:02x}")
    if length > limit:
        raise FrameError(
            code_pb2.RESOURCE_EXHAUSTED, f"Received message larger than max ({length} vs. {limit})"
        )
    end = _HEADER.size + length
    if len(body) < end:
        raise FrameError(code_pb2.INVALID_ARGUMENT, "grpc-web frame is truncated")
    if len(body) > end:
        raise FrameError(code_pb2.INVALID_ARGUMENT, "a unary call takes exactly one grpc-web message")
    return body[_HEADER.size : end]


def frame(flag: int, payload: bytes) -> bytes:
    return _HEADER.pack(flag, len(payload)) + payload


def trailer_frame(status: status_pb2.Status) -> bytes:
    """The 0x80 frame: grpc-status, grpc-message (percent-encoded), grpc-status-details-bin."""
    lines = f"grpc-status:{status.code}\r\n"
    if status.message:
        lines += f"grpc-message:{percent_encode(status.message)}\r\n"
    if status.details:
        details = base64.b64encode(status.SerializeToString()).rstrip(b"=").decode()
        lines += f"grpc-status-details-bin:{details}\r\n"
    return frame(TRAILER, lines.encode())


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send: always HTTP 200."""

    content_type: bytes
    body: bytes


def reply(status: status_pb2.Status, payload: bytes | None, text: bool) -> Reply:
    """A data frame (on success) then the trailer frame, base64 in text mode."""
    body = trailer_frame(status)
    if payload is not None:
        body = frame(DATA, payload) + body
    if text:
        return Reply(TEXT, base64.b64encode(body))
    return Reply(BINARY, body)


def failure(code: int, message: str, text: bool) -> Reply:
    return reply(status_pb2.Status(code=code, message=message), None, text)


def refuse(pipeline: Pipeline, target: str, code: int, message: str, text: bool, started: float) -> Reply:
    """A call refused before the pipeline ran, as a trailer-only reply; logged in the call log."""
    pipeline.call_log.refused(target, "grpc-web", code, started)
    return failure(code, message, text)


async def call(
    pipeline: Pipeline,
    table: MethodTable,
    path: str,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes,
    text: bool,
    limit: int,
    peer: str = "",
) -> Reply:
    """Decode, run through the pipeline, encode; every problem is a status, never an exception."""
    started = time.perf_counter()
    method = table.get(path)
    if method is None:
        return refuse(pipeline, path, code_pb2.UNIMPLEMENTED, f"Method not found: {path}", text, started)
    if method.streaming:
        return refuse(pipeline, method.name, code_pb2.UNIMPLEMENTED, STREAM_TRANSPORTS_TEXT, text, started)
    incoming = GRPC_WEB.read(headers)
    call_metadata = incoming.metadata
    try:
        timeout = GRPC_WEB.time_left(incoming)
        payload = read_message(decode_text(body) if text else body, limit)
    except FrameError as exc:
        return refuse(pipeline, method.name, exc.code, str(exc), text, started)
    except (BadTimeout, binascii.Error, ValueError) as exc:
        return refuse(pipeline, method.name, code_pb2.INVALID_ARGUMENT, str(exc), text, started)
    result = await method.call_encoded(pipeline, payload, call_metadata, "grpc-web", timeout, peer)
    payload_out = result.response.SerializeToString() if result.response is not None else None
    return reply(result.status, payload_out if result.status.code == 0 else None, text)
