"""One log line per call, kept off the hot path: every failure, and a sample of the successes.

Under load, a line per successful read costs more than the read itself (and a writer thread that
falls behind would hold every pending line in memory). So successes are logged up to a budget per
second, and the next line after each second says how many were left out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import grpc

log = logging.getLogger("mailgate.calls")

OK_LINES_PER_SECOND = 20
_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class CallLog:
    """Logs calls: all failures, successes up to `ok_per_second`, and a count of those left out."""

    def __init__(
        self, ok_per_second: int = OK_LINES_PER_SECOND, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._budget = ok_per_second
        self._clock = clock  # seconds, for the windows (durations always use perf_counter)
        self._window_end = 0.0
        self._logged_ok = 0
        self._left_out = 0

    def refused(self, target: str, transport: str, code: int, started: float) -> None:
        """Log a request a transport refused before the pipeline ran (no route, wrong method, unreadable,
        too large): `target` is the method, or the path when it names none."""
        self.record(target, transport, None, code, started)

    def record(
        self,
        method: str,
        transport: str,
        instance: str | None,
        code: int,
        started: float,
        request_id: str | None = None,
    ) -> None:
        """Log one finished call that began at `started` (a perf_counter reading)."""
        if not log.isEnabledFor(logging.INFO):
            return
        now = self._clock()
        if now >= self._window_end:
            if self._left_out:
                log.info("successful calls not logged", extra={"count": self._left_out, "seconds": 1})
            self._window_end, self._logged_ok, self._left_out = now + 1.0, 0, 0
        if code == 0:
            if self._logged_ok >= self._budget:
                self._left_out += 1
                return
            self._logged_ok += 1
        log.info(
            "call",
            extra={
                "method": method,
                "transport": transport,
                "instance": instance,
                "code": _CODE_NAMES.get(code, str(code)),
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "request_id": request_id,
            },
        )
