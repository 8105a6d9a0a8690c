"""The SMTP sink the delivery benchmarks send to, in a process of its own.

An aiosmtpd server requiring STARTTLS, then AUTH PLAIN/LOGIN with USER and PASSWORD, its
certificate (for NAME and 127.0.0.1) from a trustme CA. Its EHLO offers PIPELINING (RFC 2920), as
Gmail, SES, SendGrid, Mailgun and Postmark do: aiosmtpd reads commands line by line from a buffered
stream and answers each in order, so a client may send several in one write. Beside it a TCP
relay to it that delays each direction, as a provider some milliseconds away; and a second server,
the same but without PIPELINING, behind a relay of its own (what mailgate does when it cannot
pipeline). They discard what they receive; with `report` the sink also writes one line per
accepted message to stdout: the first recipient, the time of its 250 (time.monotonic_ns, the same
clock in every process of the machine) and the client's port.

    async with sink(certificates(folder), delay=0.005, report=True) as running: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAME = "mail.bench"
LOCAL = "127.0.0.1"
USER, PASSWORD = "bench@example.com", "bench-Passw0rd-1"
SENDER = "noreply@bench.example"
SUBJECT = "Your verification code"
TEXT = "Your code is 123456.\n"
HTML = "<p>Your code is <b>123456</b>.</p>\n"
FLUSH_EVERY = 0.005  # seconds between flushes of the report lines


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def certificates(folder: Path) -> Certificates:
    """A fresh trustme CA and a leaf for NAME and LOCAL, written into `folder`."""
    import trustme  # only the parent needs it

    ca = trustme.CA()
    made = Certificates(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    ca.cert_pem.write_to_path(str(made.ca_file))
    issued = ca.issue_cert(NAME, LOCAL)
    made.cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(made.key_file))
    return made


@dataclass
class Arrivals:
    """What a reporting sink accepted: recipient -> time of its 250 (ns), and the client ports."""

    at: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, line: str) -> None:
        recipient, at, port = line.split()
        self.at[recipient] = int(at)
        self.ports[recipient] = int(port)
        self._changed.set()

    async def wait_for(self, recipients: list[str], timeout: float) -> int:
        """The time (ns) the last of `recipients` was accepted; waits up to `timeout` seconds."""
        missing = set(recipients)
        async with asyncio.timeout(timeout):
            while True:
                missing = {name for name in missing if name not in self.at}
                if not missing:
                    return max(self.at[name] for name in recipients)
                self._changed.clear()
                await self._changed.wait()

    def connections(self, recipients: list[str]) -> int:
        """How many client connections carried `recipients` (distinct client ports)."""
        return len({self.ports[name] for name in recipients if name in self.ports})


@dataclass
class RunningSink:
    port: int  # the server itself
    relayed_port: int  # through the delaying relay
    sequential_port: int  # through a relay too, to a server like it that does not offer PIPELINING
    arrivals: Arrivals


@contextlib.asynccontextmanager
async def sink(certs: Certificates, delay: float = 0.0, report: bool = False) -> AsyncIterator[RunningSink]:
    """The sink running in a child process; stopped (stdin closed) on leaving."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        str(certs.cert_file),
        str(certs.key_file),
        str(delay),
        "report" if report else "quiet",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    port, relayed, sequential = (await process.stdout.readline()).split()
    arrivals = Arrivals()

    async def read() -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            arrivals.add(line.decode())

    reader = asyncio.create_task(read())
    try:
        yield RunningSink(int(port), int(relayed), int(sequential), arrivals)
    finally:
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 30)
        await reader


def serve(cert_file: str, key_file: str, delay: float, report: bool) -> None:
    """The child process: the servers and their relays; prints the ports, stops when stdin closes."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    out = sys.stdout
    writing = threading.Lock()  # the server's thread writes lines, the flusher flushes them

    class Discard:
        def __init__(self, pipelining: bool) -> None:
            self.pipelining = pipelining

        async def handle_EHLO(
            self, server: object, session: Any, envelope: object, hostname: str, responses: list[str]
        ) -> list[str]:
            session.host_name = hostname  # aiosmtpd leaves it to a handler with this hook
            if not self.pipelining:
                return responses
            # Before the last line ("250 HELP"): only the last has a space after its code.
            return [*responses[:-1], "250-PIPELINING", responses[-1]]

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            if report:
                peer = getattr(session, "peer", ("", 0))
                rcpt = getattr(envelope, "rcpt_tos", ["?"])[0]
                with writing:
                    out.write(f"{rcpt} {time.monotonic_ns()} {peer[1]}\n")
            return "250 2.0.0 Ok: discarded"

    def check(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
        return AuthResult(success=data == LoginPassword(USER.encode(), PASSWORD.encode()), auth_data=data)

    # aiosmtpd's own complaint about Session.login_data, logged at every AUTH.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    def started(pipelining: bool) -> Controller:
        controller = Controller(
            Discard(pipelining),
            hostname=LOCAL,
            port=0,
            server_hostname=NAME,
            authenticator=check,
            tls_context=context,
            require_starttls=True,
        )
        # Controller has no free-port mode of its own: bind first, then hand over the socket's port.
        with socket.socket() as probe:
            probe.bind((LOCAL, 0))
            controller.port = probe.getsockname()[1]
        controller.start()
        return controller

    controllers = [started(pipelining=True), started(pipelining=False)]
    loop = asyncio.new_event_loop()
    relays = [
        loop.run_until_complete(asyncio.start_server(_relay(controller.port, delay), LOCAL, 0))
        for controller in controllers
    ]
    ports = [controllers[0].port, *(relay.sockets[0].getsockname()[1] for relay in relays)]
    print(*ports, flush=True)

    def flush() -> None:  # a line per message, written in batches: the sink's own cost stays small
        while True:
            time.sleep(FLUSH_EVERY)
            with writing:
                out.flush()

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        with writing:
            out.flush()
        for controller in controllers:
            controller.stop()
        os._exit(0)  # the relay's connections go with the process; nothing in it needs a goodbye

    if report:
        threading.Thread(target=flush, daemon=True).start()
    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    loop.run_forever()


def _relay(
    port: int, delay: float
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A TCP relay to LOCAL:`port` that delivers every chunk `delay` seconds after it arrived."""

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
        up_reader, up_writer = await asyncio.open_connection(LOCAL, port)
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer), return_exceptions=True)

    return connect


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == "report")
