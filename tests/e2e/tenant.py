"""One instance of a served mailgate as its operator and the platform use it: providers added and
activated through the Admin API, fallbacks set and mail sent through the DeliveryService, and the
message's status read until the workers are done with it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.zitadel import admin_pb2
from tests.fixtures.rpc import Admin, caller
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer

FINAL = frozenset({pb.MESSAGE_STATE_SENT, pb.MESSAGE_STATE_FAILED, pb.MESSAGE_STATE_EXPIRED})
# The attempts' fields a test compares, by name: reply class, stage, code and provider.
CLASS_NAMES = {
    pb.REPLY_CLASS_DELIVERED: "delivered",
    pb.REPLY_CLASS_PERMANENT: "permanent",
    pb.REPLY_CLASS_PROVIDER_FAULT: "provider_fault",
    pb.REPLY_CLASS_TRANSIENT: "transient",
}


def state_name(state: int) -> str:
    return pb.MessageState.Name(state).removeprefix("MESSAGE_STATE_").lower()


def classes(message: pb.Message) -> list[str]:
    """The reply class of each attempt, in order."""
    return [CLASS_NAMES[attempt.reply_class] for attempt in message.attempts]


def providers(message: pb.Message) -> list[str]:
    """The provider of each attempt, in order."""
    return [attempt.provider_id for attempt in message.attempts]


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def data_lines(commands: list[str]) -> list[bytes]:
    """Each message a scripted peer received between DATA and the lone dot, as bytes."""
    found: list[bytes] = []
    current: list[str] | None = None
    for line in commands:
        if current is None:
            if line.upper() == "DATA":
                current = []
        elif line == ".":
            found.append("\r\n".join(current).encode())
            current = None
        else:
            current.append(line[1:] if line.startswith("..") else line)
    return found


async def delivered_attempts(http_address: str) -> float:
    """The attempts that delivered, by a served mailgate's /metrics at `http_address` (host:port)."""
    async with httpx.AsyncClient(base_url=f"http://{http_address}") as client:
        text = (await client.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "mailgate_delivery_attempts_total" and sample.labels["reply_class"] == "delivered"
    )


async def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> None:
    """Wait for `check()` (sync or async) to be true, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not become true within {timeout}s")
        await asyncio.sleep(0.02)


@dataclass
class Tenant:
    """An instance of `server`: an iam.write caller of both APIs and the platform's email.send token."""

    server: RunningServer
    admin: Admin
    operator: Mailer  # iam.write on the DeliveryService
    platform: Mailer  # email.send: sends, and reads what it sent

    @classmethod
    async def of(cls, server: RunningServer) -> Tenant:
        return cls(
            server,
            await caller(server, "iam.write"),
            await Mailer.with_token(server, "iam.write"),
            await Mailer.with_token(server, "email.send"),
        )

    async def smtp_provider(self, host: str, *, active: bool = False, **fields: Any) -> str:
        """An SMTP provider at `host` without TLS (and without AUTH unless `fields` say so)."""
        if not any(name in fields for name in ("none", "plain", "xoauth2")):
            fields["none"] = admin_pb2.SMTPNoAuth()
        provider_id = await self.admin.add_smtp(host=host, tls=False, **fields)
        if active:
            await self.admin.activate(provider_id)
        return provider_id

    async def http_provider(self, endpoint: str, *, active: bool = False) -> tuple[str, str]:
        """An HTTP provider posting to `endpoint`: its id and the signing key shown once."""
        added = await self.admin(
            "AddEmailProviderHTTP", admin_pb2.AddEmailProviderHTTPRequest(endpoint=endpoint)
        )
        if active:
            await self.admin.activate(added.id)
        return str(added.id), str(added.signing_key)

    async def fallbacks(self, *provider_ids: str) -> None:
        await self.operator(
            "SetDeliveryFallbacks", pb.SetDeliveryFallbacksRequest(provider_ids=list(provider_ids))
        )

    async def send(self, to: str, **fields: Any) -> pb.Message:
        request = {"subject": "Verify your email", "text_body": "Your code is 123456.", **fields}
        return await self.platform.send(to=[to], **request)

    async def get(self, message_id: str) -> pb.Message:
        return await self.platform.get(message_id)

    async def settled(self, message_id: str, timeout: float = 20.0) -> pb.Message:
        """The message once it is SENT, FAILED or EXPIRED."""
        return await self.reached(message_id, lambda message: message.state in FINAL, timeout)

    async def reached(
        self, message_id: str, condition: Callable[[pb.Message], bool], timeout: float = 20.0
    ) -> pb.Message:
        """The message once `condition` holds for it."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.get(message_id)
            if condition(message):
                return message
            if time.monotonic() > deadline:
                raise AssertionError(f"message {message_id} is still {state_name(message.state)}: {message}")
            await asyncio.sleep(0.02)
