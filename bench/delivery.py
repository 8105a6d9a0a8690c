"""Notification delivery through a served mailgate against bare senders, side by side in one run.

The SMTP sink (bench/_smtp_sink.py) runs in its own process, requires STARTTLS and AUTH, and
reports the time of every 250 it answers; it is reached directly (loopback) and through a relay
that delays each direction (--rtt, default 10 ms round trip: a provider in the same region).
`mailgate serve` (with its delivery child) runs on SQLite and on PostgreSQL (a fresh database on
MAILGATE_TEST_DATABASE_URL's server, default postgresql://postgres@127.0.0.1:5432/test), with one
instance per link. This process is the platform calling SendEmail over gRPC and, in alternating
rounds, the senders mailgate is compared with:

- bare: aiosmtplib over as many reused connections as mailgate uses (its workers, at most its
  pool), no durability at all. aiosmtplib cannot pipeline: MAIL, RCPT, DATA and the message are 4
  round trips. The sink offers PIPELINING, as the big providers do, so mailgate sends RSET, MAIL,
  RCPT and DATA in one write, then the message: 2 round trips (RSET, which mailgate sends between
  pooled messages, costs nothing more);
- courier: one connection per message (connect, STARTTLS, AUTH, send, QUIT), one at a time.

Throughput runs from the first SendEmail to the sink's last 250. The throughput goals apply at the
round trip: on loopback nobody waits for the network, so the ratios there compare the CPU each
sender spends (printed, no goal). A third link is the round trip to a sink like the first without
PIPELINING: its ratios are printed without a goal (mailgate's RSET makes 5 round trips to
aiosmtplib's 4 there). Then, on the first two links at half the measured rate (open loop), it
prints enqueue-to-250 latency, and GetEmailProviderById's p99 (READ_RATE calls a second) against
idle, which has its goal on both. Last, a fresh server's resident memory after --memory
messages against after a tenth of them: 10000 by default, --memory=100000 is the issue's count
(10000 -> 100000, some 15 minutes at 150 messages a second), --memory=0 skips it.

    python -m bench delivery [--messages=N] [--rounds=R] [--in-flight=C] [--paced-seconds=S]
                             [--reads=N] [--memory=N] [--rtt=MS] [--backends=sqlite,postgres]
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from bench._served import PG_URL, Instance, Mailgate, fresh_postgres, served
from bench._smtp_sink import (
    HTML,
    LOCAL,
    PASSWORD,
    SENDER,
    SUBJECT,
    TEXT,
    USER,
    Arrivals,
    Certificates,
    certificates,
    sink,
)
from mailgate.gen.mailgate.v1 import delivery_pb2 as pb
from mailgate.gen.zitadel import admin_pb2 as admin

BARE_GOAL = 0.7  # served / bare, on each backend
COURIER_GOAL = 5.0  # served / courier, on each backend
ISOLATION_GOAL = 2.0  # GetEmailProviderById p99 while delivering at half rate / idle
MEMORY_GOAL = 1.1  # RSS after the memory count / after a tenth of it
IDLE_READS = 500
READERS = 2  # callers of GetEmailProviderById
READ_RATE = 100.0  # their calls per second, together
LOOPBACK = "no round trip, so this compares the CPU each sender spends, not what it waits for"
SEQUENTIAL = (
    "without PIPELINING, the RSET mailgate sends between pooled messages (delivery.md decision 10)"
    " is a fifth round trip to aiosmtplib's four: at most 0.8x"
)
WAIT = 120.0  # seconds a round's messages may take to reach the sink before it counts as broken


@dataclass(frozen=True)
class Options:
    messages: int = 1000
    rounds: int = 2
    in_flight: int = 32  # SendEmail calls in flight while measuring throughput
    paced_seconds: float = 8.0
    reads: int = IDLE_READS  # GetEmailProviderById calls measured idle
    memory: int = 10000
    rtt: float = 10.0  # milliseconds: a provider in the same region
    backends: tuple[str, ...] = ("sqlite", "postgres")

    @classmethod
    def parse(cls, argv: list[str]) -> Options:
        given = dict(
            arg.removeprefix("--").split("=", 1) for arg in argv if arg.startswith("--") and "=" in arg
        )
        default = cls()
        return cls(
            messages=int(given.get("messages", default.messages)),
            rounds=int(given.get("rounds", default.rounds)),
            in_flight=int(given.get("in-flight", default.in_flight)),
            paced_seconds=float(given.get("paced-seconds", default.paced_seconds)),
            reads=int(given.get("reads", default.reads)),
            memory=int(given.get("memory", default.memory)),
            rtt=float(given.get("rtt", default.rtt)),
            backends=tuple(given.get("backends", ",".join(default.backends)).split(",")),
        )


class Verdict:
    """Every ratio printed with its goal; whether all of them held."""

    def __init__(self) -> None:
        self.missed: list[str] = []

    def at_least(self, what: str, value: float, goal: float) -> None:
        print(f"delivery: {what} = {value:.2f}x (goal >= {goal:g}x)", flush=True)
        if value < goal:
            self.missed.append(what)

    def below(self, what: str, value: float, goal: float, strict: bool = False) -> None:
        relation = "<" if strict else "<="
        print(f"delivery: {what} = {value:.2f}x (goal {relation} {goal:g}x)", flush=True)
        if value > goal or (strict and value == goal):
            self.missed.append(what)

    def shown(self, what: str, value: float, why: str) -> None:
        print(f"delivery: {what} = {value:.2f}x (no goal: {why})", flush=True)

    def broken(self, what: str, why: str) -> None:
        print(f"delivery: {what}: not measured ({why})", flush=True)
        self.missed.append(what)


class Labels:
    """Recipients no other round uses: the sink tells rounds apart by them."""

    def __init__(self) -> None:
        self._next = 0

    def batch(self, count: int) -> list[str]:
        self._next += 1
        return [f"r{self._next}-{number}@example.com" for number in range(count)]


# --- the senders ---


def _request(recipient: str) -> pb.SendEmailRequest:
    return pb.SendEmailRequest(
        to=[recipient], subject=SUBJECT, text_body=TEXT, html_body=HTML, category="verification"
    )


@dataclass(frozen=True)
class Served:
    """A served mailgate's instance whose provider sends over one link."""

    mailgate: Mailgate
    instance: Instance

    async def send(self, recipient: str) -> None:
        await self.mailgate.delivery.SendEmail(_request(recipient), metadata=self.instance.send_auth)


