"""The Connect protocol, unary: `POST /<package.Service>/<Method>` with a bare JSON or binary message.

Answers follow the Connect protocol reference (connectrpc.com/docs/protocol) and connect-go where it
leaves a choice. Success is 200 with the response in the request's codec; an error is Connect's JSON
(`code` by lowercase name, `message`, `details` as `{type, value, debug}`) under the HTTP status of
its code, the table grpc-gateway uses. JSON is read as the gateway reads it (proto or JSON names,
unknown fields ignored) and every call goes through the same pipeline as the other transports.

Not served, with the answer the protocol asks for: request compression (`unimplemented`), streaming
and other content types (415), and GET, which is only for NO_SIDE_EFFECTS methods and ZITADEL marks
none (405).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf import any_pb2, json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, status_pb2

from mailgate.errors import MailgateError
from mailgate.pipeline.methods import STREAM_TRANSPORTS_TEXT, Method, MethodTable
from mailgate.pipeline.runner import Pipeline
from mailgate.transports.gateway.httpstatus import http_status
from mailgate.transports.gateway.marshal import TranscodeError, dumps, merge_json, message_json
from mailgate.transports.metadata import CONNECT, BadTimeout

JSON = b"application/json"
PROTO = b"application/proto"
TEXT = b"text/plain; charset=utf-8"
PROTOCOL_VERSION = b"1"
# Every content type a POST to a method path is served with: Connect's and grpc-web's.
ACCEPT_POST = (
    b"application/json, application/proto, application/grpc-web+proto, application/grpc-web-text+proto"
)
# Connect's unary content types, in the spellings connect-es accepts.
_UNARY = re.compile(rb"application/(?:json(?:; ?charset=utf-?8)?|proto)", re.IGNORECASE)
# Connect's code names: the gRPC names in lowercase, except that Connect spells "canceled".
CODE_NAMES = {
    number: "canceled" if number == code_pb2.CANCELLED else code_pb2.Code.Name(number).lower()
    for number in code_pb2.Code.values()
    if number != code_pb2.OK
}

ReadBody = Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Reply:
    """One complete HTTP response."""

    status: int
    content_type: bytes
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


class BadRequest(MailgateError, ValueError):
    """The request cannot become a call: answered `invalid_argument` with this text."""


def error_json(status: status_pb2.Status) -> bytes:
    """A google.rpc.Status as Connect's error JSON, each detail as {type, value, debug}."""
    error: dict[str, Any] = {"code": CODE_NAMES.get(status.code, "unknown")}
    if status.message:
        error["message"] = status.message
    if status.details:
        error["details"] = [_detail(packed) for packed in status.details]
    return dumps(error)


def _detail(packed: any_pb2.Any) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "type": packed.TypeName(),
        "value": base64.b64encode(packed.value).rstrip(b"=").decode("ascii"),
    }
    try:
        debug = json_format.MessageToDict(packed)
    except (TypeError, KeyError, json_format.Error):
        return detail  # a type this process cannot resolve: the bytes alone still carry it
    debug.pop("@type", None)
    detail["debug"] = debug
    return detail


def failure(
    code: int, message: str, http: int | None = None, headers: Iterable[tuple[bytes, bytes]] = ()
) -> Reply:
    """A detail-less error; `http` overrides the status mapped from `code`."""
    body = error_json(status_pb2.Status(code=code, message=message))
    return Reply(http or http_status(code), JSON, body, tuple(headers))


