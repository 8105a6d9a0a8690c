"""The change history's cost on writes, and ListEvents' latency over a large history.

Writes: the same provider edits (UpdateEmailProviderSMTP's command, with a description that changes
every time) through ProviderCommands, in alternating rounds on two stores that differ only in
recording: one ProviderRepository records the history (as served), the other is built with
`record_history=False` (a variant only this benchmark builds; the service always records). Each
edit is one transaction either way; recording adds the event row and the chain head's update.

Reads: an instance with 100,000 events (appended in batches of 1,000, as one transaction each),
then ZITADEL's ListEvents handler (store query and Event messages, no transport) called for the
newest page, a filtered page and a page deep in the history; p50 and p99 of each.

    python -m bench history [--writes=N] [--rounds=R] [--events=N] [--postgres=URL]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mailgate.api.zitadel.events import EventsApi
from mailgate.config import Settings
from mailgate.gen.zitadel import admin_pb2 as pb
from mailgate.history.actor import Actor
from mailgate.history.events import SMTP_ADDED, SMTP_CHANGED, Draft, FieldChange
from mailgate.history.service import HistoryLog
from mailgate.pipeline.auth import Principal
from mailgate.pipeline.runner import CallContext
from mailgate.providers.commands import ProviderCommands
from mailgate.providers.inputs import LegacyAuth, SmtpInput
from mailgate.secrets import SecretBox
from mailgate.store import history
from mailgate.store.database import Database
from mailgate.store.migrate import migrate
from mailgate.store.providers import ProviderRepository

GOAL = 0.8  # writes with history >= 0.8x writes without
ACTOR = Actor("bench-token", "bench", "grpc", "127.0.0.1", "0123456789abcdef")


def _option(argv: list[str], name: str, default: str) -> str:
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return default


def _input(n: int) -> SmtpInput:
    return SmtpInput(
        sender_address="noreply@example.com",
        sender_name="Bench",
        host="smtp.example.com:587",
        tls=True,
        user="",
        reply_to_address="",
        description=f"edit {n}",
        auth=LegacyAuth(password=""),
    )


async def _writes(commands: ProviderCommands, instance: str, provider: str, count: int, start: int) -> float:
    began = time.perf_counter()
    for n in range(start, start + count):
        await commands.update_smtp(instance, provider, _input(n), actor=ACTOR)
    return count / (time.perf_counter() - began)


async def _write_bench(db: Database, box: SecretBox, writes: int, rounds: int) -> tuple[float, float]:
    recording = ProviderCommands(ProviderRepository(db), box)
    silent = ProviderCommands(ProviderRepository(db, record_history=False), box)
    ids = {}
    for name, commands in (("with", recording), ("without", silent)):
        _, ids[name] = await commands.add_smtp(f"bench-{name}", _input(0), actor=ACTOR)
    rates: dict[str, list[float]] = {"with": [], "without": []}
    for round_number in range(rounds):
        order = [("with", recording), ("without", silent)]
        if round_number % 2:
            order.reverse()
        for name, commands in order:
            rates[name].append(
                await _writes(commands, f"bench-{name}", ids[name], writes, round_number * writes)
            )
    return statistics.median(rates["with"]), statistics.median(rates["without"])


def _draft(n: int) -> Draft:
    if n % 10 == 0:
        return Draft(
            SMTP_ADDED, str(n), {"id": str(n), "description": "bench", "host": "smtp.example.com:587"}
        )
    change = FieldChange("description", f"edit {n - 1}", f"edit {n}")
    return Draft(
        SMTP_CHANGED, str(n - n % 10), {"id": str(n - n % 10), "description": f"edit {n}"}, (change,)
    )


async def _fill(db: Database, instance: str, events: int) -> None:
    batch = 1000
    for start in range(0, events, batch):
        async with db.write() as conn:
            await history.append(conn, instance, ACTOR, [_draft(n) for n in range(start, start + batch)])


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _read_bench(db: Database, events: int, calls: int) -> dict[str, tuple[float, float]]:
    instance = "bench-read"
    await _fill(db, instance, events)
    api = EventsApi(HistoryLog(db, db.history_bell))
    ctx = CallContext(Principal(instance, frozenset({"events.read"}), "bench"), "ListEvents", "grpc", ACTOR)
    queries = {
        "newest 100": pb.ListEventsRequest(limit=100),
        "type filter, 100": pb.ListEventsRequest(limit=100, event_types=[SMTP_ADDED]),
        "asc from the middle, 100": pb.ListEventsRequest(limit=100, asc=True, sequence=events // 2),
        "newest 1000 (the cap)": pb.ListEventsRequest(),
    }
    results = {}
    for name, request in queries.items():
        samples = []
        for _ in range(calls):
            began = time.perf_counter()
            answer = await api.list_events(request, ctx)
            samples.append((time.perf_counter() - began) * 1000)
            assert answer.events
        results[name] = _percentiles(samples)
    return results


async def _run(argv: list[str]) -> int:
    writes = int(_option(argv, "writes", "300"))
    rounds = int(_option(argv, "rounds", "4"))
    events = int(_option(argv, "events", "100000"))
    calls = int(_option(argv, "calls", "100"))
    postgres = _option(argv, "postgres", "")
    box = SecretBox(b"b" * 32)
    with tempfile.TemporaryDirectory() as folder:
        env = {"MAILGATE_DATA_DIR": str(Path(folder) / "data")}
        if postgres:
            env |= {
                "MAILGATE_DATABASE_URL": postgres,
                "MAILGATE_MASTER_KEY": "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI=",
            }
        db = Database(Settings.from_env(env))
        try:
            await migrate(db)
            store = "PostgreSQL" if postgres else "SQLite"
            with_rate, without_rate = await _write_bench(db, box, writes, rounds)
            ratio = with_rate / without_rate
            print(
                f"history writes ({store}): {with_rate:.0f} provider edits/s with history, "
                f"{without_rate:.0f}/s without: {ratio:.2f}x (goal >= {GOAL}x)"
            )
            for name, (p50, p99) in (await _read_bench(db, events, calls)).items():
                print(
                    f"ListEvents at {events:,} events ({store}), {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms"
                )
        finally:
            await db.close()
    return 0 if ratio >= GOAL else 1


def main(argv: list[str]) -> int:
    return asyncio.run(_run(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
