"""Requests, a caller and failure inspection shared by the Admin API tests."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf import duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import admin_pb2_grpc, message_pb2, object_pb2, settings_pb2

SENDER = "noreply@example.com"
HOST = "smtp.example.com:587"
M = TypeVar("M", bound=Message)
UNKNOWN_ID = "123456789012345678"

ACTIVE = settings_pb2.EMAIL_PROVIDER_ACTIVE
INACTIVE = settings_pb2.EMAIL_PROVIDER_INACTIVE


def _smtp_request(message_type: type[M], **fields: Any) -> M:
    """A valid SMTP request of `message_type`; `fields` override or add to the defaults."""
    return message_type(**{"sender_address": SENDER, "sender_name": "Example", "host": HOST, **fields})


def smtp_add(**fields: Any) -> pb.AddEmailProviderSMTPRequest:
    """A valid AddEmailProviderSMTPRequest; `fields` override or add to it."""
    return _smtp_request(pb.AddEmailProviderSMTPRequest, **fields)


def smtp_update(provider_id: str, **fields: Any) -> pb.UpdateEmailProviderSMTPRequest:
    return _smtp_request(pb.UpdateEmailProviderSMTPRequest, id=provider_id, **fields)


def legacy_add(**fields: Any) -> pb.AddSMTPConfigRequest:
    return _smtp_request(pb.AddSMTPConfigRequest, **fields)


def legacy_update(provider_id: str, **fields: Any) -> pb.UpdateSMTPConfigRequest:
    return _smtp_request(pb.UpdateSMTPConfigRequest, id=provider_id, **fields)


def plain(password: str) -> pb.SMTPPlainAuth:
    return pb.SMTPPlainAuth(password=password)


def xoauth2(
    token_endpoint: str = "https://login.example.com/token",
    client_id: str = "client-1",
    client_secret: str = "",
    scopes: tuple[str, ...] = ("https://outlook.office365.com/.default",),
) -> pb.SMTPXOAuth2Auth:
    return pb.SMTPXOAuth2Auth(
        token_endpoint=token_endpoint,
        scopes=list(scopes),
        client_credentials=pb.SMTPXOAuth2Auth.ClientCredentials(
            client_id=client_id, client_secret=client_secret
        ),
    )


def rotate_now() -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=0)


@dataclass(frozen=True)
class Failure:
    """A failed call as a client sees it: code, message and the google.rpc.Status details."""

    code: grpc.StatusCode
    message: str
    status: status_pb2.Status | None

    @classmethod
    def of(cls, error: grpc.aio.AioRpcError) -> Failure:
        return cls(error.code(), error.details() or "", rpc_status.from_call(error))

    def _details(self, kind: type[Message]) -> list[Any]:
        found = []
        for item in self.status.details if self.status else ():
            if item.Is(kind.DESCRIPTOR):
                message = kind()
                item.Unpack(message)
                found.append(message)
        return found

    @property
    def error_details(self) -> list[message_pb2.ErrorDetail]:
        return self._details(message_pb2.ErrorDetail)

    @property
    def error_id(self) -> str | None:
        details = self.error_details
        return details[0].id if details else None

    @property
    def bad_request(self) -> error_details_pb2.BadRequest | None:
        found = self._details(error_details_pb2.BadRequest)
        return found[0] if found else None

    def is_zitadel(self, code: grpc.StatusCode, error_id: str) -> bool:
        """ZITADEL's form: the code, "<text> (<id>)" and a first ErrorDetail with that id and text."""
        details = self.error_details
        return (
            self.code == code
            and bool(details)
            and self.status is not None
            and self.status.details[0].Is(message_pb2.ErrorDetail.DESCRIPTOR)
            and details[0].id == error_id
            and bool(details[0].message)
            and self.message == f"{details[0].message} ({error_id})"
        )


async def failure(call: Awaitable[Message]) -> Failure:
    """The failure of a call that must fail."""
    try:
        response = await call
    except grpc.aio.AioRpcError as error:
        return Failure.of(error)
    raise AssertionError(f"the call succeeded, answering {type(response).__name__}: {response}")


@dataclass
class Admin:
    """One caller of the AdminService: a stub and one token's metadata."""

    stub: admin_pb2_grpc.AdminServiceStub
    metadata: tuple[tuple[str, str], ...]

    async def __call__(self, rpc: str, request: Message) -> Any:
        return await getattr(self.stub, rpc)(request, metadata=self.metadata)

    async def fail(self, rpc: str, request: Message) -> Failure:
        return await failure(getattr(self.stub, rpc)(request, metadata=self.metadata))

    async def add_smtp(self, **fields: Any) -> str:
        response = await self("AddEmailProviderSMTP", smtp_add(**fields))
        return str(response.id)

    async def add_http(self, endpoint: str = "https://relay.example.com/mail", description: str = "") -> str:
        response = await self(
            "AddEmailProviderHTTP", pb.AddEmailProviderHTTPRequest(endpoint=endpoint, description=description)
        )
        return str(response.id)

    async def get(self, provider_id: str) -> settings_pb2.EmailProvider:
        response = await self("GetEmailProviderById", pb.GetEmailProviderByIdRequest(id=provider_id))
        return response.config

    async def activate(self, provider_id: str) -> Any:
        return await self("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=provider_id))

    async def listing(self, **query: Any) -> pb.ListEmailProvidersResponse:
        return await self(
            "ListEmailProviders", pb.ListEmailProvidersRequest(query=object_pb2.ListQuery(**query))
        )
