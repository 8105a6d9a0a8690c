"""MG-CONFLICT only for races a retry resolves, and logged; any other integrity violation is a fault.

A schema bug that looked like a race would have clients retry forever while nothing was logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest
from sqlalchemy import Integer, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from mailgate.gen.zitadel import admin_pb2 as pb
from tests.fixtures.rpc import ACTIVE, Admin, smtp_add
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@asynccontextmanager
async def schema_defect(server: RunningServer, backend: str, kind: str) -> AsyncIterator[None]:
    """A constraint the code knows nothing of, limited to the test's instance; removed afterwards."""
    name = f"test_only_{secrets.token_hex(4)}"
    instance = server.instance  # hex: safe inside DDL, which takes no bind parameters
    if kind == "unknown unique index":
        create = (
            f"CREATE UNIQUE INDEX {name} ON email_providers (description) WHERE instance_id = '{instance}'"
        )
        drop = f"DROP INDEX {name}"
    elif backend == "postgres":
        create = (
            f"ALTER TABLE email_providers ADD CONSTRAINT {name} "
            f"CHECK (instance_id <> '{instance}' OR description <> 'forbidden')"
        )
        drop = f"ALTER TABLE email_providers DROP CONSTRAINT {name}"
    else:  # SQLite cannot add a CHECK to a table; a trigger's RAISE is a constraint failure too
        create = (
            f"CREATE TRIGGER {name} BEFORE INSERT ON email_providers "
            f"WHEN NEW.instance_id = '{instance}' AND NEW.description = 'forbidden' "
            "BEGIN SELECT RAISE(ABORT, 'description is forbidden'); END"
        )
        drop = f"DROP TRIGGER {name}"
    async with server.services.db.engine.begin() as conn:
        await conn.execute(text(create))
    try:
        yield
    finally:
        async with server.services.db.engine.begin() as conn:
            await conn.execute(text(drop))


@pytest.mark.parametrize("kind", ["unknown unique index", "check constraint"])
async def test_an_integrity_violation_that_is_no_race_is_an_internal_fault(
    admin: Admin, server: RunningServer, backend: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with schema_defect(server, backend, kind):
        first = await admin.add_smtp(description="forbidden" if kind == "unknown unique index" else "allowed")
        with caplog.at_level(logging.INFO, logger="mailgate"):
            failed = await admin.fail(
                "AddEmailProviderSMTP",
                smtp_add(description="forbidden", sender_name="Ursula Unlogged", host="leak.example:587"),
            )

    assert failed.code == grpc.StatusCode.INTERNAL, failed.message
    found = re.fullmatch(r"internal error \(correlation id ([0-9a-f]{16})\)", failed.message)
    assert found, failed.message
    logged = [r for r in caplog.records if getattr(r, "correlation_id", None) == found.group(1)]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert getattr(logged[0], "method", None) == "AddEmailProviderSMTP"
    # The traceback names the failed statement, never the values bound to it.
    assert "Ursula Unlogged" not in caplog.text and "leak.example" not in caplog.text
    assert "INSERT INTO email_providers" in caplog.text  # what failed is still there
    assert not [r for r in caplog.records if r.getMessage().startswith("conflict")]
    assert [p.id for p in (await admin.listing()).result] == [first]


async def _blocked_by(conn: AsyncConnection, pid: int) -> None:
    """Return once some other backend waits for a lock that `pid`'s transaction holds."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    while True:
        blocked = await conn.scalar(query.bindparams(bindparam("pid", type_=Integer)), {"pid": pid})
        await conn.rollback()  # pg_stat_activity is a snapshot per transaction: take a new one
        if blocked:
            return
        await asyncio.sleep(0.01)


async def test_a_lost_activation_race_is_a_logged_conflict_that_a_retry_resolves(
    admin: Admin, server: RunningServer, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite takes the write lock before reading: activations cannot race there")
    mine = await admin.add_smtp(description="mine")
    theirs = await admin.add_smtp(description="theirs")
    engine = server.services.db.engine
    # Another writer (an operator's session, an older replica) activates `theirs` without taking the
    # instance's row lock; its transaction is still open when mailgate activates `mine`.
    async with engine.connect() as other, engine.connect() as watcher:
        await other.begin()
        pid = await other.scalar(text("SELECT pg_backend_pid()"))
        await other.execute(
            text("UPDATE email_providers SET state = 1 WHERE instance_id = :instance AND id = :id"),
            {"instance": server.instance, "id": theirs},
        )
        with caplog.at_level(logging.INFO, logger="mailgate"):
            activation = asyncio.create_task(
                admin.fail("ActivateEmailProvider", pb.ActivateEmailProviderRequest(id=mine))
            )
            await _blocked_by(watcher, int(pid))  # mailgate waits on the one-active index entry
            await other.commit()
            failed = await activation

    assert failed.is_zitadel(grpc.StatusCode.ABORTED, "MG-CONFLICT"), failed.message
    conflicts = [r for r in caplog.records if r.getMessage().startswith("conflict")]
    assert len(conflicts) == 1 and conflicts[0].levelno == logging.WARNING
    assert getattr(conflicts[0], "reason", None) == "one_active_provider_per_instance"
    assert getattr(conflicts[0], "method", None) == "ActivateEmailProvider"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The retry the error asks for succeeds, and one provider stays active.
    await admin.activate(mine)
    assert [p.id for p in (await admin.listing()).result if p.state == ACTIVE] == [mine]
