"""The serve process's side of its delivery child: start it, keep it running, stop it.

The child is restarted (after a pause that grows while it keeps failing) whenever it exits on its
own: a serve process with workers configured is never left without them. On SQLite, where there
is no NOTIFY, every change this process commits is forwarded to the child, and the child's come
back through `on_change`; on PostgreSQL both processes LISTEN themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping

from mailgate.delivery_process.link import (
    Changed,
    Line,
    LinkError,
    MetricsText,
    MetricsWanted,
    read_lines,
    write_line,
)

log = logging.getLogger("mailgate.delivery")

RESTART_FIRST = 1.0  # seconds before the first restart of a child that exited
RESTART_LONGEST = 30.0
HEALTHY_AFTER = 60.0  # a child that ran this long resets the pause
METRICS_WAIT = 2.0  # a scrape waits this long for the child's counters, then goes without them
STOP_MARGIN = 5.0  # beyond the grace period, for the child to release what it holds and exit


class DeliveryProcess:
    """The delivery child of this serve process, with the same methods as an inline `Delivery`."""

    def __init__(self, env: Mapping[str, str], on_change: Callable[[str | None], None]) -> None:
        self._env = dict(env)
        self._on_change = on_change
        self._process: asyncio.subprocess.Process | None = None
        self._supervising: asyncio.Task[None] | None = None
        self._stopping = False
        self._requests = itertools.count(1)
        self._scrapes: dict[int, asyncio.Future[str]] = {}

    def start(self) -> None:
        self._supervising = asyncio.create_task(self._supervise(), name="delivery-child")

    def wake(self) -> None:
        """Nothing to do: the child hears of due messages itself (NOTIFY, or the forwarded commits)."""

    def forward(self, what: str) -> None:
        """Tell the child of a change this process committed (SQLite)."""
        self._send(Changed(what))

    async def exposition(self) -> bytes:
        """The child's counters in the text format; empty while it is down or does not answer."""
        request = next(self._requests)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._scrapes[request] = future
        try:
            if not self._send(MetricsWanted(request)):
                return b""
            async with asyncio.timeout(METRICS_WAIT):
                return (await future).encode()
        except TimeoutError:
            log.warning("the delivery child did not answer a metrics scrape in time")
            return b""
        finally:
            self._scrapes.pop(request, None)

    async def stop(self, grace: float) -> None:
        """SIGTERM to the child, which finishes or releases what it holds within `grace` seconds."""
        self._stopping = True
        process = self._process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(grace + STOP_MARGIN):
                    await process.wait()
            except TimeoutError:
                log.error("the delivery child did not stop in time; killed", extra={"pid": process.pid})
                process.kill()
                await process.wait()
        if self._supervising is not None:
            self._supervising.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervising

    async def close(self) -> None:
        """Nothing left to close once stopped: the child owns its engine and connections."""

    def _send(self, line: Line) -> bool:
        process = self._process
        if process is None or process.returncode is not None or process.stdin is None:
            return False
        return write_line(process.stdin, line)  # not if it stopped reading: it must not grow our memory

    async def _supervise(self) -> None:
        pause = RESTART_FIRST
        loop = asyncio.get_running_loop()
        while not self._stopping:
            started = loop.time()
            code = await self._run_once()
            if self._stopping:
                return
            pause = RESTART_FIRST if loop.time() - started > HEALTHY_AFTER else pause
            log.error(
                "the delivery child exited; starting another",
                extra={"exit_code": code, "restart_in_s": pause},
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, RESTART_LONGEST)

    async def _run_once(self) -> int:
        process = self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mailgate.delivery_process",
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=self._env,
        )
        try:
            await self._read(process)
            return await process.wait()
        finally:
            if process.stdin is not None:
                process.stdin.close()
            for future in self._scrapes.values():
                if not future.done():
                    future.set_result("")  # the scrape goes on without the child's counters

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in read_lines(process.stdout):
            match line:
                case LinkError() as error:
                    log.warning(
                        "a line from the delivery child was not understood", extra={"error": str(error)}
                    )
                case Changed(what):
                    self._on_change(what)
                case MetricsText(request, text):
                    future = self._scrapes.get(request)
                    if future is not None and not future.done():
                        future.set_result(text)
                case MetricsWanted():
                    pass  # only the parent asks
