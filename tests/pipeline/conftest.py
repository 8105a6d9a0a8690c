"""mailgate's real log output (logs.configure) written to a stderr the test reads and can hold."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mailgate import logs


class Stderr(io.StringIO):
    """A stderr whose writes can be held, as a pipe nobody reads holds them."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.open.set()
        self.held = threading.Event()  # a write is waiting for `open`
        self._written = threading.Condition()
        self._line_count = 0

    def write(self, text: str) -> int:
        if not self.open.is_set():
            self.held.set()
            self.open.wait()
        with self._written:
            written = super().write(text)
            self._line_count += text.count("\n")
            self._written.notify_all()
        return written

    def wait_lines(self, count: int, timeout: float = 30) -> bool:
        """Whether `count` lines have been written within `timeout` seconds."""
        with self._written:
            return self._written.wait_for(lambda: self._line_count >= count, timeout)

    def lines(self) -> list[dict[str, Any]]:
        """Every line written so far, parsed: what a reader of the log sees."""
        return [json.loads(line) for line in self.getvalue().splitlines()]


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stderr]:
    """mailgate's logging configured as `mailgate serve` does it, onto a Stderr; undone afterwards."""
    stream = Stderr()
    monkeypatch.setattr(sys, "stderr", stream)
    root, ours = logging.getLogger(), logging.getLogger("mailgate")
    levels = root.level, ours.level
    logs.configure("INFO")
    handler = root.handlers[0]
    try:
        yield stream
    finally:
        stream.open.set()
        logs.stop()
        root.removeHandler(handler)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])
