"""One notification over a pooled SMTP connection: the conversation's steps (the test email's), the
pool's rules, and the reply class of how the attempt ended.

Several recipients: each RCPT is answered on its own. When every refusal is recipient-permanent
(5.1.x, 5.2.x, 550, ...) and at least one recipient was accepted, the message goes to the accepted
ones, the attempt is DELIVERED and its detail names the refused ones. When any refusal could still
pass later (4xx, a 5.7.x relay denial the next provider may not make), nothing is sent at all and
the attempt takes that refusal's class: the retry goes to every recipient, none of them twice.

When the server's EHLO offers PIPELINING (RFC 2920), the envelope goes in one write: [RSET on a
reused connection], MAIL FROM, RCPT TO and, with one recipient, DATA; then the message. A pooled
message costs 2 round trips rather than 5. With several recipients DATA waits until the RCPT
replies were judged as above. Every reply is recorded at its stage as the sequential steps record
it; without PIPELINING the conversation is sequential, as the test email's always is.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiosmtplib import SMTPResponse

from mailgate.outbox.model import ReplyClass

from .classify import smtp_class, smtp_retry_after
from .compose import PROVIDER_FIELDS, Composed, compose
from .conversation import Cause, Conversation, SmtpClient, StageFailed, Transaction
from .message import MessageTextError
from .pool import Lease, SmtpPool, fingerprint
from .report import Recorder, Stage, enhanced_status
from .sending import AttemptResult, OutgoingEmail, SmtpTarget

# A refusal at these stages can be a clean end of the transaction: the connection may stay (after RSET).
_TRANSACTION = frozenset({Stage.MAIL_FROM, Stage.RCPT_TO, Stage.DATA})
# Which refusal decides an aborted transaction: the one whose class gives the message most hope.
_HOPE = {ReplyClass.PROVIDER_FAULT: 0, ReplyClass.TRANSIENT: 1, ReplyClass.PERMANENT: 2}


@dataclass(frozen=True)
class _Refusal:
    address: str
    code: int
    text: str
    reply_class: ReplyClass

    def describe(self) -> str:
        first = self.text.split("\n", 1)[0]
        return f"{self.address} ({self.code} {first})".rstrip()


class SmtpDelivery:
    """Sends notifications over the pool's connections, one attempt per call."""

    def __init__(self, client: SmtpClient, pool: SmtpPool) -> None:
        self.client = client
        self.pool = pool

    async def send(self, email: OutgoingEmail, target: SmtpTarget, rec: Recorder) -> AttemptResult:
        """One attempt, recorded in `rec`: every failure an AttemptResult."""
        return await _Attempt(self, email, target, rec).run()


def result_of(failed: StageFailed) -> AttemptResult:
    """The attempt's result for a failed stage: its class, and the server's hint when it gave one."""
    report = failed.report
    reply_class = smtp_class(report.stage, failed.cause, report.reply_code, report.enhanced_status_code)
    hint = None
    if reply_class is not ReplyClass.PERMANENT:
        hint = smtp_retry_after(report.reply_code, report.reply_text)
    return AttemptResult(reply_class, report, hint)


def _still_usable(failed: StageFailed, result: AttemptResult) -> bool:
    """True if the connection may carry the next message after this failure: the server refused
    this message's transaction in an orderly reply, for the message's sake, not the connection's
    (a 421 closes it; a provider fault, an expired XOAUTH2 session say, may need a new one)."""
    report = failed.report
    return (
        failed.cause is Cause.REPLY
        and report.stage in _TRANSACTION
        and report.reply_code != 421
        and result.reply_class is not ReplyClass.PROVIDER_FAULT
    )


