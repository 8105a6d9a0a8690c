"""grpc-web (binary and text): 5-byte frames in, a data frame and the 0x80 trailer frame out.

Every gRPC outcome is HTTP 200 with the status in the trailer frame; a request we cannot read is
INVALID_ARGUMENT, one over the size limit RESOURCE_EXHAUSTED. The call itself goes through the
same pipeline as native gRPC.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from google.rpc import code_pb2, status_pb2

from mailgate.pipeline.methods import MethodTable
from mailgate.pipeline.runner import Pipeline

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

# Headers that describe the HTTP exchange, not the call: never handed to the pipeline as metadata.
_NOT_METADATA = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "accept",
        "accept-encoding",
        "accept-language",
        "connection",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "origin",
        "referer",
        "user-agent",
        "x-grpc-web",
        "x-user-agent",
        "cookie",
        "grpc-timeout",
        "grpc-encoding",
        "grpc-accept-encoding",
        "cache-control",
        "pragma",
        "content-encoding",
    }
)
_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


class BadTimeout(ValueError):
    """A Grpc-Timeout header that is not 1-8 digits and a unit."""


def parse_timeout(value: str) -> float:
    """Grpc-Timeout ("500m", "3S") in seconds."""
    found = _TIMEOUT.fullmatch(value.strip())
    if found is None:
        raise BadTimeout(f"invalid grpc-timeout: {value!r}")
    return int(found[1]) * _TIMEOUT_UNITS[found[2]]


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


class FrameError(Exception):
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


def metadata(
    headers: Iterable[tuple[bytes, bytes]], timeout_header: str = "grpc-timeout", reserved: str = "sec-"
) -> tuple[dict[str, str], str | None]:
    """Call metadata from the request headers (lowercase keys), and the raw `timeout_header` if any.

    Headers of the HTTP exchange and names starting with `reserved` (the protocol's own, e.g.
    Connect's `connect-`) are not metadata. Shared by grpc-web and Connect.
    """
    found: dict[str, str] = {}
    timeout = None
    skip = ("sec-", ":", reserved)
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1")
        if name == timeout_header:
            timeout = raw_value.decode("latin-1")
        elif name not in _NOT_METADATA and not name.endswith("-bin") and not name.startswith(skip):
            found[name] = raw_value.decode("latin-1")
    return found, timeout


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
    method = table.get(path)
    if method is None:
        return failure(code_pb2.UNIMPLEMENTED, f"Method not found: {path}", text)
    call_metadata, raw_timeout = metadata(headers)
    try:
        timeout = parse_timeout(raw_timeout) if raw_timeout is not None else None
        payload = read_message(decode_text(body) if text else body, limit)
    except FrameError as exc:
        return failure(exc.code, str(exc), text)
    except (BadTimeout, binascii.Error, ValueError) as exc:
        return failure(code_pb2.INVALID_ARGUMENT, str(exc), text)
    result = await method.call_encoded(pipeline, payload, call_metadata, "grpc-web", timeout, peer)
    payload_out = result.response.SerializeToString() if result.response is not None else None
    return reply(result.status, payload_out if result.status.code == 0 else None, text)
