"""The delivery workers of one process: claim due messages, send each through the engine, record.

One loop claims as many messages as there are free slots (`concurrency` attempts at once) and runs
each as a task; it wakes when a message is enqueued here (`wake`), when another replica announces
one (NOTIFY on PostgreSQL, wired in app.py), and otherwise every poll interval; a freed slot
starts a message claimed ahead, and claims again only when the last claim was full.
A keeper renews the leases of the messages held, every third of a lease; an attempt whose lease
was lost anyway (another replica took the message over) is cancelled, and records nothing. On
stop nothing more is claimed, attempts in flight get the grace period to finish, and whatever is
still held is released, due at once for another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mailgate.config import Settings
from mailgate.delivery.report import Stage, TestReport
from mailgate.delivery.sending import AttemptResult, OutgoingEmail, Sender
from mailgate.outbox import breaker
from mailgate.outbox.breaker import BreakerPolicy, BreakerState, Health
from mailgate.outbox.failover import Route, Router, Wait
from mailgate.outbox.metrics import DeliveryMetrics
from mailgate.outbox.model import MessageState, ReplyClass
from mailgate.outbox.recorder import Recorder
from mailgate.outbox.schedule import Next, Schedule
from mailgate.outbox.sealing import SUBJECT, MessageSecrets
from mailgate.outbox.targets import Targets
from mailgate.secrets import SecretBox, SecretError
from mailgate.store.attempts import attempt_row
from mailgate.store.clock import now_us
from mailgate.store.faults import outage
from mailgate.store.leases import BreakerChange, Claimed, Key, LeaseStore, Outcome

log = logging.getLogger("mailgate.delivery")

_US = 1_000_000
NO_PROVIDER_WAIT = 30.0  # seconds a message of an instance without any provider waits between looks
GONE_WAIT = 1.0  # a provider removed while its message was being routed: route again soon
CLAIM_BACKOFF_MAX = 30.0  # longest pause between claims while the database fails


def worker_name() -> str:
    """A name no other worker has or had: host and pid for people, random bits for uniqueness."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int
    lease: float  # seconds
    poll_interval: float  # seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        return cls(settings.delivery_workers, settings.delivery_lease, settings.delivery_poll_interval)

    @property
    def lease_us(self) -> int:
        return round(self.lease * _US)


@dataclass
class _Held:
    """A message this worker holds: waiting for a free slot (no task yet), or being delivered."""

    message: Claimed
    task: asyncio.Task[None] | None = None
    cancellable: bool = True  # until its outcome is being recorded


