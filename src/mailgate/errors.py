"""Domain errors: what went wrong, in ZITADEL's terms; pipeline/errors.py turns them into gRPC statuses."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf.message import Message


class ApiError(Exception):
    """An error a caller should see: a gRPC code, ZITADEL's error id (or none) and English text.

    With an id the message reads "<text> (<id>)" and carries a zitadel.v1.ErrorDetail; `details`
    are further status details (for example an SMTP test report) appended after it.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        error_id: str | None,
        text: str,
        details: Sequence[Message] = (),
    ) -> None:
        super().__init__(f"{text} ({error_id})" if error_id else text)
        self.code = code
        self.error_id = error_id
        self.text = text
        self.details = tuple(details)

    @property
    def message(self) -> str:
        return str(self)


def not_found(error_id: str, text: str = "SMTP configuration not found") -> ApiError:
    return ApiError(grpc.StatusCode.NOT_FOUND, error_id, text)


def invalid(error_id: str, text: str) -> ApiError:
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, error_id, text)


def precondition(error_id: str, text: str) -> ApiError:
    return ApiError(grpc.StatusCode.FAILED_PRECONDITION, error_id, text)
