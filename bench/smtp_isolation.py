"""Latency isolation: GetEmailProviderById p99 while 100 test emails hang on a silent SMTP server.

A mailgate server runs as its own process (with the test rate limit raised through its settings);
this process plays both the client and an SMTP server that accepts connections and never answers.
Prints p99 under that load divided by p99 idle; the goal is at most 2.0.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.gen.zitadel import admin_pb2_grpc

GOAL = 2.0
HANGING_TESTS = 100
READS = 3000
READ_CONCURRENCY = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def silent_smtp_server() -> tuple[asyncio.Server, int]:
    """Accepts TCP connections and never sends a greeting."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def start_mailgate(data_dir: Path, grpc_port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ)
    env.update(
        MAILGATE_DATA_DIR=str(data_dir),
        MAILGATE_GRPC_ADDR=f"127.0.0.1:{grpc_port}",
        MAILGATE_HTTP_ADDR=f"127.0.0.1:{free_port()}",
        MAILGATE_LOG_LEVEL="warning",
        MAILGATE_TEST_RATE="100000",
        MAILGATE_TEST_BURST="1000",
        MAILGATE_SMTP_COMMAND_TIMEOUT="120",
        MAILGATE_SMTP_TEST_TIMEOUT="120",
        MAILGATE_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
        # The SMTP servers it tests against listen on loopback, which the policy refuses by default.
        MAILGATE_OUTBOUND_ALLOW="127.0.0.0/8",
    )
    cli = [sys.executable, "-m", "mailgate.cli"]
    made = subprocess.run(
        [*cli, "token", "create", "--permission", "iam.write"], env=env, capture_output=True, check=True
    )
    token = made.stdout.decode().strip().splitlines()[-1]
    server = subprocess.Popen([*cli, "serve"], env=env)
    return server, token


async def wait_ready(stub: admin_pb2_grpc.AdminServiceStub, auth: list[tuple[str, str]]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            await stub.ListEmailProviders(pb.ListEmailProvidersRequest(), metadata=auth, timeout=1)
            return
        except grpc.aio.AioRpcError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def read_latencies(
    stub: admin_pb2_grpc.AdminServiceStub, auth: list[tuple[str, str]], provider_id: str
) -> list[float]:
    """READS reads from READ_CONCURRENCY workers; every one must succeed."""
    latencies: list[float] = []
    request = pb.GetEmailProviderByIdRequest(id=provider_id)

    async def worker(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await stub.GetEmailProviderById(request, metadata=auth)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(READS // READ_CONCURRENCY) for _ in range(READ_CONCURRENCY)))
    return latencies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def measure() -> float:
    smtp, smtp_port = await silent_smtp_server()
    grpc_port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        process, token = start_mailgate(Path(data_dir), grpc_port)
        try:
            # The hanging tests come from other clients, on a connection of their own: one HTTP/2
            # connection carries at most MAILGATE_GRPC_MAX_STREAMS calls at once.
            own = [("grpc.use_local_subchannel_pool", 1)]
            target = f"127.0.0.1:{grpc_port}"
            async with (
                grpc.aio.insecure_channel(target, options=own) as channel,
                grpc.aio.insecure_channel(target, options=own) as testers_channel,
            ):
                stub = admin_pb2_grpc.AdminServiceStub(channel)
                testers = admin_pb2_grpc.AdminServiceStub(testers_channel)
                auth = [("authorization", f"Bearer {token}")]
                await wait_ready(stub, auth)
                added = await stub.AddEmailProviderSMTP(
                    pb.AddEmailProviderSMTPRequest(
                        sender_address="bench@example.com", sender_name="bench", host=f"127.0.0.1:{smtp_port}"
                    ),
                    metadata=auth,
                )
                await read_latencies(stub, auth, added.id)  # warm up
                idle = p99(await read_latencies(stub, auth, added.id))
                hanging = [
                    asyncio.ensure_future(
                        testers.TestEmailProviderSMTPById(
                            pb.TestEmailProviderSMTPByIdRequest(
                                id=added.id, receiver_address="to@example.com"
                            ),
                            metadata=auth,
                        )
                    )
                    for _ in range(HANGING_TESTS)
                ]
                await asyncio.sleep(1.0)  # let every test reach the silent server
                pending = sum(not call.done() for call in hanging)
                loaded = p99(await read_latencies(stub, auth, added.id))
                for call in hanging:
                    call.cancel()
        finally:
            process.terminate()
            process.wait(timeout=30)
            smtp.close()
    ratio = loaded / idle
    print(f"smtp_isolation: {pending}/{HANGING_TESTS} test emails hanging during the loaded run")
    print(
        f"smtp_isolation: GetEmailProviderById p99 idle {idle * 1000:.2f} ms, loaded {loaded * 1000:.2f} ms"
    )
    print(f"smtp_isolation: ratio loaded/idle = {ratio:.2f} (goal <= {GOAL})")
    if pending < HANGING_TESTS:
        raise SystemExit("smtp_isolation: some test emails did not hang; the load was not applied")
    return ratio


def run() -> bool:
    """Run the benchmark; True when the ratio meets the goal."""
    return asyncio.run(measure()) <= GOAL


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
