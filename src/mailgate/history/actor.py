"""Who made a change: the caller as the pipeline saw it, handed to the domain with each command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SYSTEM_TRANSPORT = "system"
CLI_TRANSPORT = "cli"


@dataclass(frozen=True, slots=True)
class Actor:
    """A token (id and description), how its call came, from where, and the call's request id."""

    token_id: str = ""
    token_description: str = ""
    transport: str = SYSTEM_TRANSPORT
    client_address: str = ""
    request_id: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "token_id": self.token_id,
            "token_description": self.token_description,
            "transport": self.transport,
            "client_address": self.client_address,
            "request_id": self.request_id,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Actor:
        return cls(
            token_id=str(value.get("token_id", "")),
            token_description=str(value.get("token_description", "")),
            transport=str(value.get("transport", SYSTEM_TRANSPORT)),
            client_address=str(value.get("client_address", "")),
            request_id=str(value.get("request_id", "")),
        )


# mailgate itself: a delivery worker, a breaker, retention.
SYSTEM = Actor()


def cli_actor(request_id: str = "") -> Actor:
    """The command line (`mailgate token create`, ...): no token, no address."""
    return Actor(transport=CLI_TRANSPORT, request_id=request_id)
