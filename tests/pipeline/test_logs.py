"""The log queue: when stderr cannot keep up, lines are dropped, never held, and the log says how many."""

from __future__ import annotations

import logging

from mailgate import logs
from tests.pipeline.conftest import Stderr

LOST = 7


def test_lines_beyond_the_queue_are_dropped_and_the_next_line_counts_them(stderr: Stderr) -> None:
    log = logging.getLogger("mailgate.test")
    stderr.open.clear()
    log.info("first")
    assert stderr.held.wait(30)  # the writer thread took "first" and is stuck writing it
    for n in range(logs.QUEUE_LINES):
        log.info("queued %d", n)  # fills the queue exactly
    for n in range(LOST):
        log.info("lost %d", n)  # returns at once: the queue is full
    stderr.open.set()
    assert stderr.wait_lines(1 + logs.QUEUE_LINES)
    log.warning("after")
    logs.stop()

    lines = stderr.lines()
    assert [line["msg"] for line in lines[: 1 + logs.QUEUE_LINES]] == [
        "first",
        *(f"queued {n}" for n in range(logs.QUEUE_LINES)),
    ]
    report, after = lines[1 + logs.QUEUE_LINES :]
    assert (report["level"], report["logger"], report["msg"], report["count"]) == (
        "warning",
        "mailgate.logs",
        "log lines dropped",
        LOST,
    )
    assert after["msg"] == "after"


def test_a_log_that_keeps_up_drops_nothing(stderr: Stderr) -> None:
    log = logging.getLogger("mailgate.test")
    for n in range(100):
        log.info("line %d", n, extra={"n": n})
    logs.stop()

    assert [(line["msg"], line["n"]) for line in stderr.lines()] == [(f"line {n}", n) for n in range(100)]