async def served_rate(target: Served, arrivals: Arrivals, recipients: list[str], in_flight: int) -> float:
    """Messages per second from the first SendEmail to the sink's last 250, `in_flight` calls at once."""
    queue = list(reversed(recipients))

    async def caller() -> None:
        while queue:
            await target.send(queue.pop())

    started = time.monotonic_ns()
    await asyncio.gather(*(caller() for _ in range(in_flight)))
    last = await _arrived(target.mailgate, arrivals, recipients)
    return len(recipients) / ((last - started) / 1e9)


async def _arrived(mailgate: Mailgate, arrivals: Arrivals, recipients: list[str]) -> int:
    try:
        return await arrivals.wait_for(recipients, WAIT)
    except TimeoutError:
        missing = sum(name not in arrivals.at for name in recipients)
        raise SystemExit(
            f"delivery: {missing} of {len(recipients)} messages never reached the sink; the server's log:\n"
            f"{mailgate.log_tail()}"
        ) from None


def _email(recipient: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Bench <{SENDER}>"
    message["To"] = recipient
    message["Subject"] = SUBJECT
    message["Date"] = email.utils.formatdate()
    message["Message-ID"] = email.utils.make_msgid(domain="bench.example")
    message.set_content(TEXT)
    message.add_alternative(HTML, subtype="html")
    return message


async def _connected(port: int, certs: Certificates) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname=LOCAL,
        port=port,
        start_tls=True,
        tls_context=certs.client_context(),
        local_hostname="bare.bench",
    )
    await client.connect()
    await client.login(USER, PASSWORD)
    return client


