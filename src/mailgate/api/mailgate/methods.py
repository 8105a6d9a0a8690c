"""DeliveryService in the method table: the token, its permission, then the proto's rules."""

from __future__ import annotations

from mailgate.api import status
from mailgate.api.mailgate.history import HistoryServicer
from mailgate.api.mailgate.servicer import DeliveryServicer
from mailgate.gen.mailgate.v1 import delivery_pb2, history_pb2
from mailgate.pipeline.auth import Authenticator
from mailgate.pipeline.methods import Method, bind_service
from mailgate.pipeline.stages import VALIDATE, Authenticate, Authorize, Stages

DELIVERY_SERVICE = delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"]
# The proto's paths are written in full (/v1/messages): served as they are.
MOUNT = ""


def delivery_methods(servicer: DeliveryServicer, authenticator: Authenticator) -> list[Method]:
    """Every RPC, in the same order of stages as ZITADEL's API (401/403 before 400), errors alike."""
    stages: Stages = (Authenticate(authenticator), Authorize(), VALIDATE)
    return bind_service(DELIVERY_SERVICE, servicer, lambda _rpc: stages, status.encode)


HISTORY_SERVICE = history_pb2.DESCRIPTOR.services_by_name["HistoryService"]


def history_methods(servicer: HistoryServicer, authenticator: Authenticator) -> list[Method]:
    """ListHistory and WatchHistory, with DeliveryService's stages and errors."""
    stages: Stages = (Authenticate(authenticator), Authorize(), VALIDATE)
    return bind_service(HISTORY_SERVICE, servicer, lambda _rpc: stages, status.encode)
