"""`mailgate serve` in a process of its own for the benchmarks: its settings, its stubs, one instance
per SMTP port it sends to (each with its tokens and active provider), its resident memory, and a
fresh PostgreSQL database when asked for one."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc

from bench._smtp_sink import LOCAL, PASSWORD, SENDER, USER, Certificates
from mailgate.config import Settings
from mailgate.gen.mailgate.v1 import delivery_pb2_grpc
from mailgate.gen.zitadel import admin_pb2 as admin
from mailgate.gen.zitadel import admin_pb2_grpc
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from mailgate.store.tokens import TokenRepository

PG_URL = os.environ.get("MAILGATE_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
Metadata = tuple[tuple[str, str], ...]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("mailgate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mailgate.cli"]


@dataclass
class Instance:
    """One instance of the server: its email.send and iam.write tokens, its active provider."""

    send_auth: Metadata
    admin_auth: Metadata
    provider_id: str = ""


@dataclass
class Mailgate:
    """A running server: its stubs, and an instance per SMTP port it was given."""

    process: subprocess.Popen[bytes]
    log_path: Path
    settings: Settings
    delivery: delivery_pb2_grpc.DeliveryServiceStub
    admin: admin_pb2_grpc.AdminServiceStub  # on a connection of its own
    instances: dict[int, Instance]  # by the SMTP port its provider sends to

    def pids(self) -> list[int]:
        """The serve process and its children (the delivery child), as /proc shows them now."""
        found = [self.process.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # it ended while we looked
            if parent == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def rss(self) -> int:
        """Resident memory in bytes (VmRSS) of the serve process and its delivery child together."""
        total = 0
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total

    def cpu_seconds(self) -> float:
        """CPU time (user and system, all threads) of the serve process and its delivery child."""
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.asynccontextmanager
async def served(
    folder: Path, certs: Certificates, smtp_ports: list[int], database_url: str = ""
) -> AsyncIterator[Mailgate]:
    """`mailgate serve` on SQLite in `folder` (or on `database_url`); instance i sends to
    LOCAL:`smtp_ports[i]`.

    MAILGATE_* settings of this environment apply too (to try other pool sizes or workers)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        MAILGATE_DATA_DIR=str(folder),
        MAILGATE_DATABASE_URL=database_url,
        MAILGATE_GRPC_ADDR=f"{LOCAL}:{free_port()}",
        MAILGATE_HTTP_ADDR=f"{LOCAL}:{free_port()}",
        MAILGATE_LOG_LEVEL="warning",
        MAILGATE_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(),
        MAILGATE_OUTBOUND_ALLOW="127.0.0.0/8",  # the sink is on loopback, refused by default
        MAILGATE_SMTP_CA_FILE=str(certs.ca_file),
        MAILGATE_SMTP_HELO_NAME="client.bench",
    )
    settings = Settings.from_env({key: value for key, value in env.items() if key.startswith("MAILGATE_")})
    instances = await _instances(settings, smtp_ports)
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([*_cli(), "serve"], env=env, stdout=log, stderr=log)
    own = [("grpc.use_local_subchannel_pool", 1)]
    try:
        async with (
            grpc.aio.insecure_channel(settings.grpc_addr, options=own) as channel,
            grpc.aio.insecure_channel(settings.grpc_addr, options=own) as readers,
        ):
            mailgate = Mailgate(
                process,
                log_path,
                settings,
                delivery_pb2_grpc.DeliveryServiceStub(channel),
                admin_pb2_grpc.AdminServiceStub(readers),
                instances,
            )
            await _wait_ready(mailgate)
            for port, instance in instances.items():
                instance.provider_id = await _add_provider(mailgate, instance, port)
            yield mailgate
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _instances(settings: Settings, smtp_ports: list[int]) -> dict[int, Instance]:
    """An instance per port with its two tokens, made here as `mailgate token create` would (and
    migrating the store first, as it does): no process to start for each."""
    db = Database(settings)
    try:
        await migrate(db)
        tokens = TokenRepository(db)
        instances: dict[int, Instance] = {}
        for index, port in enumerate(smtp_ports):
            auth = [
                (("authorization", f"Bearer {(await tokens.create(f'i{index}', permission))[1]}"),)
                for permission in ("email.send", "iam.write")
            ]
            instances[port] = Instance(auth[0], auth[1])
        return instances
    finally:
        await db.close()


async def _wait_ready(mailgate: Mailgate) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            await mailgate.admin.ListEmailProviders(
                admin.ListEmailProvidersRequest(),
                metadata=next(iter(mailgate.instances.values())).admin_auth,
                timeout=1,
            )
            return
        except grpc.aio.AioRpcError:
            if time.monotonic() > deadline or mailgate.process.poll() is not None:
                raise SystemExit(f"mailgate serve did not start:\n{mailgate.log_tail()}") from None
            await asyncio.sleep(0.2)


async def _add_provider(mailgate: Mailgate, instance: Instance, port: int) -> str:
    added = await mailgate.admin.AddEmailProviderSMTP(
        admin.AddEmailProviderSMTPRequest(
            sender_address=SENDER,
            sender_name="Bench",
            tls=True,
            host=f"{LOCAL}:{port}",
            user=USER,
            plain=admin.SMTPPlainAuth(password=PASSWORD),
        ),
        metadata=instance.admin_auth,
    )
    await mailgate.admin.ActivateEmailProvider(
        admin.ActivateEmailProviderRequest(id=added.id), metadata=instance.admin_auth
    )
    return str(added.id)


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new database on PG_URL's server (nothing the tests use), dropped afterwards; its URL."""
    server = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"mailgate_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(server, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(server, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