async def bare_rate(
    port: int, certs: Certificates, arrivals: Arrivals, recipients: list[str], connections: int
) -> float:
    """aiosmtplib over `connections` reused connections, opened before the clock starts."""
    clients = [await _connected(port, certs) for _ in range(connections)]
    queue = list(reversed(recipients))

    async def push(client: aiosmtplib.SMTP) -> None:
        while queue:
            await client.send_message(_email(queue.pop()))

    started = time.monotonic_ns()
    await asyncio.gather(*(push(client) for client in clients))
    last = await arrivals.wait_for(recipients, WAIT)
    for client in clients:
        await client.quit()
    return len(recipients) / ((last - started) / 1e9)


async def courier_rate(port: int, certs: Certificates, arrivals: Arrivals, recipients: list[str]) -> float:
    """One connection per message, one message at a time (Ory Kratos' courier)."""
    started = time.monotonic_ns()
    for recipient in recipients:
        client = await _connected(port, certs)
        await client.send_message(_email(recipient))
        await client.quit()
    last = await arrivals.wait_for(recipients, WAIT)
    return len(recipients) / ((last - started) / 1e9)


# --- at half the rate: latency and the management API ---


async def _read_latencies(target: Served, keep_going: Callable[[int], bool]) -> list[float]:
    """GetEmailProviderById at READ_RATE a second (a console's reads, not a load of their own)."""
    request = admin.GetEmailProviderByIdRequest(id=target.instance.provider_id)
    latencies: list[float] = []
    auth = target.instance.admin_auth
    loop = asyncio.get_running_loop()

    async def reader(offset: float) -> None:
        at = loop.time() + offset
        while keep_going(len(latencies)):
            await asyncio.sleep(max(0.0, at - loop.time()))
            at += READERS / READ_RATE
            started = time.perf_counter()
            await target.mailgate.admin.GetEmailProviderById(request, metadata=auth)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(reader(index / READ_RATE) for index in range(READERS)))
    return latencies


async def paced(target: Served, arrivals: Arrivals, recipients: list[str], rate: float) -> list[float]:
    """SendEmail at `rate` per second on a fixed schedule (open loop: a late answer delays no later
    call); each message's seconds from its scheduled call to its 250."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    due: dict[str, int] = {}
    calls: list[asyncio.Task[None]] = []
    for number, recipient in enumerate(recipients):
        at = start + number / rate
        await asyncio.sleep(max(0.0, at - loop.time()))
        due[recipient] = round(at * 1e9)  # loop.time() is time.monotonic(): the sink's clock
        calls.append(asyncio.create_task(target.send(recipient)))
    await asyncio.gather(*calls)
    await _arrived(target.mailgate, arrivals, recipients)
    return [(arrivals.at[name] - due[name]) / 1e9 for name in recipients]


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def at_half_rate(
    label: str, target: Served, arrivals: Arrivals, labels: Labels, rate: float, options: Options
) -> float:
    """Prints latency at `rate` and returns GetEmailProviderById's p99 under it / idle."""
    await _read_latencies(target, lambda done: done < 50)  # warm up
    idle = await _read_latencies(target, lambda done: done < options.reads)
    recipients = labels.batch(max(round(rate * options.paced_seconds), 20))
    before = target.mailgate.cpu_seconds()
    sending = asyncio.ensure_future(paced(target, arrivals, recipients, rate))
    loaded = await _read_latencies(target, lambda _: not sending.done())
    latencies = sorted(await sending)
    cpu_ms = (target.mailgate.cpu_seconds() - before) / len(recipients) * 1000
    p50 = statistics.median(latencies)
    print(
        f"delivery: {label} enqueue-to-250 at {rate:.0f} msg/s (half the maximum),"
        f" {len(latencies)} messages: p50 {p50 * 1000:.1f} ms, p99 {p99(latencies) * 1000:.1f} ms;"
        f" {cpu_ms:.2f} ms serve CPU a message, the reads' included",
        flush=True,
    )
    print(
        f"delivery: {label} GetEmailProviderById p99 idle {p99(idle) * 1000:.2f} ms,"
        f" while delivering {p99(loaded) * 1000:.2f} ms ({len(loaded)} reads)",
        flush=True,
    )
    return p99(loaded) / p99(idle)


