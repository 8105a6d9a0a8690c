"""Pooled SMTP delivery vs one connection per message, side by side in one run.

An aiosmtpd server in its own process requires STARTTLS and AUTH (its certificate from a trustme
CA); the same process relays a second port to it with a delay each way, as a provider some
milliseconds away. This process sends the same notifications through mailgate's DeliveryEngine in
alternating rounds:

- pooled: the pool as configured by default, CONCURRENCY sends in flight;
- one connection per message, CONCURRENCY in flight: MAILGATE_SMTP_POOL_MESSAGES=1, so every
  message opens, secures and authenticates its own connection;
- the courier: one connection per message, one message at a time (Ory Kratos' courier design).

It prints messages per second for each and the ratios, on loopback and at RTT_MS round trip.

    python -m bench delivery_pool [--messages=N] [--rounds=R] [--rtt=MS]
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailgate.config import Settings
from mailgate.delivery.deliver import DeliveryEngine
from mailgate.delivery.sending import OutgoingEmail, SmtpTarget
from mailgate.outbox.model import Bodies, ReplyClass
from mailgate.providers.auth import PlainAuth
from mailgate.providers.model import SmtpSettings
from mailgate.providers.sealing import Secret

GOAL = 5.0  # issue 10: the whole path >= 5x a sender that opens a connection per message
NAME = "mail.bench"
USER, PASSWORD = "bench@example.com", "bench-Passw0rd-1"
CONCURRENCY = 5  # sends in flight, and the pool's size
RTT_MS = 10.0  # the relayed provider's round trip: one in the same region


def serve(cert_file: str, key_file: str, delay: float) -> None:
    """The SMTP server (run as a child process): STARTTLS required, AUTH PLAIN/LOGIN after it; a relay
    to it delaying each direction by `delay` seconds; prints both ports, discards what it receives,
    and stops when stdin closes."""

    class Discard:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 2.0.0 Ok: discarded"

    def check(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
        return AuthResult(success=data == LoginPassword(USER.encode(), PASSWORD.encode()), auth_data=data)

    warnings.simplefilter("ignore", DeprecationWarning)  # aiosmtpd's own, about Session.login_data
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    controller = Controller(
        Discard(),
        hostname="127.0.0.1",
        port=0,
        server_hostname=NAME,
        authenticator=check,
        tls_context=context,
        require_starttls=True,
    )
    # Controller has no free-port mode of its own: bind first, then hand over the socket's port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        controller.port = probe.getsockname()[1]
    controller.start()
    loop = asyncio.new_event_loop()
    relay = loop.run_until_complete(asyncio.start_server(_relay(controller.port, delay), "127.0.0.1", 0))
    print(controller.port, relay.sockets[0].getsockname()[1], flush=True)

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        controller.stop()
        os._exit(0)  # the relay's connections go with the process; nothing in it needs a goodbye

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    loop.run_forever()


def _relay(
    port: int, delay: float
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A TCP relay to 127.0.0.1:`port` that delivers every chunk `delay` seconds after it arrived."""

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    writer.close()
                    return
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(data)

        delivering = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + delay, data))
        except OSError:
            pass
        queue.put_nowait((0.0, b""))
        await delivering

    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer), return_exceptions=True)

    return connect