class DeliveryWorker:
    """Delivers the outbox's due messages, `config.concurrency` at a time.

    Up to as many again are claimed ahead (their leases renewed like the others), so a freed slot
    starts the next message without a claim in between, and claims come in batches.
    """

    def __init__(
        self,
        leases: LeaseStore,
        router: Router,
        targets: Targets,
        sender: Sender,
        schedule: Schedule,
        policy: BreakerPolicy,
        box: SecretBox,
        config: WorkerConfig,
        metrics: DeliveryMetrics | None = None,
        *,
        clock: Callable[[], int] = now_us,
        name: str | None = None,
    ) -> None:
        self.name = name or worker_name()
        self._leases = leases
        self._recorder = Recorder(leases, self.name)
        self._router = router
        self._targets = targets
        self._sender = sender
        self._schedule = schedule
        self._policy = policy
        self._box = box
        self._config = config
        self._metrics = metrics
        self._clock = clock
        self._held: dict[Key, _Held] = {}
        self._ready: deque[_Held] = deque()  # claimed, not started
        self._running = 0
        self._nudge = asyncio.Event()  # the loop has something to do: a wake, a freed slot, stop
        self._look = True  # something may be due: claim at the next chance
        self._stopping = False
        self._loop: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        """Attempts being made now."""
        return self._running

    @property
    def held(self) -> int:
        """Messages claimed: in flight and waiting for a slot."""
        return len(self._held)

    def wake(self) -> None:
        """Look for due messages now (a message was enqueued or announced)."""
        self._look = True
        self._nudge.set()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name=f"delivery-worker {self.name}")
        self._keeper = asyncio.create_task(self._keep_leases(), name=f"delivery-leases {self.name}")
        log.info(
            "delivery workers started",
            extra={
                "worker": self.name,
                "concurrency": self._config.concurrency,
                "lease_s": self._config.lease,
            },
        )

    async def stop(self, grace: float) -> None:
        """Claim and start nothing more; let attempts in flight finish within `grace` seconds;
        release the rest, including what was claimed but not started."""
        self._stopping = True
        self._nudge.set()
        if self._loop is not None:
            await self._loop
        self._ready.clear()
        tasks = [held.task for held in self._held.values() if held.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        self._held.clear()
        try:
            released = await self._leases.release(self.name, self._clock())
        except Exception as exc:  # their leases end on their own; another replica takes them then
            log.warning("delivery workers could not release their messages", extra={"error": _describe(exc)})
            return
        log.info("delivery workers stopped", extra={"worker": self.name, "released": released})

    # --- claiming ---

    async def _run(self) -> None:
        failures = 0
        concurrency = self._config.concurrency
        loop = asyncio.get_running_loop()
        poll_at = loop.time()
        while not self._stopping:
            self._nudge.clear()
            self._start_ready()
            if loop.time() >= poll_at:
                self._look = True  # the poll: retries and ended leases fall due without a wake
            room = 2 * concurrency - len(self._held)
            # Claim once the messages waiting for a slot run low, as many as fit, when something may
            # be due: a wake, a full last claim, or the poll. A freed slot alone does not look again:
            # on SQLite that was a write transaction per message for nothing.
            if self._look and room > 0 and len(self._ready) <= concurrency // 2:
                self._look = False
                poll_at = loop.time() + self._config.poll_interval
                try:
                    claimed = await self._leases.claim(self.name, room, self._clock(), self._config.lease_us)
                except Exception as exc:  # the database is away: keep trying, ever more slowly
                    self._look = True
                    failures += 1
                    pause = min(self._config.poll_interval * 2**failures, CLAIM_BACKOFF_MAX)
                    log.warning(
                        "delivery workers cannot claim messages",
                        extra={"error": _describe(exc), "retry_in_s": pause},
                    )
                    await self._pause(pause)
                    continue
                failures = 0
                if self._stopping:
                    break  # what was just claimed is released by stop()
                self._hold(claimed)
                self._start_ready()
                if len(claimed) == room:
                    self._look = True
                    continue  # more may be due: claim again as soon as there is room
            await self._pause(max(poll_at - loop.time(), 0.0) or self._config.poll_interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._nudge.wait()

    def _hold(self, claimed: Iterable[Claimed]) -> None:
        for message in claimed:
            if message.key in self._held:
                continue  # its lease had ended while we still held it; the claim renewed it
            held = _Held(message)
            self._held[message.key] = held
            self._ready.append(held)

    def _start_ready(self) -> None:
        while self._ready and self._running < self._config.concurrency and not self._stopping:
            held = self._ready.popleft()
            if self._held.get(held.message.key) is not held:
                continue  # its lease was lost while it waited
            held.task = asyncio.create_task(self._deliver(held.message), name=f"deliver {held.message.id}")
            self._running += 1
            if self._metrics is not None:
                self._metrics.in_flight.inc()
            held.task.add_done_callback(functools.partial(self._finished, held))

    def _finished(self, held: _Held, _task: asyncio.Task[None]) -> None:
        key = held.message.key
        if self._held.get(key) is held:
            del self._held[key]
        self._running -= 1
        if self._metrics is not None:
            self._metrics.in_flight.dec()
        self._nudge.set()

    async def _keep_leases(self) -> None:
        period = self._config.lease / 3  # two renewals may fail before a lease ends
        while True:
            await asyncio.sleep(period)
            snapshot = list(self._held.items())
            if not snapshot:
                continue
            try:
                kept = await self._leases.extend(
                    self.name, [key for key, _ in snapshot], self._clock(), self._config.lease_us
                )
            except Exception as exc:
                log.warning("delivery workers cannot renew their leases", extra={"error": _describe(exc)})
                continue
            for key, held in snapshot:
                if key not in kept and held.cancellable and self._held.get(key) is held:
                    self._lost(held)

    def _lost(self, held: _Held) -> None:
        """Another worker may have the message now: stop the attempt (or never start it)."""
        key = held.message.key
        log.warning(
            "delivery lease lost: the attempt is stopped", extra={"instance": key[0], "message_id": key[1]}
        )
        if held.task is None:
            del self._held[key]  # still waiting for a slot; _start_ready skips it
        else:
            held.task.cancel()

    # --- one message ---

    async def _deliver(self, message: Claimed) -> None:
        try:
            await self._attempt(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database failure while recording: the lease ends, another worker retries
            where = {"instance": message.instance_id, "message_id": message.id}
            reason = outage(exc)
            if reason is not None:  # the claim loop says so too; no traceback for an outage
                log.warning(
                    "delivery attempt not recorded: the database is unavailable",
                    extra={**where, "reason": reason},
                )
            else:
                log.exception("delivery attempt failed unexpectedly", extra=where)

    async def _attempt(self, message: Claimed) -> None:
        started = self._clock()
        if message.expires_us <= started:
            await self._settle(message, Next(MessageState.EXPIRED, reason="expiry"), started)
            return
        try:
            email = self._email(message)
        except SecretError:
            log.error(
                "a message's sealed subject or body cannot be opened (was the master key replaced?)",
                extra={"instance": message.instance_id, "message_id": message.id},
            )
            await self._settle(message, Next(MessageState.FAILED, reason="sealed"), started)
            return
        routing = await self._router.routing(message.instance_id)
        route = await self._router.route(message.instance_id, routing, started)
        if isinstance(route, Wait):
            wait_until = (
                route.until_us if route.until_us is not None else started + round(NO_PROVIDER_WAIT * _US)
            )
            await self._settle(
                message, Next(MessageState.DEFERRED, min(wait_until, message.expires_us)), started
            )
            return
        result = await self._send(email, message, route)
        if result is None:  # the provider was removed meanwhile
            await self._settle(
                message, Next(MessageState.DEFERRED, started + round(GONE_WAIT * _US)), started
            )
            return
        self._mark_recording(message.key)
        await self._record(message, route, result, started)

    def _email(self, message: Claimed) -> OutgoingEmail:
        secrets_ = MessageSecrets(self._box, message.instance_id, message.id)
        return OutgoingEmail(
            message_id=message.message_id,
            to=message.recipients,
            subject=secrets_.open(SUBJECT, message.subject_sealed),
            bodies=secrets_.open_bodies(message.text_sealed, message.html_sealed),
            reply_to=message.reply_to,
            headers=message.headers,
            idempotency_key=message.idempotency_key,
            category=message.category,
        )

    async def _send(self, email: OutgoingEmail, message: Claimed, route: Route) -> AttemptResult | None:
        try:
            target = await self._targets.target(message.instance_id, route.provider_id)
        except SecretError:
            return _failure(
                ReplyClass.PROVIDER_FAULT, Stage.AUTH, "the provider's stored secret cannot be opened"
            )
        if target is None:
            return None
        try:
            return await self._sender.send(email, target)
        except asyncio.CancelledError:
            raise
        except Exception:  # the engine promises an AttemptResult; if it breaks that, retry later
            log.exception(
                "the delivery engine raised instead of reporting",
                extra={
                    "instance": message.instance_id,
                    "message_id": message.id,
                    "provider": route.provider_id,
                },
            )
            return _failure(ReplyClass.TRANSIENT, Stage.DEADLINE, "the delivery engine failed unexpectedly")

    def _mark_recording(self, key: Key) -> None:
        held = self._held.get(key)
        if held is not None:
            held.cancellable = False

    async def _settle(self, message: Claimed, next_: Next, now: int) -> None:
        if await self._recorder.record(Outcome(message, next_, now)) is None:
            log.warning(
                "delivery lease lost; nothing recorded",
                extra={"instance": message.instance_id, "message_id": message.id},
            )
            return
        if next_.state.final:
            log.warning(
                "message ended without an attempt",
                extra={
                    "instance": message.instance_id,
                    "message_id": message.id,
                    "state": next_.state.value,
                    "reason": next_.reason,
                },
            )

    async def _record(self, message: Claimed, route: Route, result: AttemptResult, started: int) -> None:
        finished = self._clock()
        number = message.attempts_made + 1
        next_ = self._schedule.after(
            result.reply_class,
            attempts_made=number,
            max_attempts=message.max_attempts,
            now_us=finished,
            expires_us=message.expires_us,
            hint=result.retry_after,
        )
        report = result.report
        row = attempt_row(
            message.instance_id,
            message.id,
            number,
            started,
            route.provider_id,
            result.reply_class,
            stage=report.stage,
            reply_code=report.reply_code,
            enhanced_status_code=report.enhanced_status_code,
            reply_text=report.reply_text,
            detail=report.detail,
            duration_ms=report.elapsed_ms,
            steps=report.steps,
        )

        def evolve(health: Health) -> Health:
            return breaker.after(health, result.reply_class, self._policy, finished)

        recorded = await self._recorder.record(Outcome(message, next_, finished, row, evolve))
        context = {
            "instance": message.instance_id,
            "message_id": message.id,
            "provider": route.provider_id,
            "attempt": number,
            "reply_class": result.reply_class.value,
            "stage": report.stage.value,
            "reply_code": report.reply_code,
            "enhanced_status_code": report.enhanced_status_code,
        }
        if recorded is None:
            log.warning("delivery lease lost; the attempt was not recorded", extra=context)
            return
        if self._metrics is not None:
            self._metrics.attempted(result.reply_class, route.provider_id, message.created_us, finished)
        _log_outcome(next_, context)
        if recorded.breaker is not None:
            self._breaker_changed(message.instance_id, recorded.breaker)

    def _breaker_changed(self, instance_id: str, change: BreakerChange) -> None:
        before, after = change.before.state, change.after.state
        if before is after:
            return
        self._router.forget()
        extra: dict[str, object] = {
            "instance": instance_id,
            "provider": change.provider_id,
            "from": before.value,
            "to": after.value,
            "consecutive_faults": change.after.consecutive_faults,
        }
        if after is BreakerState.OPEN:
            extra["cooldown_s"] = self._policy.cooldown_us / _US
            log.warning("provider breaker opened: its messages fail over", extra=extra)
        else:
            log.warning("provider breaker closed", extra=extra)


def _log_outcome(next_: Next, context: dict[str, object]) -> None:
    if next_.state is MessageState.SENT:
        log.debug("message sent", extra=context)
    elif next_.state is MessageState.DEFERRED:
        log.info("message deferred: a retry is scheduled", extra={**context, "due_us": next_.due_us})
    else:
        log.warning(f"message {next_.state.value}", extra={**context, "reason": next_.reason})


def _failure(reply_class: ReplyClass, stage: Stage, detail: str) -> AttemptResult:
    """An attempt that never reached the engine's report (mailgate's own side failed)."""
    return AttemptResult(reply_class, TestReport(stage=stage, detail=detail))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
