"""Who may do what: an email.send token sends and reads its own messages only; iam.read reads every
message of its instance; iam.write cancels, retries and sets fallbacks; instances never meet."""

from __future__ import annotations

import grpc
import httpx
import pytest

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.zitadel import admin_pb2
from tests.fixtures.rpc import Admin
from tests.fixtures.servers import RunningServer
from tests.messages.helpers import Mailer, send_request

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_send_token_reads_only_its_own_messages(
    provider: str, sender: Mailer, server: RunningServer
) -> None:
    colleague = await Mailer.with_token(server, "email.send")
    mine = await sender.send()
    theirs = await colleague.send()

    assert (await sender.get(mine.id)).id == mine.id
    hidden = await sender.fail("GetMessage", pb.GetMessageRequest(id=theirs.id))
    assert hidden.is_zitadel(grpc.StatusCode.NOT_FOUND, "MG-MESSAGE-NOT-FOUND")
    assert [m.id for m in (await sender.listing()).messages] == [mine.id]
    assert [m.id for m in (await colleague.listing()).messages] == [theirs.id]


async def test_a_send_token_can_do_nothing_else(provider: str, sender: Mailer, server: RunningServer) -> None:
    message = await sender.send()
    for rpc, request in (
        ("CancelMessage", pb.CancelMessageRequest(id=message.id)),
        ("RetryMessage", pb.RetryMessageRequest(id=message.id)),
        ("GetDeliveryFallbacks", pb.GetDeliveryFallbacksRequest()),
        ("SetDeliveryFallbacks", pb.SetDeliveryFallbacksRequest()),
    ):
        denied = await sender.fail(rpc, request)
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED, rpc
    admin_api = Admin(server.stub, sender.metadata)
    for rpc, admin_request in (
        ("ListEmailProviders", admin_pb2.ListEmailProvidersRequest()),
        ("GetEmailProvider", admin_pb2.GetEmailProviderRequest()),
        ("GetEmailProviderById", admin_pb2.GetEmailProviderByIdRequest(id=provider)),
        ("TestEmailProviderSMTPById", admin_pb2.TestEmailProviderSMTPByIdRequest(id=provider)),
    ):
        denied = await admin_api.fail(rpc, admin_request)
        assert denied.is_zitadel(grpc.StatusCode.PERMISSION_DENIED, "AUTH-5mWD2"), rpc
    async with httpx.AsyncClient(base_url=server.http_base, timeout=10) as http:
        okta = await http.get("/api/v1/email-servers", headers=dict(sender.metadata))
    assert okta.status_code == 403 and okta.json()["errorCode"] == "E0000006"
    assert (await sender.get(message.id)).state == pb.MESSAGE_STATE_QUEUED  # nothing was canceled


async def test_iam_read_reads_every_message_of_its_instance_and_sends_none(
    provider: str, sender: Mailer, reader: Mailer, server: RunningServer
) -> None:
    colleague = await Mailer.with_token(server, "email.send")
    sent = [await sender.send(), await colleague.send()]
    assert [m.id for m in (await reader.listing()).messages] == [m.id for m in reversed(sent)]
    assert {(await reader.get(m.id)).sender_token_id for m in sent} == {sender.token_id, colleague.token_id}
    assert (await reader("GetDeliveryFallbacks", pb.GetDeliveryFallbacksRequest())).provider_ids == []

    for rpc, request in (
        ("SendEmail", send_request()),
        ("CancelMessage", pb.CancelMessageRequest(id=sent[0].id)),
        ("RetryMessage", pb.RetryMessageRequest(id=sent[0].id)),
        ("SetDeliveryFallbacks", pb.SetDeliveryFallbacksRequest()),
    ):
        denied = await reader.fail(rpc, request)
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED, rpc


async def test_admin_tokens_do_not_send(provider: str, writer: Mailer) -> None:
    denied = await writer.fail("SendEmail", send_request())
    assert denied.is_zitadel(grpc.StatusCode.PERMISSION_DENIED, "AUTH-5mWD2")
    assert "email.send" in denied.message


async def test_another_instance_sees_nothing(provider: str, sender: Mailer, server: RunningServer) -> None:
    message = await sender.send()
    other = server.instance + "-other"
    for permission in ("email.send", "iam.read", "iam.write"):
        stranger = await Mailer.with_token(server, permission, other)
        hidden = await stranger.fail("GetMessage", pb.GetMessageRequest(id=message.id))
        assert hidden.is_zitadel(grpc.StatusCode.NOT_FOUND, "MG-MESSAGE-NOT-FOUND"), permission
        if permission != "email.send":
            assert list((await stranger.listing()).messages) == []
        if permission == "iam.write":
            canceled = await stranger.fail("CancelMessage", pb.CancelMessageRequest(id=message.id))
            assert canceled.code == grpc.StatusCode.NOT_FOUND
    assert (await sender.get(message.id)).state == pb.MESSAGE_STATE_QUEUED


async def test_calls_without_a_valid_token_are_unauthenticated(sender: Mailer, server: RunningServer) -> None:
    anonymous = Mailer(sender.stub, (), "")
    refused = await anonymous.fail("SendEmail", send_request())
    assert refused.is_zitadel(grpc.StatusCode.UNAUTHENTICATED, "MG-AUTH-MISSING")
    revoked = await Mailer.with_token(server, "email.send")
    await server.services.tokens.revoke(revoked.token_id)
    server.services.authenticator.forget()
    refused = await revoked.fail("SendEmail", send_request())
    assert refused.is_zitadel(grpc.StatusCode.UNAUTHENTICATED, "MG-AUTH-INVALID")