async def _resolve(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def _rate(settings: Settings, host: str, messages: int, in_flight: int) -> float:
    """Messages per second through a fresh engine, `in_flight` at a time."""
    engine = DeliveryEngine(settings, resolver=_resolve)
    target = SmtpTarget(
        "bench",
        SmtpSettings("noreply@bench.example", "Bench", host, tls=True, user=USER),
        PlainAuth(password=Secret(PASSWORD)),
    )
    queue = list(range(messages))
    failures: list[str] = []

    async def worker() -> None:
        while queue:
            number = queue.pop()
            email = OutgoingEmail(
                message_id=f"<{number}.{time.monotonic_ns()}@bench.example>",
                to=(f"user{number}@example.com",),
                subject="Your verification code",
                bodies=Bodies("Your code is 123456.\n", "<p>Your code is <b>123456</b>.</p>\n"),
            )
            result = await engine.send(email, target)
            if result.reply_class is not ReplyClass.DELIVERED:
                failures.append(f"{result.report.stage}: {result.report.detail}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    await engine.close()
    if failures:
        raise SystemExit(f"delivery_pool: {len(failures)} messages failed, first: {failures[0]}")
    return messages / elapsed


async def _compare(settings: dict[str, object], host: str, messages: int, rounds: int, where: str) -> float:
    """Alternating rounds of the three senders; prints the best of each and returns pooled/courier."""
    pooled = Settings.from_env({}, **settings)
    unpooled = Settings.from_env({}, **settings, smtp_pool_messages=1)
    senders = {
        "pooled": (pooled, CONCURRENCY),
        "one connection per message": (unpooled, CONCURRENCY),
        "courier (one at a time)": (unpooled, 1),
    }
    rates: dict[str, list[float]] = {name: [] for name in senders}
    await _rate(pooled, host, CONCURRENCY * 2, CONCURRENCY)  # warm up: TLS contexts, the server
    for _ in range(rounds):  # alternating, so all of them see the same machine
        for name, (chosen, in_flight) in senders.items():
            rates[name].append(await _rate(chosen, host, messages, in_flight))
    best = {name: max(found) for name, found in rates.items()}
    print(f"delivery_pool: {where}, {messages} messages x {rounds} rounds, STARTTLS + AUTH PLAIN")
    for name, found in rates.items():
        shown = ", ".join(f"{rate:.0f}" for rate in found)
        print(f"delivery_pool:   {name}: {best[name]:.0f} msg/s (rounds {shown})")
    same = best["pooled"] / best["one connection per message"]
    courier = best["pooled"] / best["courier (one at a time)"]
    print(
        f"delivery_pool:   pooled / one connection per message ({CONCURRENCY} in flight each) = {same:.1f}x"
    )
    print(f"delivery_pool:   pooled / courier = {courier:.1f}x (goal >= {GOAL:g}x)")
    return courier


async def measure(messages: int, rounds: int, rtt_ms: float) -> float:
    """Both comparisons, on loopback and through the delaying relay; the smaller pooled/courier ratio."""
    logging.disable(logging.INFO)  # one line per attempt would measure the log, not the pool
    with tempfile.TemporaryDirectory() as directory:
        ca = trustme.CA()
        ca_file, cert_file, key_file = (str(Path(directory) / name) for name in ("ca.pem", "c.pem", "k.pem"))
        ca.cert_pem.write_to_path(ca_file)
        issued = ca.issue_cert(NAME)
        issued.cert_chain_pems[0].write_to_path(cert_file)
        issued.private_key_pem.write_to_path(key_file)
        delay = str(rtt_ms / 2000)
        server = subprocess.Popen(
            [sys.executable, __file__, "serve", cert_file, key_file, delay],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            direct, relayed = server.stdout.readline().split()
            settings: dict[str, object] = {
                "smtp_ca_file": Path(ca_file),
                "smtp_helo_name": "client.bench",
                "outbound_allow": (ipaddress.ip_network("127.0.0.0/8"),),
                "smtp_pool_size": CONCURRENCY,
            }
            local = await _compare(settings, f"{NAME}:{direct}", messages, rounds, "loopback")
            # Fewer messages and one round: the courier needs some 14 round trips a message.
            remote = await _compare(
                settings, f"{NAME}:{relayed}", max(messages // 2, 10), 1, f"{rtt_ms:g} ms round trip"
            )
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=30)
    return min(local, remote)


def main(argv: list[str]) -> int:
    """Run the benchmark; 0 when the pool beats the courier by the goal, on loopback and remote."""
    options = dict(
        arg.removeprefix("--").split("=", 1) for arg in argv if arg.startswith("--") and "=" in arg
    )
    messages, rounds = int(options.get("messages", 200)), int(options.get("rounds", 2))
    ratio = asyncio.run(measure(messages, rounds, float(options.get("rtt", RTT_MS))))
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(main(sys.argv[1:]))
