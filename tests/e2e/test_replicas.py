"""Two `mailgate serve` processes on one PostgreSQL share the outbox (delivery.md decisions 1, 2
and 4): a burst sent to both is delivered into one aiosmtpd sink exactly once, by both; when
one process is killed (-9) mid-burst, every message either acknowledged is delivered, a duplicate
only ever with the message's one Message-ID; and when the active provider goes down under a
burst both replicas fail over, recorded once in the history."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import pytest

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.mailgate.v1 import delivery_pb2_grpc
from mailgate.gen.zitadel import admin_pb2, admin_pb2_grpc
from tests.delivery.sinks import RunningSink, counting_sink
from tests.e2e.tenant import delivered_attempts, eventually, parsed
from tests.fixtures.database import PG_SKIP, PG_URL, TEST_KEY, fresh_database
from tests.fixtures.network import LOCAL, LOCAL_ALLOW_ENV, free_port
from tests.fixtures.processes import Served, clean_env, create_token, run_cli

# Minutes, not seconds, on a loaded machine: the processes and PostgreSQL share its cores.
pytestmark = [pytest.mark.skipif(not PG_URL, reason=PG_SKIP), pytest.mark.timeout(300)]

BURST = 2000
KILLED_BURST = 600  # enough that the killed replica holds messages when it dies
WAIT = 180.0  # seconds the sink may take to receive a burst
CALLS_AT_ONCE = 32


@pytest.fixture
def sink() -> Iterator[RunningSink]:
    with counting_sink(pipelining=True) as running:  # as the big providers: the pipelined path
        yield running


@dataclass
class Replica:
    served: Served
    http_port: int

    async def delivered(self) -> float:
        """The replica's attempts that delivered, from its /metrics."""
        return await delivered_attempts(f"{LOCAL}:{self.http_port}")


@dataclass
class Cluster:
    """One fresh database, its settings, and the `mailgate serve` processes started on it."""

    env: dict[str, str]
    logs: Path
    stack: ExitStack
    replicas: list[Replica] = field(default_factory=list)

    def start(self, name: str) -> Replica:
        """One more replica; it stops (if still running) when the module's tests are done."""
        http_port = free_port()
        served = Served.start(
            {**self.env, "MAILGATE_HTTP_ADDR": f"{LOCAL}:{http_port}"}, self.logs / f"{name}.log"
        )
        self.stack.callback(_end, served)
        self.replicas.append(Replica(served, http_port))
        return self.replicas[-1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two replicas, "a" and "b", shared by the module's tests (each in an instance of its own)."""
    logs = tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database())
        env = clean_env(
            MAILGATE_DATABASE_URL=url,
            MAILGATE_MASTER_KEY=TEST_KEY,
            MAILGATE_DATA_DIR=str(logs / "data"),
            MAILGATE_OUTBOUND_ALLOW=LOCAL_ALLOW_ENV,
            MAILGATE_LOG_LEVEL="warning",
            MAILGATE_DELIVERY_WORKERS="16",
            # Short, so a dead replica's messages are taken over soon; not so short that a busy
            # replica's renewals come late (then a message could be sent twice, if only once).
            MAILGATE_DELIVERY_LEASE="5",
            MAILGATE_DELIVERY_POLL_INTERVAL="0.2",
            MAILGATE_RETRY_BASE="0.05",
            MAILGATE_RETRY_MAX="0.2",
            MAILGATE_SMTP_POOL_SIZE="4",
        )
        running = Cluster(env, logs, stack)
        for name in ("a", "b"):  # one after the other: the first migrates the database
            running.start(name)
        yield running


def _end(served: Served) -> None:
    if served.process.poll() is None:
        served.stop()


@dataclass
class Acknowledged:
    to: str
    message_id: str
    internet_message_id: str


async def setup_instance(env: dict[str, str], replica: Replica, sink: RunningSink) -> str:
    """A new instance whose active provider is the sink; its email.send token."""
    instance = f"burst-{secrets.token_hex(4)}"
    admin_token = create_token(env, "iam.write", instance=instance)
    metadata = (("authorization", f"Bearer {admin_token}"),)
    async with grpc.aio.insecure_channel(replica.served.target) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        added = await admin.AddEmailProviderSMTP(
            admin_pb2.AddEmailProviderSMTPRequest(
                sender_address="noreply@example.com",
                sender_name="Example",
                host=f"{LOCAL}:{sink.port}",
                tls=False,
                none=admin_pb2.SMTPNoAuth(),
            ),
            metadata=metadata,
        )
        await admin.ActivateEmailProvider(
            admin_pb2.ActivateEmailProviderRequest(id=added.id), metadata=metadata
        )
    return create_token(env, "email.send", instance=instance)


