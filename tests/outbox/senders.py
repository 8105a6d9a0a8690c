"""A scripted delivery engine: the `Sender` contract, answering as each test says.

The real engine (SMTP pool, HTTP provider) has its own tests against real servers; these tests
are about what the workers do with each kind of answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from mailgate.delivery.report import Stage, TestReport
from mailgate.delivery.sending import AttemptResult, DeliveryTarget, OutgoingEmail
from mailgate.outbox.model import ReplyClass

Plan = Callable[[OutgoingEmail, DeliveryTarget], ReplyClass | AttemptResult]

_STAGES = {
    ReplyClass.DELIVERED: (Stage.DONE, 250, "2.0.0 Ok: queued"),
    ReplyClass.PERMANENT: (Stage.RCPT_TO, 550, "5.1.1 No such mailbox"),
    ReplyClass.PROVIDER_FAULT: (Stage.AUTH, 535, "5.7.8 Authentication credentials invalid"),
    ReplyClass.TRANSIENT: (Stage.DATA, 451, "4.3.0 Try again later"),
}


def result(reply_class: ReplyClass, retry_after: float | None = None) -> AttemptResult:
    stage, code, text = _STAGES[reply_class]
    report = TestReport(
        stage=stage, reply_code=code, enhanced_status_code=text.split()[0], reply_text=text, elapsed_ms=3
    )
    return AttemptResult(reply_class, report, retry_after)


@dataclass
class Sent:
    email: OutgoingEmail
    target: DeliveryTarget


@dataclass
class ScriptedSender:
    """Answers each attempt with `plan(email, target)`; while `gate` is clear, attempts wait for it."""

    plan: Plan = lambda _email, _target: ReplyClass.DELIVERED
    gate: asyncio.Event | None = None
    calls: list[Sent] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)  # set when an attempt begins
    cancelled: int = 0
    closed: bool = False

    async def send(self, email: OutgoingEmail, target: DeliveryTarget) -> AttemptResult:
        self.calls.append(Sent(email, target))
        self.started.set()
        if self.gate is not None:
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        answer = self.plan(email, target)
        return answer if isinstance(answer, AttemptResult) else result(answer)

    async def close(self) -> None:
        self.closed = True

    def providers(self) -> list[str]:
        return [sent.target.provider_id for sent in self.calls]
