"""Requests, a caller of the delivery API, and what a worker would record, for the delivery API tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import insert, update

from mailgate.delivery.report import Stage, TestStep
from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.mailgate.v1 import delivery_pb2_grpc
from mailgate.outbox.model import Attempt, MessageState, ReplyClass
from mailgate.store.attempts import recorded_row
from mailgate.store.clock import now_us
from mailgate.store.tables import attempts, messages
from tests.fixtures.rpc import Failure, failure
from tests.fixtures.servers import RunningServer


def unique_address() -> str:
    return f"user+{secrets.token_hex(4)}@example.com"


def send_request(**fields: Any) -> pb.SendEmailRequest:
    """A valid SendEmailRequest; `fields` override or add to it."""
    values: dict[str, Any] = {
        "to": [unique_address()],
        "subject": "Verify your email",
        "text_body": "Your code is 123456.",
        **fields,
    }
    return pb.SendEmailRequest(**values)


@dataclass
class Mailer:
    """One caller of the DeliveryService: a stub and one token's metadata."""

    stub: delivery_pb2_grpc.DeliveryServiceStub
    metadata: tuple[tuple[str, str], ...]
    token_id: str

    @classmethod
    async def with_token(cls, server: RunningServer, permission: str, instance: str | None = None) -> Mailer:
        record, token = await server.services.tokens.create(instance or server.instance, permission)
        stub = delivery_pb2_grpc.DeliveryServiceStub(server.channel)
        return cls(stub, (("authorization", f"Bearer {token}"),), record.id)

    async def __call__(self, rpc: str, request: Message) -> Any:
        return await getattr(self.stub, rpc)(request, metadata=self.metadata)

    async def fail(self, rpc: str, request: Message) -> Failure:
        return await failure(getattr(self.stub, rpc)(request, metadata=self.metadata))

    async def send(self, **fields: Any) -> pb.Message:
        response = await self("SendEmail", send_request(**fields))
        return response.message

    async def get(self, message_id: str) -> pb.Message:
        response = await self("GetMessage", pb.GetMessageRequest(id=message_id))
        return response.message

    async def listing(self, **fields: Any) -> pb.ListMessagesResponse:
        return await self("ListMessages", pb.ListMessagesRequest(**fields))


def delivery_attempt(number: int, provider_id: str, reply_class: ReplyClass, code: int) -> Attempt:
    """An attempt as the engine reports it: ended at RCPT TO with the server's reply."""
    return Attempt(
        number=number,
        at=datetime.now(UTC),
        provider_id=provider_id,
        reply_class=reply_class,
        stage=Stage.RCPT_TO,
        reply_code=code,
        enhanced_status_code="5.1.1",
        reply_text="no such user",
        detail="the server refused the recipient",
        duration_ms=42,
        steps=(
            TestStep(Stage.CONNECT, 0, 5),
            TestStep(Stage.GREETING, 5, 10, 220, "", "mx.example.com ESMTP"),
            TestStep(Stage.RCPT_TO, 15, 27, code, "5.1.1", "no such user"),
        ),
    )


async def record_attempt(
    server: RunningServer, message_id: str, attempt: Attempt, state: MessageState, **columns: Any
) -> None:
    """What a worker records after an attempt: the attempt's row and the message's next state."""
    async with server.services.db.write() as conn:
        await conn.execute(insert(attempts).values(recorded_row(server.instance, message_id, attempt)))
        final = now_us() if state.final else None
        await conn.execute(
            update(messages)
            .where(messages.c.instance_id == server.instance, messages.c.id == message_id)
            .values(
                state=state.value,
                attempts_made=attempt.number,
                provider_id=attempt.provider_id,
                next_attempt_us=None if state.final else now_us(),
                final_us=final,
                **columns,
            )
        )