async def burst(
    targets: list[str], token: str, count: int, on_acknowledged: asyncio.Event | None = None, after: int = 0
) -> tuple[list[Acknowledged], int]:
    """Send `count` messages, each to a new recipient, spread over `targets`; what was acknowledged
    and how many calls failed. `on_acknowledged` is set once `after` calls were."""
    tag = secrets.token_hex(4)
    metadata = (("authorization", f"Bearer {token}"),)
    channels = [grpc.aio.insecure_channel(target) for target in targets]
    stubs = [delivery_pb2_grpc.DeliveryServiceStub(channel) for channel in channels]
    acknowledged: list[Acknowledged] = []
    failed = 0
    turns = iter(range(count))

    async def caller() -> None:
        nonlocal failed
        for number in turns:
            to = f"r{number}-{tag}@example.com"
            request = pb.SendEmailRequest(
                to=[to], subject=f"Code {number}", text_body=f"Your code is {number}."
            )
            try:
                answer = await stubs[number % len(stubs)].SendEmail(request, metadata=metadata, timeout=10)
            except grpc.aio.AioRpcError:
                failed += 1
                continue
            acknowledged.append(Acknowledged(to, answer.message.id, answer.message.internet_message_id))
            if on_acknowledged is not None and len(acknowledged) >= after:
                on_acknowledged.set()

    try:
        await asyncio.gather(*(caller() for _ in range(CALLS_AT_ONCE)))
    finally:
        for channel in channels:
            await channel.close()
    return acknowledged, failed


def copies(sink: RunningSink) -> dict[str, list[str]]:
    """The Message-ID of every copy the sink received, by recipient."""
    found: dict[str, list[str]] = defaultdict(list)
    for envelope in list(sink.sink.messages):
        [to] = envelope.rcpt_tos
        found[to].append(str(parsed(envelope.original_content)["Message-ID"]))
    return found


async def test_two_replicas_deliver_a_burst_exactly_once_between_them(
    cluster: Cluster, sink: RunningSink
) -> None:
    a, b = cluster.replicas[:2]
    token = await setup_instance(cluster.env, a, sink)
    before = await a.delivered(), await b.delivered()
    acknowledged, failed = await burst([a.served.target, b.served.target], token, BURST)
    assert (len(acknowledged), failed) == (BURST, 0)

    await eventually(lambda: len(sink.sink.messages) >= BURST, timeout=WAIT, what="every message delivered")

    async def counted() -> tuple[float, float]:
        return await a.delivered() - before[0], await b.delivered() - before[1]

    # Both replicas say they are done (the counters follow the commit that records a delivery).
    await eventually(lambda: _adds_up(counted()), timeout=10, what="the replicas' counters add up")
    # Neither sent anything twice, nor anything else.
    received = copies(sink)
    assert {item.to: [item.internet_message_id] for item in acknowledged} == received
    by_a, by_b = await counted()
    assert by_a + by_b == BURST
    assert by_a > 0 and by_b > 0, (by_a, by_b)


