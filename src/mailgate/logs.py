"""Structured logs: one JSON object per line on stderr."""

from __future__ import annotations

import atexit
import copy
import json
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "taskName", "exc_text"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, default=str)


class _Enqueue(logging.handlers.QueueHandler):
    """Hands records to the writer thread with their message and traceback already turned to text.

    The queue is bounded: when the writer falls behind, lines are dropped rather than held in
    memory or waited for, and the next line that fits is preceded by one counting them.
    """

    def __init__(self, lines: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(lines)
        self.dropped = 0  # since the last report; emit() runs under the handler's lock

    def enqueue(self, record: logging.LogRecord) -> None:
        if self.dropped:
            if not self._offer(_dropped_line(self.dropped)):
                self.dropped += 1
                return
            self.dropped = 0
        if not self._offer(record):
            self.dropped += 1

    def _offer(self, record: logging.LogRecord) -> bool:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            return False
        return True

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record


def _dropped_line(count: int) -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": "mailgate.logs",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "log lines dropped",
            "count": count,
        }
    )


QUEUE_LINES = 10_000
_listener: logging.handlers.QueueListener | None = None


def configure(level: str) -> None:
    """Send every mailgate log line to stderr as JSON, written by a background thread.

    Formatting and writing happen off the event loop; a slow stderr never blocks a call.
    """
    global _listener
    stop()
    output = logging.StreamHandler(sys.stderr)
    output.setFormatter(JsonFormatter())
    lines: queue.Queue[logging.LogRecord] = queue.Queue(maxsize=QUEUE_LINES)
    _listener = logging.handlers.QueueListener(lines, output, respect_handler_level=False)
    _listener.start()
    atexit.unregister(stop)
    atexit.register(stop)
    root = logging.getLogger()
    root.handlers[:] = [_Enqueue(lines)]
    root.setLevel(logging.WARNING)
    logging.getLogger("mailgate").setLevel(level)


def stop() -> None:
    """Write every line still queued, then stop the writer thread (at exit, and before reconfiguring)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None
