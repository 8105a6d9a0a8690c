"""`mailgate serve` sends through a delivery child of its own (delivery.md decision 12): on the
embedded SQLite store a message enqueued is woken over the child's pipe, a provider changed through
the API is sent through at once, the child runs at a lower CPU priority, its counters are on the
parent's /metrics, it is started again when it dies and ends with its parent."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.mailgate.v1 import delivery_pb2_grpc
from mailgate.gen.zitadel import admin_pb2, admin_pb2_grpc
from tests.delivery.sinks import RunningSink, counting_sink
from tests.e2e.tenant import delivered_attempts, eventually
from tests.fixtures.network import LOCAL, LOCAL_ALLOW_ENV, free_port
from tests.fixtures.processes import Served, clean_env, create_token

pytestmark = pytest.mark.timeout(120)

WAIT = 30.0  # seconds a message may take to arrive on a loaded machine (the poll is a minute)


@pytest.fixture
def sinks() -> Iterator[tuple[RunningSink, RunningSink]]:
    with counting_sink() as first, counting_sink() as second:
        yield first, second


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    return clean_env(
        MAILGATE_DATA_DIR=str(tmp_path / "data"),
        MAILGATE_HTTP_ADDR=f"{LOCAL}:{free_port()}",
        MAILGATE_OUTBOUND_ALLOW=LOCAL_ALLOW_ENV,
        MAILGATE_LOG_LEVEL="info",
        MAILGATE_DELIVERY_WORKERS="4",
        # Only a wake can deliver within WAIT: the workers' own look comes once a minute.
        MAILGATE_DELIVERY_POLL_INTERVAL="60",
        **settings,
    )


class Instance:
    """An instance on a served mailgate: its admin and send tokens, its active provider."""

    def __init__(self, served: Served, env: dict[str, str]) -> None:
        name = f"child-{secrets.token_hex(4)}"
        self.admin_auth = (("authorization", f"Bearer {create_token(env, 'iam.write', instance=name)}"),)
        self.send_auth = (("authorization", f"Bearer {create_token(env, 'email.send', instance=name)}"),)
        self.channel = grpc.aio.insecure_channel(served.target)
        self.admin = admin_pb2_grpc.AdminServiceStub(self.channel)
        self.delivery = delivery_pb2_grpc.DeliveryServiceStub(self.channel)
        self.provider_id = ""

    def _smtp(self, sink: RunningSink) -> dict[str, object]:
        return {
            "sender_address": "noreply@example.com",
            "sender_name": "Example",
            "host": f"{LOCAL}:{sink.port}",
            "tls": False,
            "none": admin_pb2.SMTPNoAuth(),
        }

    async def use(self, sink: RunningSink) -> None:
        """Add a provider sending to `sink` and activate it."""
        added = await self.admin.AddEmailProviderSMTP(
            admin_pb2.AddEmailProviderSMTPRequest(**self._smtp(sink)), metadata=self.admin_auth
        )
        self.provider_id = added.id
        await self.admin.ActivateEmailProvider(
            admin_pb2.ActivateEmailProviderRequest(id=added.id), metadata=self.admin_auth
        )

    async def move_to(self, sink: RunningSink) -> None:
        """Point the active provider at `sink`."""
        await self.admin.UpdateEmailProviderSMTP(
            admin_pb2.UpdateEmailProviderSMTPRequest(id=self.provider_id, **self._smtp(sink)),
            metadata=self.admin_auth,
        )

    async def send(self) -> str:
        """Send a message to a new recipient; the recipient."""
        to = f"{secrets.token_hex(4)}@example.com"
        await self.delivery.SendEmail(
            pb.SendEmailRequest(to=[to], subject="Your code", text_body="Your code is 1."),
            metadata=self.send_auth,
        )
        return to


def _children(served: Served) -> set[int]:
    return served.pids() - {served.process.pid}


async def _child(served: Served) -> int:
    """The serve process's one delivery child, once it has started it."""
    await eventually(lambda: len(_children(served)) == 1, timeout=WAIT, what="the delivery child")
    [child] = _children(served)
    return child


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_serve_sends_through_a_child_at_a_lower_priority_woken_over_its_pipe(
    tmp_path: Path, sinks: tuple[RunningSink, RunningSink]
) -> None:
    env = _env(tmp_path, MAILGATE_DELIVERY_NICE="7")
    served = Served.start(env, tmp_path / "serve.log")
    try:
        child = await _child(served)
        assert "mailgate.delivery_process" in Path(f"/proc/{child}/cmdline").read_bytes().decode()
        lower = _nice(served.process.pid) + 7  # set as the child starts, before its threads do
        await eventually(lambda: _nice(child) == lower, timeout=WAIT, what="the child's lower priority")
        assert all(_nice(int(task.name)) == lower for task in Path(f"/proc/{child}/task").iterdir())
        instance = Instance(served, env)
        first, second = sinks
        await instance.use(first)

        to = await instance.send()
        await eventually(lambda: first.sink.received(to), timeout=WAIT, what="the message at the sink")

        # The child's counters, on the parent's /metrics.
        async def counted() -> bool:
            return await delivered_attempts(env["MAILGATE_HTTP_ADDR"]) == 1

        await eventually(counted, timeout=WAIT, what="one delivery counted")

        # A provider changed through the API is what the very next message goes through.
        await instance.move_to(second)
        moved = await instance.send()
        await eventually(
            lambda: second.sink.received(moved), timeout=WAIT, what="the message at the new host"
        )
        assert first.sink.received(moved) == []
    finally:
        assert served.stop() == 0
    assert not _alive(child)


async def test_a_child_that_dies_is_started_again(
    tmp_path: Path, sinks: tuple[RunningSink, RunningSink]
) -> None:
    env = _env(tmp_path)
    served = Served.start(env, tmp_path / "serve.log")
    try:
        instance = Instance(served, env)
        await instance.use(sinks[0])
        child = await _child(served)
        os.kill(child, signal.SIGKILL)
        await eventually(lambda: _children(served) - {child}, timeout=WAIT, what="another delivery child")
        to = await instance.send()
        await eventually(lambda: sinks[0].sink.received(to), timeout=WAIT, what="the message at the sink")
        assert any(
            line.get("msg") == "the delivery child exited; starting another" for line in served.log_lines()
        )
    finally:
        served.stop()


async def test_the_child_ends_with_its_parent(tmp_path: Path) -> None:
    served = Served.start(_env(tmp_path), tmp_path / "serve.log")
    child = await _child(served)
    served.process.send_signal(signal.SIGKILL)  # the parent alone: the kernel tells the child
    served.process.wait()
    await eventually(lambda: not _alive(child), timeout=WAIT, what="the delivery child gone with its parent")


async def test_inline_delivery_runs_in_the_serve_process(
    tmp_path: Path, sinks: tuple[RunningSink, RunningSink]
) -> None:
    env = _env(tmp_path, MAILGATE_DELIVERY_PROCESS="inline")
    served = Served.start(env, tmp_path / "serve.log")
    try:
        assert _children(served) == set()
        instance = Instance(served, env)
        await instance.use(sinks[0])
        to = await instance.send()
        await eventually(lambda: sinks[0].sink.received(to), timeout=WAIT, what="the message at the sink")
    finally:
        assert served.stop() == 0
