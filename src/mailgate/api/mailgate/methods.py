"""mailgate.v1's services in the method table: the token, its permission, the proto's rules."""

from __future__ import annotations

from mailgate.api import status
from mailgate.api.mailgate.console import ConsoleServicer
from mailgate.api.mailgate.history import HistoryServicer
from mailgate.api.mailgate.providers import ProviderServicer
from mailgate.api.mailgate.servicer import DeliveryServicer
from mailgate.gen.mailgate.v1 import console_pb2, delivery_pb2, history_pb2, providers_pb2
from mailgate.pipeline.auth import Authenticator
from mailgate.pipeline.methods import Method, bind_service
from mailgate.pipeline.stages import VALIDATE, Authenticate, Authorize, Limit, Stages

DELIVERY_SERVICE = delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"]
# The proto's paths are written in full (/v1/messages): served as they are.
MOUNT = ""


def delivery_methods(servicer: DeliveryServicer, authenticator: Authenticator) -> list[Method]:
    """Every RPC, in the same order of stages as ZITADEL's API (401/403 before 400), errors alike."""
    stages: Stages = (Authenticate(authenticator), Authorize(), VALIDATE)
    return bind_service(DELIVERY_SERVICE, servicer, lambda _rpc: stages, status.encode)


CONSOLE_SERVICE = console_pb2.DESCRIPTOR.services_by_name["ConsoleService"]
# The RPCs of ConsoleService that send mail: rate limited with ZITADEL's test RPCs.
CONSOLE_TEST_RPCS = frozenset({"TestSmtpSettings", "TestSmtpProvider"})


def console_methods(servicer: ConsoleServicer, authenticator: Authenticator, sending: Limit) -> list[Method]:
    """ConsoleService: the token, its permission, the proto's rules, and for tests the sending limit."""
    plain: Stages = (Authenticate(authenticator), Authorize(), VALIDATE)
    mailing: Stages = (*plain, sending)
    return bind_service(
        CONSOLE_SERVICE,
        servicer,
        lambda rpc: mailing if rpc.name in CONSOLE_TEST_RPCS else plain,
        status.encode,
    )


HISTORY_SERVICE = history_pb2.DESCRIPTOR.services_by_name["HistoryService"]


def history_methods(servicer: HistoryServicer, authenticator: Authenticator) -> list[Method]:
    """ListHistory and WatchHistory, with DeliveryService's stages and errors."""
    stages: Stages = (Authenticate(authenticator), Authorize(), VALIDATE)
    return bind_service(HISTORY_SERVICE, servicer, lambda _rpc: stages, status.encode)


PROVIDER_SERVICE = providers_pb2.DESCRIPTOR.services_by_name["ProviderService"]


def provider_methods(servicer: ProviderServicer, authenticator: Authenticator) -> list[Method]:
    """GetProvider, ListProviders and the state changes, with DeliveryService's stages and errors."""
    stages: Stages = (Authenticate(authenticator), Authorize(), VALIDATE)
    return bind_service(PROVIDER_SERVICE, servicer, lambda _rpc: stages, status.encode)
