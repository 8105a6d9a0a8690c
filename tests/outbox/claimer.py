"""A claimer in a process of its own, driven line by line over stdin, for races and deaths.

`python -m tests.outbox.claimer <worker>` with the MAILGATE_* store settings in its environment;
each stdin line `claim <limit> <now_us> <lease_us>` prints the claimed messages' ids as one JSON
line. It never releases anything: killing it is a replica dying with its claims.
"""

from __future__ import annotations

import asyncio
import json
import sys

from mailgate.config import Settings
from mailgate.store.database import Database
from mailgate.store.leases import LeaseStore


async def main(worker: str) -> None:
    db = Database(Settings.from_env())
    leases = LeaseStore(db)
    loop = asyncio.get_running_loop()
    print(json.dumps("ready"), flush=True)
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        _, limit, now_us, lease_us = line.split()
        claimed = await leases.claim(worker, int(limit), int(now_us), int(lease_us))
        print(json.dumps([message.id for message in claimed]), flush=True)
    await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
