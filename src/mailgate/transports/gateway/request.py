"""A matched route's request message, in grpc-gateway's order: body, then path values, then the query."""

from __future__ import annotations

from google.protobuf.message import Message

from mailgate.transports.gateway.marshal import TranscodeError, merge_json
from mailgate.transports.gateway.query import apply_query, set_path_value
from mailgate.transports.gateway.routes import Match


def decode_request(match: Match, query: bytes, body: bytes) -> Message:
    """Body first (`body: "*"` routes), then path values overwrite, then the query string fills the rest."""
    route = match.route
    message = route.spec.request_type()
    if route.body and body.strip():  # an empty body is an empty message, as io.EOF is for grpc-gateway
        merge_json(message, body)
    for path, value in match.params.items():
        try:
            set_path_value(message, path, value)
        except TranscodeError as exc:
            raise TranscodeError(f"type mismatch, parameter: {path}, error: {exc}") from None
    if not route.body and query:  # with `body: "*"` the query string is not read at all
        apply_query(message, query, route.reserved)
    return message
