"""A `mailgate serve` killed with SIGKILL in the middle of a load of writes: afterwards every
provider change has its event and every event its change, one to one (they commit in one
transaction), and each instance's chain verifies."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from mailgate.config import Settings
from mailgate.gen.zitadel import admin_pb2_grpc
from mailgate.store.database import Database
from mailgate.store.tables import history_events, providers
from tests.fixtures.database import TEST_KEY, fresh_database
from tests.fixtures.processes import Served, clean_env, create_token, run_cli
from tests.fixtures.rpc import smtp_add, smtp_update

WRITERS = 4
LOAD_SECONDS = 1.5


def _load(target: str, token: str, stop: threading.Event, acked: list[tuple[str, str]]) -> None:
    """Add a provider, then edit it again and again, until the server dies; acknowledged writes
    are kept as (provider id, description)."""
    metadata = (("authorization", f"Bearer {token}"),)
    with grpc.insecure_channel(target) as channel:
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        try:
            provider = stub.AddEmailProviderSMTP(smtp_add(description="v0"), metadata=metadata, timeout=5).id
            acked.append((provider, "v0"))
            n = 0
            while not stop.is_set() or n < 3:
                n += 1
                stub.UpdateEmailProviderSMTP(
                    smtp_update(provider, description=f"v{n}"), metadata=metadata, timeout=5
                )
                acked.append((provider, f"v{n}"))
        except grpc.RpcError:
            return  # the server is gone


async def _stored(env: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str, dict[str, str]]]]:
    db = Database(Settings.from_env(env))
    try:
        async with db.read() as conn:
            rows = (await conn.execute(select(providers.c.id, providers.c.description))).all()
            events = (
                await conn.execute(
                    select(history_events.c.type, history_events.c.provider_id, history_events.c.payload)
                    .where(history_events.c.type.like("instance.%"))
                    .order_by(history_events.c.sequence)
                )
            ).all()
    finally:
        await db.close()
    return {row[0]: row[1] for row in rows}, [(e[0], e[1], dict(e[2])) for e in events]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kill_9_mid_load_leaves_changes_and_events_one_to_one(backend: str, tmp_path: Path) -> None:
    with fresh_database() if backend == "postgres" else contextlib.nullcontext("") as url:
        env = clean_env(MAILGATE_DATA_DIR=str(tmp_path / "data"), MAILGATE_DELIVERY_WORKERS="0")
        if url:
            env |= {"MAILGATE_DATABASE_URL": url, "MAILGATE_MASTER_KEY": TEST_KEY}
        token = create_token(env)
        served = Served.start(env, tmp_path / "serve.log")
        stop = threading.Event()
        acked: list[tuple[str, str]] = []
        writers = [
            threading.Thread(target=_load, args=(served.target, token, stop, acked)) for _ in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        time.sleep(LOAD_SECONDS)
        stop.set()
        served.process.kill()  # SIGKILL: no drain, no shutdown, writes cut off mid-flight
        served.process.wait()
        for writer in writers:
            writer.join(10)

        stored, events = asyncio.run(_stored(env))
        verified = run_cli(["history", "verify"], env)

    assert len(acked) > WRITERS  # the load was running when the server died
    # Every provider has its added event and each added event its provider.
    added = [provider for kind, provider, _ in events if kind == "instance.smtp.config.added"]
    assert sorted(added) == sorted(stored)
    # Each provider's last recorded description is the one stored: no change without its event.
    last: dict[str, str] = {}
    for _, provider, payload in events:
        last[provider] = payload.get("description", last.get(provider, ""))
    assert last == stored
    # Every acknowledged edit is stored and has its event.
    described = {
        (provider, payload["description"]) for _, provider, payload in events if "description" in payload
    }
    assert set(acked) <= described
    assert verified.returncode == 0, verified.stdout + verified.stderr
