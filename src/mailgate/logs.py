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

    The queue is bounded: when the writer falls behind, lines are dropped (and counted) rather
    than held in memory or waited for.
    """

    dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            _Enqueue.dropped += 1

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record


QUEUE_LINES = 10_000
_listener: logging.handlers.QueueListener | None = None


def configure(level: str) -> None:
    """Send every mailgate log line to stderr as JSON, written by a background thread.

    Formatting and writing happen off the event loop; a slow stderr never blocks a call.
    """
    global _listener
    if _listener is not None:
        _listener.stop()
    output = logging.StreamHandler(sys.stderr)
    output.setFormatter(JsonFormatter())
    _listener = logging.handlers.QueueListener(
        queue.Queue(maxsize=QUEUE_LINES), output, respect_handler_level=False
    )
    _listener.start()
    atexit.register(_listener.stop)
    root = logging.getLogger()
    root.handlers[:] = [_Enqueue(_listener.queue)]
    root.setLevel(logging.WARNING)
    logging.getLogger("mailgate").setLevel(level)