class _Attempt:
    def __init__(
        self, delivery: SmtpDelivery, email: OutgoingEmail, target: SmtpTarget, rec: Recorder
    ) -> None:
        self.pool = delivery.pool
        self.settings = delivery.client.settings
        self.email = email
        self.target = target
        smtp = target.settings
        self.conv = Conversation(
            delivery.client,
            smtp.host,
            target.auth,
            smtp.user,
            rec,
            secret_from_store=target.auth.secret is not None,
        )
        self.lease: Lease | None = None
        self.healthy = False  # the connection may carry the next message

    async def run(self) -> AttemptResult:
        try:
            composed = self.compose()
            limit = self.settings.delivery_timeout
            return await self.conv.within(limit, "attempt", lambda: self.deliver(composed))
        except StageFailed as failed:
            result = result_of(failed)
            self.healthy = _still_usable(failed, result)
            return result
        finally:
            self.release()

    def compose(self) -> Composed:
        smtp = self.target.settings
        try:
            return compose(self.email, smtp.sender_address, smtp.sender_name, smtp.reply_to_address)
        except MessageTextError as exc:  # nothing is sent
            provider = exc.field in PROVIDER_FIELDS
            stage = Stage.RCPT_TO if exc.field == "to" else Stage.MAIL_FROM if provider else Stage.DATA
            raise self.conv.fail(stage, str(exc), Cause.SENDER if provider else Cause.MESSAGE) from None

    async def deliver(self, composed: Composed) -> AttemptResult:
        conv = self.conv
        outcome = await self.transaction(composed, reset=True) if await self.lease_connection() else None
        if outcome is None:
            await conv.open(self.target.settings.tls)
            outcome = await self.transaction(composed, reset=False)
            assert outcome is not None, "a new connection has no RSET to fail"
        refused, sent = outcome
        if not sent:
            await conv.data(composed.data, "the message")
        self.healthy = True
        detail = ""
        if refused:
            names = "; ".join(refusal.describe() for refusal in refused)
            total = len(composed.recipients)
            detail = f"delivered to {total - len(refused)} of {total} recipients; refused: {names}"
        return AttemptResult(ReplyClass.DELIVERED, conv.rec.report(Stage.DONE, detail))

    async def lease_connection(self) -> bool:
        """A place in the provider's pool (waiting for one); True if it comes with a pooled
        connection, now the conversation's."""
        conv, rec = self.conv, self.conv.rec
        conv.waiting_for = "waiting for a free connection to the provider (MAILGATE_SMTP_POOL_SIZE)"
        lease = self.lease = await self.pool.acquire(self.target.provider_id, fingerprint(self.target))
        conv.waiting_for = ""
        pooled = lease.connection
        if pooled is not None:
            rec.skip_to(Stage.MAIL_FROM)
        if lease.waited >= 0.001:
            rec.note(
                f"waited {lease.waited * 1000:.0f} ms for one of the provider's {lease.size} connections"
            )
        if pooled is None:
            return False
        conv.adopt(pooled)
        rec.note(f"reusing the connection to {pooled.address} (message {pooled.messages + 1} on it)")
        return True

    async def transaction(self, composed: Composed, *, reset: bool) -> tuple[list[_Refusal], bool] | None:
        """The envelope (see `envelope`) judged: the refused recipients when the others may have the
        message, and whether it was sent. None if the pooled connection is gone or its RSET failed:
        it is closed, and the caller opens a new one."""
        conv = self.conv
        envelope = await self.envelope(composed, reset) if not reset or conv.connection.alive else None
        if envelope is None:
            conv.rec.note("the pooled connection is no longer usable: opening a new one")
            conv.connection.abort()
            conv.detach()
            return None
        return self.judge(composed.recipients, envelope.recipients), envelope.sent

    async def envelope(self, composed: Composed, reset: bool) -> Transaction | None:
        """RSET (with `reset`, on a pooled connection), MAIL FROM and RCPT TO: pipelined when the
        server offers it, with DATA and the message too for one recipient. None if the RSET failed."""
        conv = self.conv
        if conv.pipelining:
            conv.connection.messages += 1
            message = composed.data if len(composed.recipients) == 1 else None
            return await conv.pipelined(
                composed.mail_from, composed.smtputf8, composed.recipients, reset=reset, message=message
            )
        if reset and not await self.reset():
            return None
        conv.connection.messages += 1
        await conv.mail_from(composed.mail_from, composed.smtputf8)
        replies = [await self.rcpt_to(address) for address in composed.recipients]
        return Transaction(tuple(replies), sent=False)

    async def reset(self) -> bool:
        """RSET on a pooled connection; False if it failed (the server closed it while it idled)."""
        try:
            await self.conv.rset()
            return True
        except StageFailed:
            return False

    async def rcpt_to(self, address: str) -> SMTPResponse:
        reply = await self.conv.rcpt_to(address, expect=())
        self.readable(reply)
        return reply

    def readable(self, reply: SMTPResponse) -> None:
        """Fail at RCPT_TO for a reply without a valid code (aiosmtplib reads "-1 no" as -1)."""
        if not 0 <= reply.code <= 999:
            detail = f"the server's reply is not valid SMTP: {reply.message}"
            raise self.conv.fail(Stage.RCPT_TO, detail, Cause.UNREADABLE)

    def judge(self, addresses: tuple[str, ...], replies: tuple[SMTPResponse, ...]) -> list[_Refusal]:
        """The refused recipients when the message may still go to the others (see the module);
        raises when it may go to nobody."""
        refused: list[_Refusal] = []
        for address, reply in zip(addresses, replies, strict=True):
            self.readable(reply)
            if reply.code not in (250, 251):
                enhanced = enhanced_status(reply.code, reply.message)
                reply_class = smtp_class(Stage.RCPT_TO, Cause.REPLY, reply.code, enhanced)
                refused.append(_Refusal(address, reply.code, reply.message, reply_class))
        hopeful = any(refusal.reply_class is not ReplyClass.PERMANENT for refusal in refused)
        if refused and (hopeful or len(refused) == len(addresses)):
            deciding = min(refused, key=lambda refusal: _HOPE[refusal.reply_class])
            self.conv.rec.remember(deciding.code, deciding.text)
            names = "; ".join(refusal.describe() for refusal in refused)
            detail = (
                f"the server refused {len(refused)} of {len(addresses)} recipients ({names}); sent to none"
            )
            raise self.conv.fail(Stage.RCPT_TO, detail, Cause.REPLY)
        return refused

    def release(self) -> None:
        connection = self.conv.detach()
        if self.lease is None:
            if connection is not None:
                connection.abort()
            return
        self.pool.release(self.lease, connection, healthy=self.healthy)