# --- memory ---


async def memory(
    folder: Path,
    certs: Certificates,
    port: int,
    arrivals: Arrivals,
    labels: Labels,
    total: int,
    in_flight: int,
) -> float:
    """A fresh server's RSS after `total` messages / after a tenth of them (all delivered each time)."""
    first = max(total // 10, 1)
    async with served(folder / "memory", certs, [port]) as mailgate:
        target = Served(mailgate, mailgate.instances[port])
        await served_rate(target, arrivals, labels.batch(first), in_flight)
        await asyncio.sleep(1.0)
        early = mailgate.rss()
        rest, done = total - first, 0
        while done < rest:  # in slices: each slice's wait looks at its own recipients only
            count = min(10000, rest - done)
            await served_rate(target, arrivals, labels.batch(count), in_flight)
            done += count
        await asyncio.sleep(1.0)
        late = mailgate.rss()
    print(
        f"delivery: serve RSS after {first} messages {early / 2**20:.1f} MiB,"
        f" after {total} {late / 2**20:.1f} MiB"
        + ("" if total >= 100000 else " (the issue's count: --memory=100000)"),
        flush=True,
    )
    return late / early


# --- the run ---


@dataclass(frozen=True)
class Link:
    """How far the sink is: its port; why the throughput goals do not apply there (None: they do);
    whether latency and GetEmailProviderById are measured there at half the rate; whether the sink
    offers PIPELINING there."""

    label: str
    port: int
    messages: int
    courier_messages: int
    no_throughput_goal: str | None
    half_rate: bool = True
    pipelining: bool = True  # the sink offers PIPELINING there


@contextlib.asynccontextmanager
async def backend_server(
    backend: str, folder: Path, certs: Certificates, ports: list[int]
) -> AsyncIterator[Mailgate]:
    if backend == "sqlite":
        async with served(folder / backend, certs, ports) as mailgate:
            yield mailgate
    elif backend == "postgres":
        async with fresh_postgres() as url, served(folder / backend, certs, ports, url) as mailgate:
            yield mailgate
    else:
        raise SystemExit(f"delivery: no backend {backend!r} (sqlite, postgres)")


async def measure(options: Options) -> Verdict:
    logging.disable(logging.INFO)
    verdict = Verdict()
    labels = Labels()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        certs = certificates(folder)
        async with (
            sink(certs, delay=options.rtt / 2000, report=True) as running,
            contextlib.AsyncExitStack() as stack,
        ):
            far = max(min(20, options.messages // 10), 5)  # courier messages, some 7 a second
            links = [
                Link("loopback", running.port, options.messages, max(options.messages // 10, 20), LOOPBACK),
                Link(
                    f"{options.rtt:g} ms round trip", running.relayed_port, options.messages // 2, far, None
                ),
                Link(
                    f"{options.rtt:g} ms round trip, no PIPELINING",
                    running.sequential_port,
                    options.messages // 2,
                    far,
                    SEQUENTIAL,
                    half_rate=False,
                    pipelining=False,
                ),
            ]
            servers: dict[str, Mailgate] = {}
            for backend in options.backends:
                try:
                    servers[backend] = await stack.enter_async_context(
                        backend_server(backend, folder, certs, [link.port for link in links])
                    )
                except OSError as exc:
                    verdict.broken(f"{backend} served", f"{PG_URL} unreachable: {exc}")
            if not servers:
                return verdict
            settings = next(iter(servers.values())).settings
            connections = min(settings.delivery_workers, settings.smtp_pool_size)
            for link in links:
                await _rounds(options, link, servers, certs, running.arrivals, labels, connections, verdict)
            if options.memory:
                ratio = await memory(
                    folder, certs, running.port, running.arrivals, labels, options.memory, options.in_flight
                )
                verdict.below(
                    "sqlite serve RSS after the memory count / after a tenth", ratio, MEMORY_GOAL, True
                )
    return verdict


async def _rounds(
    options: Options,
    link: Link,
    servers: dict[str, Mailgate],
    certs: Certificates,
    arrivals: Arrivals,
    labels: Labels,
    connections: int,
    verdict: Verdict,
) -> None:
    targets = {name: Served(mailgate, mailgate.instances[link.port]) for name, mailgate in servers.items()}
    senders: dict[str, Callable[[], Awaitable[tuple[float, float]]]] = {
        f"{name} served": _served_round(target, arrivals, labels, link.messages, options.in_flight)
        for name, target in targets.items()
    }
    senders["bare"] = _own_cpu(
        lambda: bare_rate(link.port, certs, arrivals, labels.batch(link.messages), connections), link.messages
    )
    senders["courier"] = _own_cpu(
        lambda: courier_rate(link.port, certs, arrivals, labels.batch(link.courier_messages)),
        link.courier_messages,
    )
    for target in targets.values():  # warm up: TLS contexts, the pool, the caches
        await served_rate(target, arrivals, labels.batch(50), options.in_flight)
    rates: dict[str, list[float]] = {name: [] for name in senders}
    cpu: dict[str, list[float]] = {name: [] for name in senders}
    for _ in range(options.rounds):  # alternating, so each of them sees the same machine
        for name, sender in senders.items():
            rate, cpu_ms = await sender()
            rates[name].append(rate)
            cpu[name].append(cpu_ms)
    best = {name: max(found) for name, found in rates.items()}
    print(
        f"delivery: {link.label}: {link.messages} messages x {options.rounds} rounds, STARTTLS + AUTH PLAIN,"
        f" the sink {'offers' if link.pipelining else 'does not offer'} PIPELINING"
        " (bare aiosmtplib does not pipeline),"
        f" {options.in_flight} SendEmail calls in flight, {connections} SMTP connections"
        f" (MAILGATE_DELIVERY_WORKERS, MAILGATE_SMTP_POOL_SIZE), courier {link.courier_messages} messages",
        flush=True,
    )
    for name, found in rates.items():
        shown = ", ".join(f"{rate:.0f}" for rate in found)
        where = "its serve process" if name.endswith("served") else "this process"
        print(
            f"delivery:   {name}: {best[name]:.0f} msg/s (rounds {shown});"
            f" {min(cpu[name]):.2f} ms CPU a message in {where}",
            flush=True,
        )
    for name, target in targets.items():
        served_best = best[f"{name} served"]
        where = f"{link.label} {name}"
        if link.no_throughput_goal is None:
            verdict.at_least(f"{where} served / bare", served_best / best["bare"], BARE_GOAL)
            verdict.at_least(f"{where} served / courier", served_best / best["courier"], COURIER_GOAL)
        else:
            verdict.shown(f"{where} served / bare", served_best / best["bare"], link.no_throughput_goal)
            verdict.shown(f"{where} served / courier", served_best / best["courier"], link.no_throughput_goal)
        if not link.half_rate:
            continue
        ratio = await at_half_rate(where, target, arrivals, labels, served_best / 2, options)
        verdict.below(f"{where} GetEmailProviderById p99 delivering / idle", ratio, ISOLATION_GOAL)


def _served_round(
    target: Served, arrivals: Arrivals, labels: Labels, messages: int, in_flight: int
) -> Callable[[], Awaitable[tuple[float, float]]]:
    """A round's rate, and the CPU the serve process spent on each message (ms)."""

    async def round_() -> tuple[float, float]:
        before = target.mailgate.cpu_seconds()
        rate = await served_rate(target, arrivals, labels.batch(messages), in_flight)
        return rate, (target.mailgate.cpu_seconds() - before) / messages * 1000

    return round_


def _own_cpu(
    sender: Callable[[], Awaitable[float]], messages: int
) -> Callable[[], Awaitable[tuple[float, float]]]:
    """A round's rate, and the CPU this process spent on each of its `messages` (ms)."""

    async def round_() -> tuple[float, float]:
        before = time.process_time()
        rate = await sender()
        return rate, (time.process_time() - before) / messages * 1000

    return round_


def main(argv: list[str]) -> int:
    """Run the benchmark; 0 when every goal holds."""
    verdict = asyncio.run(measure(Options.parse(argv)))
    if verdict.missed:
        print(f"delivery: missed: {', '.join(verdict.missed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
