"""`make demo`: a notification email's whole path on this machine, in one command.

It starts a local SMTP sink (aiosmtpd), `mailgate serve` on free local ports with a data directory
of its own, creates an admin and a platform token, adds and activates an SMTP provider that points
at the sink, sends one email through the DeliveryService (JSON), and prints the message's status
once the delivery workers are done, and what the sink received. Everything is stopped and removed
at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

FINAL = ("MESSAGE_STATE_SENT", "MESSAGE_STATE_FAILED", "MESSAGE_STATE_EXPIRED")
RECIPIENT = "ann@example.com"


class Sink:
    """aiosmtpd handler: keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content)
        return "250 2.0.0 Ok: queued by the demo sink"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mailgate(*args: str, env: dict[str, str]) -> str:
    """Run a `mailgate` command beside this Python; its standard output."""
    command = [str(Path(sys.executable).with_name("mailgate")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout


def say(step: str, text: str) -> None:
    print(f"{step:<9} {text}", flush=True)


def wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"mailgate serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"mailgate serve did not answer within {timeout}s")


def demo(workdir: Path, sink: Sink, sink_port: int) -> int:
    http_port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILGATE_")}
    env.update(
        MAILGATE_DATA_DIR=str(workdir / "data"),
        MAILGATE_GRPC_ADDR=f"127.0.0.1:{free_port()}",
        MAILGATE_HTTP_ADDR=f"127.0.0.1:{http_port}",
        MAILGATE_OUTBOUND_ALLOW="127.0.0.0/8",  # the sink listens on this machine
        MAILGATE_LOG_LEVEL="warning",
    )
    base = f"http://127.0.0.1:{http_port}"
    with (workdir / "serve.log").open("wb") as log:
        serve = subprocess.Popen(
            [str(Path(sys.executable).with_name("mailgate")), "serve"], env=env, stderr=log
        )
    try:
        wait_healthy(base, serve)
        say("serve", f"mailgate serve: HTTP {base}, gRPC {env['MAILGATE_GRPC_ADDR']}")
        admin = mailgate("token", "create", "--permission", "iam.write", env=env).splitlines()[-1]
        platform = mailgate("token", "create", "--permission", "email.send", env=env).splitlines()[-1]
        say("tokens", "an iam.write token (the operator) and an email.send token (the platform)")
        with httpx.Client(base_url=base, timeout=10) as client:
            return send_and_watch(client, admin, platform, sink, sink_port)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)


def send_and_watch(client: httpx.Client, admin: str, platform: str, sink: Sink, sink_port: int) -> int:
    as_admin = {"Authorization": f"Bearer {admin}"}
    provider = {
        "senderAddress": "noreply@example.com",
        "senderName": "Example",
        "host": f"127.0.0.1:{sink_port}",
        "tls": False,
        "none": {},
        "description": "the demo sink",
    }
    added = client.post("/admin/v1/email/smtp", json=provider, headers=as_admin).raise_for_status().json()
    client.post(f"/admin/v1/email/{added['id']}/_activate", json={}, headers=as_admin).raise_for_status()
    say("provider", f"{added['id']}: SMTP 127.0.0.1:{sink_port}, added and activated")

    email = {"to": [RECIPIENT], "subject": "Verify your email", "textBody": "Your code is 123456."}
    as_platform = {"Authorization": f"Bearer {platform}"}
    sent = client.post("/v1/messages", json=email, headers=as_platform).raise_for_status().json()
    message_id = sent["message"]["id"]
    say("send", f"POST /v1/messages -> message {message_id}, {sent['message']['state']}")

    deadline = time.monotonic() + 30
    while True:
        message = client.get(f"/v1/messages/{message_id}", headers=as_platform).raise_for_status().json()
        message = message["message"]
        if message["state"] in FINAL or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    last = message.get("lastAttempt", {})
    say(
        "status",
        f"GET /v1/messages/{message_id} -> {message['state']} after {message.get('attemptCount', 0)} "
        f"attempt(s): {last.get('replyCode', '')} {last.get('replyText', '')}".rstrip(),
    )
    # The message as GET shows it, less `attempts`: with one attempt it repeats `lastAttempt`.
    print(json.dumps({key: value for key, value in message.items() if key != "attempts"}, indent=2))
    for data in sink.received:
        received = message_from_bytes(data, policy=email_policy)
        say(
            "sink",
            f"received {received['Subject']!r} for {received['To']}, Message-ID {received['Message-ID']}",
        )
    return 0 if message["state"] == "MESSAGE_STATE_SENT" and sink.received else 1


def main() -> int:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    say("sink", f"an SMTP sink (aiosmtpd) on 127.0.0.1:{controller.port}")
    try:
        with tempfile.TemporaryDirectory(prefix="mailgate-demo-") as workdir:
            return demo(Path(workdir), sink, controller.port)
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
