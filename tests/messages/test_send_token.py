"""`mailgate token create --permission email.send` makes the platform's service token: it sends, and
nothing on the Admin API answers it."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.mailgate.v1 import delivery_pb2_grpc
from mailgate.gen.zitadel import admin_pb2
from tests.fixtures.processes import clean_env, create_token, run_cli
from tests.fixtures.rpc import Admin, failure
from tests.fixtures.servers import server_env, start_server
from tests.messages.helpers import send_request


async def test_a_token_made_by_the_cli_sends(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = server_env("sqlite", tmp_path, request)
    token = create_token(clean_env(**env), "email.send", "acme")
    listed = run_cli(["token", "list"], clean_env(**env))
    assert "email.send" in listed.stdout

    server = await start_server(env)
    try:
        admin = Admin(server.stub, await server.metadata("iam.write", "acme"))
        await admin.activate(await admin.add_smtp())
        metadata = (("authorization", f"Bearer {token}"),)
        stub = delivery_pb2_grpc.DeliveryServiceStub(server.channel)

        sent = await stub.SendEmail(send_request(), metadata=metadata)
        assert sent.message.state == pb.MESSAGE_STATE_QUEUED
        denied = await failure(
            server.stub.ListEmailProviders(admin_pb2.ListEmailProvidersRequest(), metadata=metadata)
        )
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await server.close()
