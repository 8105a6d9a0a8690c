"""schemathesis drives the delivery routes as the platform's sender: no 5xx, every answer as documented."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.fixtures.processes import installed
from tests.fixtures.servers import RunningServer
from tests.transports.test_schemathesis import CHECKS

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_schemathesis_on_the_delivery_routes(
    server: RunningServer, backend: str, provider: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("one store is enough for the wire")
    token = await server.token("email.send")
    command = [
        installed("schemathesis", "pip install schemathesis"),
        "run",
        f"{server.http_base}/openapi.json",
        "--url",
        server.http_base,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--include-path-regex",
        "^/v1/messages",
        "--max-examples",
        "40",
        "--seed",
        "20261201",
        "--workers",
        "1",
        "--request-timeout",
        "10",
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=110)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    assert "Tested: 5" in text, text[-3000:]