async def test_both_replicas_fail_over_and_the_history_records_it_once(
    cluster: Cluster, sink: RunningSink
) -> None:
    a, b = cluster.replicas[:2]
    instance = f"failover-{secrets.token_hex(4)}"
    admin_token = create_token(cluster.env, "iam.write", instance=instance)
    metadata = (("authorization", f"Bearer {admin_token}"),)
    async with grpc.aio.insecure_channel(a.served.target) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)

        async def provider(port: int) -> str:
            added = await admin.AddEmailProviderSMTP(
                admin_pb2.AddEmailProviderSMTPRequest(
                    sender_address="noreply@example.com",
                    sender_name="Example",
                    host=f"{LOCAL}:{port}",
                    tls=False,
                    none=admin_pb2.SMTPNoAuth(),
                ),
                metadata=metadata,
            )
            return str(added.id)

        down = await provider(free_port())  # nothing listens there: every attempt is a provider fault
        fallback = await provider(sink.port)
        await admin.ActivateEmailProvider(admin_pb2.ActivateEmailProviderRequest(id=down), metadata=metadata)
        delivery = delivery_pb2_grpc.DeliveryServiceStub(channel)
        await delivery.SetDeliveryFallbacks(
            pb.SetDeliveryFallbacksRequest(provider_ids=[fallback]), metadata=metadata
        )
        token = create_token(cluster.env, "email.send", instance=instance)
        count = 200
        before = await a.delivered(), await b.delivered()
        acknowledged, failed = await burst([a.served.target, b.served.target], token, count)
        assert (len(acknowledged), failed) == (count, 0)
        wanted = {item.to for item in acknowledged}
        await eventually(lambda: wanted <= set(copies(sink)), timeout=WAIT, what="the burst on the fallback")
        # Both replicas sent through the fallback (the counters follow the commit of each delivery).
        await eventually(
            lambda: _both_delivered(a, b, before), timeout=10, what="deliveries by both replicas"
        )

        found = await admin.ListEvents(
            admin_pb2.ListEventsRequest(
                event_types=["mailgate.delivery.failed_over", "mailgate.delivery.failed_back"]
            ),
            metadata=metadata,
        )
    # However many messages and replicas: one switch, by mailgate itself (the breaker stays open
    # for MAILGATE_BREAKER_COOLDOWN's 30 s, so no probe brings it back during the test).
    [switch] = found.events
    assert switch.type.type == "mailgate.delivery.failed_over" and switch.editor.service == "system"
    assert dict(switch.payload)["fromProviderId"] == down
    assert dict(switch.payload)["toProviderId"] == fallback
    verified = run_cli(["history", "verify", "--instance", instance], cluster.env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def _both_delivered(a: Replica, b: Replica, before: tuple[float, float]) -> bool:
    return await a.delivered() > before[0] and await b.delivered() > before[1]


async def _adds_up(counts: Awaitable[tuple[float, float]]) -> bool:
    return sum(await counts) >= BURST


async def test_a_replica_killed_mid_burst_loses_no_acknowledged_message(
    cluster: Cluster, sink: RunningSink
) -> None:
    survivor, doomed = cluster.replicas[1], cluster.start("doomed")
    token = await setup_instance(cluster.env, survivor, sink)
    halfway = asyncio.Event()
    targets = [survivor.served.target, doomed.served.target]
    sending = asyncio.create_task(burst(targets, token, KILLED_BURST, halfway, after=KILLED_BURST // 3))
    await halfway.wait()
    database_url, pids = cluster.env["MAILGATE_DATABASE_URL"], doomed.served.pids()
    # Kill it while it holds messages (on a busy machine its workers may be between claims at halfway).
    await eventually(
        lambda: _holds_any(database_url, pids), timeout=WAIT, what="the replica holding messages"
    )
    doomed.served.crash()  # serve and its delivery child: no drain, no release, its leases must run out
    orphaned = await held_by(database_url, pids)
    assert orphaned, "the killed replica held no message: the test tested nothing"
    acknowledged, _ = await sending
    assert len(acknowledged) >= KILLED_BURST // 3

    wanted = {item.to for item in acknowledged} | set(orphaned)
    await eventually(
        lambda: wanted <= set(copies(sink)), timeout=WAIT, what="every acknowledged message delivered"
    )
    received = copies(sink)
    for item in acknowledged:
        # At least once; a duplicate (sent by the dead replica, not recorded) is the same message.
        assert set(received[item.to]) == {item.internet_message_id}
    for to, internet_message_id in orphaned.items():
        assert set(received[to]) == {internet_message_id}


async def _holds_any(database_url: str, pids: set[int]) -> bool:
    return bool(await held_by(database_url, pids))


async def held_by(database_url: str, pids: set[int]) -> dict[str, str]:
    """The messages (recipient: Message-ID) a replica's workers held when it died (worker names
    carry the process id: the delivery child's)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT recipients, message_id FROM messages WHERE state = 'sending'"
            " AND split_part(claimed_by, ':', 2) = ANY($1::text[])",
            [str(pid) for pid in pids],
        )
    finally:
        await conn.close()
    return {json.loads(row["recipients"])[0]: row["message_id"] for row in rows}
