"""mailgate's own events: a test email sent (its result and stage only), the delivery fallbacks
set, and a provider's circuit breaker changing state (recorded by the system)."""

from __future__ import annotations

import pytest

from mailgate.gen.mailgate.v1 import delivery_pb2, delivery_pb2_grpc
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.history.events import BREAKER_CHANGED, FALLBACKS_SET, TESTED
from mailgate.outbox.breaker import BreakerPolicy, BreakerState, after
from mailgate.outbox.model import ReplyClass
from mailgate.store.clock import now_us
from mailgate.store.health import Breakers, record_breaker_changes
from tests.fixtures.servers import RunningServer
from tests.history.helpers import described, events, payload

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_test_email_is_recorded_with_its_result_and_stage_only(server: RunningServer) -> None:
    caller, token_id = await described(server)
    # A port nothing listens on (and an address the outbound policy may refuse): the test fails.
    provider = await caller.add_smtp(host="127.0.0.1:9")
    await caller.fail(
        "TestEmailProviderSMTPById",
        pb.TestEmailProviderSMTPByIdRequest(id=provider, receiver_address="someone@example.com"),
    )

    [tested] = await events(caller, event_types=[TESTED])

    assert set(payload(tested)) == {"id", "result", "stage"}
    assert payload(tested)["id"] == provider and payload(tested)["result"] == "failed"
    assert payload(tested)["stage"] != "done"
    assert tested.editor.user_id == token_id
    assert b"someone@example.com" not in tested.SerializeToString()


async def test_setting_the_fallbacks_is_recorded_with_the_old_and_new_list(server: RunningServer) -> None:
    caller, _ = await described(server)
    first, second = await caller.add_smtp(), await caller.add_smtp()
    delivery = delivery_pb2_grpc.DeliveryServiceStub(server.channel)
    for ids in ([first], [second, first], [second, first]):  # the last one changes nothing
        await delivery.SetDeliveryFallbacks(
            delivery_pb2.SetDeliveryFallbacksRequest(provider_ids=ids), metadata=caller.metadata
        )

    found = await events(caller, event_types=[FALLBACKS_SET], asc=True)

    assert [payload(e)["providerIds"] for e in found] == [[first], [second, first]]


async def test_a_breaker_opening_is_recorded_by_the_system(server: RunningServer) -> None:
    caller, _ = await described(server)
    provider = await caller.add_smtp()
    policy = BreakerPolicy(faults=1, cooldown_us=10_000_000, probe_us=10_000_000)
    async with server.services.db.write() as conn:
        breakers = Breakers(conn)
        moment = now_us()
        await breakers.apply(
            server.instance, provider, lambda h: after(h, ReplyClass.PROVIDER_FAULT, policy, moment), moment
        )
        await record_breaker_changes(conn, breakers.changed)

    [opened] = await events(caller, event_types=[BREAKER_CHANGED])

    assert payload(opened) == {"id": provider, "state": BreakerState.OPEN.value, "consecutiveFaults": 1}
    assert opened.editor.service == "system" and opened.editor.user_id == ""
