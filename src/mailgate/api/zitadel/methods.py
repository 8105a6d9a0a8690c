"""AdminService in the method table: ZITADEL's order of stages, ZITADEL's form of errors."""

from __future__ import annotations

from mailgate.api import status
from mailgate.api.zitadel.servicer import TEST_RPCS, AdminServicer
from mailgate.gen.zitadel import admin_pb2
from mailgate.pipeline.auth import Authenticator
from mailgate.pipeline.methods import Method, bind_service
from mailgate.pipeline.stages import VALIDATE, Authenticate, Authorize, Limit, Stages

ADMIN_SERVICE = admin_pb2.DESCRIPTOR.services_by_name["AdminService"]
# ZITADEL's gateway serves AdminService's annotated paths under this prefix (admin.GatewayPathPrefix).
MOUNT = "/admin/v1"


def admin_methods(servicer: AdminServicer, authenticator: Authenticator, sending: Limit) -> list[Method]:
    """Every RPC: the token, its permission (401/403 win over 400, as ZITADEL's interceptors order
    them), the proto's rules, and for the RPCs that send mail the per-instance test-email limit."""
    plain: Stages = (Authenticate(authenticator), Authorize(), VALIDATE)
    mailing: Stages = (*plain, sending)
    return bind_service(
        ADMIN_SERVICE,
        servicer,
        lambda rpc: mailing if rpc.name in TEST_RPCS else plain,
        status.encode,
    )
