"""Group commit of outcomes: attempts that end together are recorded in one transaction.

Each caller waits for its own outcome's result. While one transaction is being written the next
outcomes gather, so under load each commit carries many and the database (SQLite's single writer
above all) is not the bottleneck; when idle, an outcome is written at once, alone. A batch that
fails is retried one outcome at a time, so one bad row cannot hold back the others.
"""

from __future__ import annotations

import asyncio

from mailgate.store.leases import LeaseStore, Outcome, Recorded

MAX_BATCH = 100


class Recorder:
    """Records `worker`'s outcomes through `leases`, batching those that arrive together."""

    def __init__(self, leases: LeaseStore, worker: str, max_batch: int = MAX_BATCH) -> None:
        self._leases = leases
        self._worker = worker
        self._max = max_batch
        self._pending: list[tuple[Outcome, asyncio.Future[Recorded | None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, outcome: Outcome) -> Recorded | None:
        """The outcome written (None: its lease was lost, nothing was written)."""
        future: asyncio.Future[Recorded | None] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="outbox-recorder")
        # Shielded: an attempt stopped while its outcome is being written still has it written.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max], self._pending[self._max :]
            try:
                results = await self._write([outcome for outcome, _ in batch])
            except BaseException:  # cancelled with the event loop: no caller may wait for ever
                for _, future in batch + self._pending:
                    future.cancel()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _write(self, outcomes: list[Outcome]) -> list[Recorded | BaseException | None]:
        try:
            return list(await self._leases.record_all(self._worker, outcomes))
        except Exception as exc:
            if len(outcomes) == 1:
                return [exc]
        results: list[Recorded | BaseException | None] = []
        for outcome in outcomes:
            try:
                results.extend(await self._leases.record_all(self._worker, [outcome]))
            except Exception as exc:  # this outcome's caller logs it; its lease ends, it is retried
                results.append(exc)
        return results
