"""The HTTP status of each gRPC code: grpc-gateway's `runtime.HTTPStatusFromCode`, which Connect shares."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from google.rpc import code_pb2, status_pb2

from mailgate.gen.mailgate.v1 import etag_pb2

HTTP_STATUS_BY_CODE: Mapping[int, int] = MappingProxyType(
    {
        code_pb2.OK: 200,
        code_pb2.CANCELLED: 499,
        code_pb2.UNKNOWN: 500,
        code_pb2.INVALID_ARGUMENT: 400,
        code_pb2.DEADLINE_EXCEEDED: 504,
        code_pb2.NOT_FOUND: 404,
        code_pb2.ALREADY_EXISTS: 409,
        code_pb2.PERMISSION_DENIED: 403,
        code_pb2.RESOURCE_EXHAUSTED: 429,
        code_pb2.FAILED_PRECONDITION: 400,  # deliberately not 412, as grpc-gateway
        code_pb2.ABORTED: 409,
        code_pb2.OUT_OF_RANGE: 400,
        code_pb2.UNIMPLEMENTED: 501,
        code_pb2.INTERNAL: 500,
        code_pb2.UNAVAILABLE: 503,
        code_pb2.DATA_LOSS: 500,
        code_pb2.UNAUTHENTICATED: 401,
    }
)
UNKNOWN_CODE_STATUS = 500


# The metadata a JSON request's If-Match arrives as (the header; Grpc-Metadata-If-Match).
IF_MATCH_KEYS = ("grpcgateway-if-match", "if-match")


def stale_etag(status: status_pb2.Status, metadata: Mapping[str, str]) -> str | None:
    """The current etag of a write refused for its If-Match (ABORTED with mailgate.v1.EtagMismatch,
    and the request carried If-Match), answered 412 Precondition Failed on HTTP (RFC 7232 3.1); None
    for any other status. A body etag's mismatch (mailgate.v1) stays ABORTED's 409, as AIP-154 says."""
    if status.code != code_pb2.ABORTED or not any(key in metadata for key in IF_MATCH_KEYS):
        return None
    for detail in status.details:
        if detail.Is(etag_pb2.EtagMismatch.DESCRIPTOR):
            mismatch = etag_pb2.EtagMismatch()
            detail.Unpack(mismatch)
            return mismatch.current_etag
    return None


def http_status(code: int) -> int:
    """The HTTP status grpc-gateway sends for a gRPC code (500 for a code it does not know)."""
    return HTTP_STATUS_BY_CODE.get(code, UNKNOWN_CODE_STATUS)
