"""`mailgate history verify`: an intact chain passes; an edited, a deleted or a dropped newest event
is reported at the first broken link (exit 1); retention's deletions keep the chain verifiable from
its anchor."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, update

from mailgate.store import history as rows
from mailgate.store.clock import now_us
from mailgate.store.tables import history_events
from tests.fixtures.database import TEST_KEY
from tests.fixtures.processes import clean_env, run_cli
from tests.fixtures.rpc import Admin, caller
from tests.fixtures.servers import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _env(server: RunningServer) -> dict[str, str]:
    settings = server.services.settings
    env = clean_env(MAILGATE_DATA_DIR=str(settings.data_dir))
    if settings.uses_postgres:
        env["MAILGATE_DATABASE_URL"] = settings.database_url
        env["MAILGATE_MASTER_KEY"] = TEST_KEY
    return env


async def _verify(server: RunningServer, instance: str) -> tuple[int, str]:
    done = await asyncio.to_thread(run_cli, ["history", "verify", "--instance", instance], _env(server))
    return done.returncode, done.stdout.strip()


async def _history_of_four(server: RunningServer) -> tuple[Admin, str]:
    instance = server.for_new_instance("verify").instance
    admin = await caller(server, "iam.write", instance)
    for n in range(3):
        await admin.add_smtp(description=f"p{n}")
    await admin.activate(await admin.add_smtp(description="last"))  # the token's 1, then 2 to 6
    return admin, instance


async def _edit(server: RunningServer, statement: object) -> None:
    async with server.services.db.write() as conn:
        await conn.execute(statement)  # type: ignore[arg-type]


async def test_an_intact_chain_passes(server: RunningServer) -> None:
    _, instance = await _history_of_four(server)

    code, out = await _verify(server, instance)

    assert code == 0, out
    assert out == f"instance {instance}: 6 events intact from the first event to 6"


async def test_an_edited_event_is_reported_where_it_is(server: RunningServer) -> None:
    _, instance = await _history_of_four(server)
    where = (history_events.c.instance_id == instance) & (history_events.c.sequence == 2)
    await _edit(server, update(history_events).where(where).values(payload={"id": "someone-else"}))

    code, out = await _verify(server, instance)

    assert code == 1
    assert out == f"instance {instance}: broken at event 2: its content does not match its hash (edited)"


async def test_a_deleted_event_is_reported_where_it_was(server: RunningServer) -> None:
    _, instance = await _history_of_four(server)
    where = (history_events.c.instance_id == instance) & (history_events.c.sequence == 3)
    await _edit(server, delete(history_events).where(where))

    code, out = await _verify(server, instance)

    assert code == 1
    assert out == f"instance {instance}: broken at event 3: event 3 is missing (the next kept is 4)"


async def test_a_deleted_newest_event_is_reported_against_the_head(server: RunningServer) -> None:
    _, instance = await _history_of_four(server)
    where = (history_events.c.instance_id == instance) & (history_events.c.sequence == 6)
    await _edit(server, delete(history_events).where(where))

    code, out = await _verify(server, instance)

    assert code == 1
    assert "broken at event 6: events 6 to 6 are missing" in out


async def test_retention_deletes_old_events_and_the_chain_verifies_from_its_anchor(
    server: RunningServer,
) -> None:
    _, instance = await _history_of_four(server)
    async with server.services.db.write() as conn:
        deleted = await rows.delete_before(conn, instance, now_us() + 1, limit=2)

    code, out = await _verify(server, instance)

    assert deleted == 2
    assert code == 0, out
    assert out == f"instance {instance}: 4 events intact after the anchor 2 to 6"
