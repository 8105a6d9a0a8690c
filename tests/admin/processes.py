"""`mailgate` as a user runs it: the console script in a subprocess, with only MAILGATE_* settings."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def mailgate_command() -> list[str]:
    script = Path(sys.executable).with_name("mailgate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mailgate.cli"]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any MAILGATE_* variable, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAILGATE_")}
    env.update(settings)
    return env


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*mailgate_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def create_token(env: dict[str, str], permission: str = "iam.write", instance: str = "default") -> str:
    """`mailgate token create`; the token is alone on the last line of stdout."""
    done = run_cli(["token", "create", "--permission", permission, "--instance", instance], env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running `mailgate serve`; its stderr (JSON log lines) goes to `log_path`."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def launch(cls, env: dict[str, str], log_path: Path, cwd: Path | None = None) -> Served:
        """Start `mailgate serve` on a free local port; `wait_serving` tells when it answers."""
        port = free_port()
        env = {"MAILGATE_HTTP_ADDR": "127.0.0.1:0", **env, "MAILGATE_GRPC_ADDR": f"127.0.0.1:{port}"}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*mailgate_command(), "serve"], env=env, cwd=cwd, stdout=log, stderr=log
            )
        return cls(process, port, log_path)

    @classmethod
    def start(cls, env: dict[str, str], log_path: Path, cwd: Path | None = None) -> Served:
        served = cls.launch(env, log_path, cwd)
        served.wait_serving()
        return served

    def wait_serving(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"mailgate serve exited with {self.process.returncode}:\n{self.log()}"
                    )
                try:
                    answer = health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                    if answer.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"mailgate serve did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                lines.append({"unparsed": line})
        return lines

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