class ConnectEndpoint:
    """Unary Connect calls to the pipeline's methods, on the same paths grpc-web uses."""

    def __init__(self, pipeline: Pipeline, table: MethodTable) -> None:
        self.pipeline = pipeline
        self.table = table
        self._services = frozenset(path.rpartition("/")[0] for path in table)

    def serves(self, path: str) -> bool:
        """Whether `path` is `/<service>/<anything>` for a service we serve."""
        return path.rpartition("/")[0] in self._services

    async def call(
        self,
        http_method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        read_body: ReadBody,
        peer: str = "",
    ) -> Reply:
        """Check the exchange, then read, decode, run through the pipeline and encode.

        The body is read only once the method, content type and protocol headers are acceptable;
        `read_body`'s own exceptions (size limit, client gone) propagate to the caller.
        """
        started = time.perf_counter()
        method = self.table.get(path)
        if method is None:
            # No such procedure: 404, the status Connect clients read as `unimplemented`.
            reply = failure(code_pb2.UNIMPLEMENTED, f"method not found: {path}", http=404)
            return self.refuse(path, code_pb2.UNIMPLEMENTED, reply, started)
        if method.streaming:
            reply = failure(code_pb2.UNIMPLEMENTED, STREAM_TRANSPORTS_TEXT)
            return self.refuse(method.name, code_pb2.UNIMPLEMENTED, reply, started)
        exchange = _exchange_headers(headers)
        refusal = _refusal(http_method, exchange)
        if refusal is not None:
            return self.refuse(method.name, *refusal, started)
        binary = not exchange[b"content-type"].lower().startswith(JSON)
        incoming = CONNECT.read(headers)
        call_metadata = incoming.metadata
        try:
            timeout = CONNECT.time_left(incoming)
            request = decode(method, await read_body(), binary)
        except (BadRequest, BadTimeout) as exc:
            reply = failure(code_pb2.INVALID_ARGUMENT, str(exc))
            return self.refuse(method.name, code_pb2.INVALID_ARGUMENT, reply, started)
        result = await method.call(self.pipeline, request, call_metadata, "connect", timeout, peer)
        if result.status.code != code_pb2.OK or result.response is None:
            return Reply(http_status(result.status.code), JSON, error_json(result.status))
        if binary:
            return Reply(200, PROTO, result.response.SerializeToString())
        return Reply(200, JSON, message_json(result.response))

    def refuse(self, target: str, code: int, reply: Reply, started: float) -> Reply:
        """`reply`, an answer before the pipeline ran, once the call log has recorded it with `code`."""
        self.pipeline.call_log.refused(target, "connect", code, started)
        return reply


def decode(method: Method, body: bytes, binary: bool) -> Message:
    """The request message from a bare binary or JSON body."""
    request = method.request_type()
    if binary:
        try:
            request.ParseFromString(body)
        except DecodeError:
            raise BadRequest("the request message cannot be parsed") from None
        return request
    if not body.strip():
        # As connect-go: an empty body is not a JSON object (an empty message is `{}`).
        raise BadRequest("the JSON request body is empty; an empty message is {}")
    try:
        merge_json(request, body)
    except TranscodeError as exc:
        raise BadRequest(str(exc)) from None
    return request


def _exchange_headers(headers: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    wanted = (b"content-type", b"content-encoding", b"connect-protocol-version")
    return {name: value.strip() for name, value in headers if name in wanted}


def _refusal(http_method: str, exchange: dict[bytes, bytes]) -> tuple[int, Reply] | None:
    """The answer to an HTTP method, content type, protocol version or compression we do not serve,
    with the gRPC code the call log records for it."""
    if http_method != "POST":
        allow = ((b"allow", b"POST"),)
        return code_pb2.UNIMPLEMENTED, Reply(405, TEXT, b"Connect unary calls use POST\n", allow)
    content_type = exchange.get(b"content-type", b"")
    if not _UNARY.fullmatch(content_type):
        text = f"content type {content_type.decode('latin-1')!r} is not served here\n"
        return code_pb2.UNIMPLEMENTED, Reply(415, TEXT, text.encode(), ((b"accept-post", ACCEPT_POST),))
    version = exchange.get(b"connect-protocol-version")
    if version is not None and version != PROTOCOL_VERSION:
        found = version.decode("latin-1")
        message = f'connect-protocol-version must be "1": got {found!r}'
        return code_pb2.INVALID_ARGUMENT, failure(code_pb2.INVALID_ARGUMENT, message)
    encoding = exchange.get(b"content-encoding", b"identity").lower()
    if encoding != b"identity":
        message = f"unknown compression {encoding.decode('latin-1')!r}: supported encodings are identity"
        headers = ((b"accept-encoding", b"identity"),)
        return code_pb2.UNIMPLEMENTED, failure(code_pb2.UNIMPLEMENTED, message, headers=headers)
    return None
