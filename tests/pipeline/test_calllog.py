"""The call log as its reader sees it: every failure, 20 successes a second, then a count of the rest.

The call log's clock is the test's, so the one-second windows are stepped through, not waited for.
"""

from __future__ import annotations

import time
from typing import Any

from mailgate import logs
from mailgate.pipeline.calllog import CallLog
from tests.pipeline.conftest import Stderr

BUDGET = 20  # the README's "successful calls up to 20 a second"
GET, ADD, LIST = "GetEmailProviderById", "AddEmailProviderSMTP", "ListEmailProviders"
OK, INVALID_ARGUMENT, UNAUTHENTICATED = 0, 3, 16


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def _seen(lines: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each line as (msg, method, code) for calls and (msg, count, seconds) for counts."""
    seen: list[tuple[Any, ...]] = []
    for line in lines:
        assert line["logger"] == "mailgate.calls" and line["level"] == "info", line
        if line["msg"] == "call":
            assert isinstance(line["ms"], float | int) and line["ms"] >= 0, line
            seen.append((line["msg"], line["method"], line["code"]))
        else:
            seen.append((line["msg"], line["count"], line["seconds"]))
    return seen


def test_failures_always_successes_up_to_the_budget_then_how_many_were_left_out(stderr: Stderr) -> None:
    clock = Clock()
    calls = CallLog(clock=clock)
    started = time.perf_counter()
    for _ in range(BUDGET + 5):
        calls.record(GET, "grpc", "acme", OK, started)
    calls.record(ADD, "http", "acme", INVALID_ARGUMENT, started)  # past the budget, still logged
    calls.record(LIST, "grpc-web", None, UNAUTHENTICATED, started)
    clock.now += 1.0  # the first second is over
    calls.record(GET, "grpc", "acme", OK, started)
    clock.now += 0.5
    for _ in range(BUDGET - 1):
        calls.record(LIST, "connect", "acme", OK, started)  # the new second's budget, in full
    clock.now += 0.6
    calls.record(GET, "grpc", "acme", OK, started)  # nothing was left out in the second before
    logs.stop()

    assert _seen(stderr.lines()) == [
        *[("call", GET, "OK")] * BUDGET,
        ("call", ADD, "INVALID_ARGUMENT"),
        ("call", LIST, "UNAUTHENTICATED"),
        ("successful calls not logged", 5, 1),
        ("call", GET, "OK"),
        *[("call", LIST, "OK")] * (BUDGET - 1),
        ("call", GET, "OK"),
    ]


def test_a_call_line_names_the_call(stderr: Stderr) -> None:
    CallLog(clock=Clock()).record(ADD, "http", "acme", INVALID_ARGUMENT, time.perf_counter())
    logs.stop()

    [line] = stderr.lines()
    assert {key: line[key] for key in ("msg", "method", "transport", "instance", "code")} == {
        "msg": "call",
        "method": ADD,
        "transport": "http",
        "instance": "acme",
        "code": "INVALID_ARGUMENT",
    }
